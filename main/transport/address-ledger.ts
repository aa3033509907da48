/**
 * What the transport remembers per remote IP address: failed proofs (and the
 * hold-off they earn), the node ids proven from it, and a log budget. Capped
 * at MAX_TRACKED_PEER_ADDRESSES entries; the least recently seen go first.
 */
import {
  MAX_PEER_IDS_PER_ADDRESS,
  MAX_TRACKED_PEER_ADDRESSES,
  PEER_IDS_PER_ADDRESS_WINDOW_MS,
  PROOF_FAILURE_HOLD_OFF_MS,
  PROOF_FAILURE_LOGS_PER_MINUTE,
  PROOF_FAILURE_WINDOW_MS,
  PROOF_FAILURES_BEFORE_HOLD_OFF,
} from '../model/limits.js';

interface Entry {
  failures: number[];
  heldUntil: number;
  /** Proven ids and when each was last proven from here. */
  ids: Map<string, number>;
  logMinute: number;
  logsThisMinute: number;
}

export interface LedgerOptions {
  /** Count ids per address for loopback addresses too (tests of the limit; default: exempt). */
  limitLoopback?: boolean;
  now?: () => number;
}

export function isLoopbackIp(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export class AddressLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: LedgerOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Until when `ip` is refused, or 0. */
  heldUntil(ip: string): number {
    const e = this.entries.get(ip);
    return e && e.heldUntil > this.now() ? e.heldUntil : 0;
  }

  /** Counts a failed proof; true if the address is now held off. */
  proofFailed(ip: string): boolean {
    const now = this.now();
    const e = this.touch(ip);
    e.failures = e.failures.filter((t) => now - t < PROOF_FAILURE_WINDOW_MS);
    e.failures.push(now);
    if (e.failures.length >= PROOF_FAILURES_BEFORE_HOLD_OFF) {
      e.heldUntil = now + PROOF_FAILURE_HOLD_OFF_MS;
      e.failures = [];
      return true;
    }
    return false;
  }

  /**
   * A proof of `id` from `ip` succeeded: false if that would make more than
   * MAX_PEER_IDS_PER_ADDRESS distinct ids from there within the window.
   */
  admitId(ip: string, id: string): boolean {
    if (!this.options.limitLoopback && isLoopbackIp(ip)) return true;
    const now = this.now();
    const e = this.touch(ip);
    for (const [known, at] of e.ids) if (now - at > PEER_IDS_PER_ADDRESS_WINDOW_MS) e.ids.delete(known);
    if (!e.ids.has(id) && e.ids.size >= MAX_PEER_IDS_PER_ADDRESS) return false;
    e.ids.set(id, now);
    return true;
  }

  /** Whether one more proof-failure line for `ip` may be logged now. */
  mayLog(ip: string): boolean {
    const e = this.touch(ip);
    const minute = Math.floor(this.now() / 60_000);
    if (e.logMinute !== minute) {
      e.logMinute = minute;
      e.logsThisMinute = 0;
    }
    return ++e.logsThisMinute <= PROOF_FAILURE_LOGS_PER_MINUTE;
  }

  private touch(ip: string): Entry {
    let e = this.entries.get(ip);
    if (e) {
      this.entries.delete(ip); // re-insert: Map order is our recency order
    } else {
      e = { failures: [], heldUntil: 0, ids: new Map(), logMinute: 0, logsThisMinute: 0 };
      if (this.entries.size >= MAX_TRACKED_PEER_ADDRESSES) {
        // Forget the least recently seen address that is not held off, else the oldest.
        const now = this.now();
        let victim: string | undefined;
        for (const [key, value] of this.entries) {
          if (value.heldUntil <= now) {
            victim = key;
            break;
          }
        }
        this.entries.delete(victim ?? this.entries.keys().next().value!);
      }
    }
    this.entries.set(ip, e);
    return e;
  }
}
