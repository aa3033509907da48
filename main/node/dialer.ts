/**
 * Keeps the node linked to the addresses it was given: dials each one,
 * and after a failure or a lost link dials again with exponential backoff
 * and jitter (RECONNECT_MIN_MS doubling up to RECONNECT_MAX_MS), reset by
 * success. An address whose peer is linked (either direction) is not dialled.
 */
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../model/limits.js';
import { DialError, type Transport } from '../transport/transport.js';
import type { DialTarget } from '../bridge/api.js';

interface TargetState extends DialTarget {
  timer: ReturnType<typeof setTimeout> | null;
  dialling: boolean;
  givenUp: boolean;
}

export interface DialerHooks {
  isLinked(peerId: string): boolean;
  log(level: 'info' | 'warn', message: string): void;
  random: () => number;
}

/** Delay before the attempt that follows `failures` consecutive failures. */
export function backoffDelay(failures: number, random: () => number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.max(0, failures - 1));
  // Jitter in [0.75, 1.25] spreads the redials of many nodes that lost the same peer.
  return Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_MIN_MS, base * (0.75 + 0.5 * random())));
}

export class Dialer {
  private readonly targets = new Map<string, TargetState>();
  private stopped = false;

  constructor(
    private readonly transport: Transport,
    private readonly hooks: DialerHooks,
  ) {}

  /** Adds an address to keep linked and dials it at once. Returns false if it was known. */
  add(address: string): boolean {
    if (this.targets.has(address) || this.stopped) return false;
    const target: TargetState = { address, peerId: null, failures: 0, lastError: null, nextDialAt: null, timer: null, dialling: false, givenUp: false };
    this.targets.set(address, target);
    this.schedule(target, 0);
    return true;
  }

  /**
   * Dials a known address again now instead of waiting out its backoff (LAN
   * discovery just heard its peer again). Keeps the failure count, so a peer
   * that is announced but unreachable still backs off. False if the address
   * is unknown, linked, being dialled, or is this node.
   */
  redial(address: string): boolean {
    const target = this.targets.get(address);
    if (!target || this.stopped || target.dialling || target.givenUp) return false;
    if (target.peerId && this.hooks.isLinked(target.peerId)) return false;
    this.schedule(target, 0);
    return true;
  }

  list(): DialTarget[] {
    return [...this.targets.values()].map(({ address, peerId, failures, lastError, nextDialAt }) => ({ address, peerId, failures, lastError, nextDialAt }));
  }

  /** The node lost its link to `peerId`: dial its address again soon. */
  linkLost(peerId: string): void {
    for (const target of this.targets.values()) {
      if (target.peerId === peerId && !target.dialling && !target.givenUp) this.schedule(target, backoffDelay(1, this.hooks.random));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const target of this.targets.values()) if (target.timer) clearTimeout(target.timer);
  }

  private schedule(target: TargetState, delay: number): void {
    if (this.stopped) return;
    if (target.timer) clearTimeout(target.timer);
    target.nextDialAt = Date.now() + delay;
    target.timer = setTimeout(() => void this.attempt(target), delay);
    target.timer.unref?.();
  }

  private async attempt(target: TargetState): Promise<void> {
    target.timer = null;
    target.nextDialAt = null;
    if (this.stopped || target.dialling) return;
    if (target.peerId && this.hooks.isLinked(target.peerId)) return;
    target.dialling = true;
    try {
      const peerId = await this.transport.dial(target.address);
      if (target.peerId && target.peerId !== peerId) {
        this.hooks.log('info', `${target.address} is now node ${peerId} (was ${target.peerId})`);
      }
      target.peerId = peerId;
      target.failures = 0;
      target.lastError = null;
    } catch (err) {
      if (this.stopped) return;
      const dialError = err instanceof DialError ? err : new DialError('unreachable', String(err));
      if (dialError.code === 'self') {
        target.givenUp = true;
        target.lastError = dialError.message;
        this.hooks.log('warn', `not dialling ${target.address}: it is this node`);
        return;
      }
      if (dialError.code === 'duplicate') return; // already linked: nothing to do
      target.failures++;
      target.lastError = dialError.message;
      const delay = backoffDelay(target.failures, this.hooks.random);
      if (target.failures === 1 || target.failures % 10 === 0) {
        this.hooks.log('warn', `cannot reach ${target.address}: ${dialError.message}; retrying in ${(delay / 1000).toFixed(1)} s`);
      }
      this.schedule(target, delay);
    } finally {
      target.dialling = false;
    }
  }
}
