/**
 * Keeps the node linked to the addresses it was given: dials each one,
 * and after a failure or a lost link dials again with exponential backoff
 * and jitter (RECONNECT_MIN_MS doubling up to RECONNECT_MAX_MS), reset by
 * success. An address whose peer is linked (either direction) is not dialled.
 *
 * The degree cap (docs/lan-discovery.md, "The degree cap"):
 * - a node with no free peer slot does not dial: an address that comes due
 *   then looks again after PEER_LIMIT_RECHECK_MS, and no more dials run at
 *   once than there are free slots;
 * - a link dropped for a peer limit (we dropped it, or the peer said `bye`
 *   'over peer limit') puts that peer on hold: not dialled, and not
 *   admitted either (the node's admission asks isHeld), for
 *   PEER_LIMIT_BACKOFF_MS, doubling each time it happens again, instead of
 *   being redialled after a second; not even a redial (discovery heard the
 *   peer again) skips the hold;
 * - a node dropped by a full peer that still has other links waits
 *   PEER_LIMIT_REPLACE_WAIT_MS before dialling a replacement (one with no
 *   link left dials at once).
 */
import {
  DIAL_START_JITTER_MS,
  PEER_LIMIT_BACKOFF_MAX_MS,
  PEER_LIMIT_BACKOFF_MS,
  PEER_LIMIT_RECHECK_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
} from '../model/limits.js';
import { DialError, type Transport } from '../transport/transport.js';
import type { DialTarget } from '../bridge/api.js';
import { unref } from './unref.js';

interface TargetState extends DialTarget {
  timer: ReturnType<typeof setTimeout> | null;
  dialling: boolean;
  givenUp: boolean;
  /** Put off only because this node was at its peer limit: due again as soon as a link goes. */
  waitingForSlot: boolean;
}

/** A peer not to link with until `until` (Date.now() ms), after `drops` consecutive peer-limit drops. */
interface Hold {
  drops: number;
  until: number;
  /** 'peer-limit': anti-churn, waived for a node left alone; 'cut-off': trust, bursts, blocks, never waived. */
  kind: 'peer-limit' | 'cut-off';
}

export interface DialerHooks {
  isLinked(peerId: string): boolean;
  /** How many more links the node may open now: maxPeers minus its open links (0 or less when full). */
  freeSlots(): number;
  /** Open links the node has now. */
  linkCount(): number;
  log(level: 'info' | 'warn', message: string): void;
  random: () => number;
}

/** Why a link went away, as far as the dialer cares. */
export type LinkLoss = 'lost' | 'peer-limit';

/** Delay before the attempt that follows `failures` consecutive failures. */
export function backoffDelay(failures: number, random: () => number): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.max(0, failures - 1));
  // Jitter in [0.75, 1.25] spreads the redials of many nodes that lost the same peer.
  return Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_MIN_MS, base * (0.75 + 0.5 * random())));
}

/** How long a peer is held after its `drops`-th consecutive drop for a peer limit. */
export function peerLimitDelay(drops: number, random: () => number): number {
  const base = Math.min(PEER_LIMIT_BACKOFF_MAX_MS, PEER_LIMIT_BACKOFF_MS * 2 ** Math.max(0, drops - 1));
  return Math.min(PEER_LIMIT_BACKOFF_MAX_MS, base * (0.75 + 0.5 * random()));
}

function jittered(ms: number, random: () => number): number {
  return ms * (0.75 + 0.5 * random());
}

export class Dialer {
  private readonly targets = new Map<string, TargetState>();
  /** Peers on hold after a peer-limit drop, by id; an entry goes once its hold ended longer ago than the longest hold. */
  private readonly holds = new Map<string, Hold>();
  /** When the open link to each peer opened (Date.now() ms), to tell a long-lived link from a bouncing one. */
  private readonly linkedAt = new Map<string, number>();
  private stopped = false;
  /** Dials wait until then while the node has other links (see holdReplacements). */
  private replaceHoldUntil = 0;

  constructor(
    private readonly transport: Transport,
    private readonly hooks: DialerHooks,
  ) {}

  /**
   * Adds an address to keep linked and dials it soon (within
   * DIAL_START_JITTER_MS, or when the peer's hold ends). `peerId`, when the
   * caller knows whom it expects there (discovery does), lets a hold apply
   * before the first dial. Returns false if the address was known.
   */
  add(address: string, peerId: string | null = null): boolean {
    if (this.targets.has(address) || this.stopped) return false;
    const target: TargetState = { address, peerId, failures: 0, lastError: null, nextDialAt: null, timer: null, dialling: false, givenUp: false, waitingForSlot: false };
    this.targets.set(address, target);
    this.schedule(target, Math.max(this.hooks.random() * DIAL_START_JITTER_MS, this.heldFor(peerId)));
    return true;
  }

  /**
   * Dials a known address again now instead of waiting out its backoff (LAN
   * discovery just heard its peer again). Keeps the failure count, so a peer
   * that is announced but unreachable still backs off. False if the address
   * is unknown, linked, being dialled, is this node, its peer is on hold, or
   * this node has no free peer slot.
   */
  redial(address: string): boolean {
    const target = this.targets.get(address);
    if (!target || this.stopped || target.dialling || target.givenUp) return false;
    if (target.peerId && (this.hooks.isLinked(target.peerId) || this.isHeld(target.peerId))) return false;
    if (this.hooks.freeSlots() <= 0) return false;
    this.schedule(target, 0);
    return true;
  }

  /** Forgets an address: no more dials to it (a dial in flight finishes). False if it was unknown. */
  remove(address: string): boolean {
    const target = this.targets.get(address);
    if (!target) return false;
    if (target.timer) clearTimeout(target.timer);
    target.timer = null;
    this.targets.delete(address);
    return true;
  }

  list(): DialTarget[] {
    return [...this.targets.values()].map(({ address, peerId, failures, lastError, nextDialAt }) => ({ address, peerId, failures, lastError, nextDialAt }));
  }

  /**
   * True while `peerId` is on hold (after a peer-limit drop, or cut off):
   * the node neither dials nor admits it. `dialerAlone`: the peer says it has
   * no other link; a peer-limit hold is waived then (leaving it alone helps
   * nobody), a cut-off never is.
   */
  isHeld(peerId: string, dialerAlone = false): boolean {
    if (this.heldFor(peerId) === 0) return false;
    return !(dialerAlone && this.holds.get(peerId)!.kind === 'peer-limit');
  }

  /** A link to `peerId` opened (either direction). */
  linkOpened(peerId: string): void {
    this.linkedAt.set(peerId, Date.now());
  }

  /**
   * The node lost its link to `peerId`: dial its address again soon, or,
   * when the link was dropped for a peer limit, put the peer on hold and
   * dial it only when the hold ends.
   */
  linkLost(peerId: string, why: LinkLoss = 'lost'): void {
    const now = Date.now();
    const openedAt = this.linkedAt.get(peerId);
    this.linkedAt.delete(peerId);
    let delay = backoffDelay(1, this.hooks.random);
    for (const [id, hold] of this.holds) if (now - hold.until > PEER_LIMIT_BACKOFF_MAX_MS) this.holds.delete(id);
    const heldLeft = this.heldFor(peerId);
    if (heldLeft > 0 && why !== 'peer-limit') {
      // Cut off or blocked: the hold decides when (if ever) to dial again.
      for (const target of this.targets.values()) if (target.peerId === peerId && !target.dialling && !target.givenUp && Number.isFinite(heldLeft)) this.schedule(target, heldLeft);
      return;
    }
    if (why === 'peer-limit') {
      const previous = this.holds.get(peerId);
      // A link that lasted longer than the longest hold was a good one: the doubling starts over.
      const longLived = openedAt !== undefined && now - openedAt > PEER_LIMIT_BACKOFF_MAX_MS;
      const drops = previous && !longLived ? previous.drops + 1 : 1;
      delay = peerLimitDelay(drops, this.hooks.random);
      this.holds.set(peerId, { drops, until: now + delay, kind: 'peer-limit' });
    }
    for (const target of this.targets.values()) {
      if (target.peerId !== peerId || target.dialling || target.givenUp) continue;
      if (why === 'peer-limit') target.lastError = `link dropped for a peer limit; not dialled for ${Math.round(delay / 1000)} s`;
      this.schedule(target, delay);
    }
    // A slot is free now: addresses put off only for want of one are due at once (jittered, so
    // nodes that lost links together do not all dial in the same millisecond).
    for (const target of this.targets.values()) {
      if (!target.waitingForSlot || target.dialling || target.givenUp || target.peerId === peerId) continue;
      target.waitingForSlot = false;
      this.schedule(target, this.hooks.random() * DIAL_START_JITTER_MS);
    }
    if (this.hooks.linkCount() === 0) {
      // Left with no link: peer-limit holds are waived (heldFor), so every address they pushed back is due now.
      for (const target of this.targets.values()) {
        const hold = target.peerId ? this.holds.get(target.peerId) : undefined;
        if (target.dialling || target.givenUp || hold?.kind !== 'peer-limit') continue;
        this.schedule(target, backoffDelay(1, this.hooks.random));
      }
    }
  }

  /**
   * Holds `peerId` off for `ms` (Infinity: until release): the node neither
   * dials nor admits it meanwhile. For a peer cut off for low trust, a burst
   * of invalid frames, or blocked by the user. `why` is shown on its dial targets.
   */
  hold(peerId: string, ms: number, why: string): void {
    const until = Date.now() + ms;
    const previous = this.holds.get(peerId);
    this.holds.set(peerId, { drops: previous?.drops ?? 0, until: Math.max(until, previous?.until ?? 0), kind: 'cut-off' });
    for (const target of this.targets.values()) {
      if (target.peerId !== peerId || target.dialling || target.givenUp) continue;
      target.lastError = Number.isFinite(ms) ? `${why}; not dialled for ${Math.round(ms / 1000)} s` : why;
      if (Number.isFinite(ms)) this.schedule(target, ms);
      else if (target.timer) {
        clearTimeout(target.timer);
        target.timer = null;
        target.nextDialAt = null;
      }
    }
  }

  /** Ends a hold early (the user unblocked the peer): its addresses are dialled again soon. */
  release(peerId: string): void {
    if (!this.holds.delete(peerId)) return;
    for (const target of this.targets.values()) if (target.peerId === peerId && !target.dialling && !target.givenUp) this.schedule(target, backoffDelay(1, this.hooks.random));
  }

  /**
   * A full peer dropped us: while this node still has links, new dials
   * wait about `ms` (with jitter), so a node one link short does not bounce
   * from one full node to the next every second.
   */
  holdReplacements(ms: number): void {
    this.replaceHoldUntil = Math.max(this.replaceHoldUntil, Date.now() + jittered(ms, this.hooks.random));
  }

  stop(): void {
    this.stopped = true;
    for (const target of this.targets.values()) if (target.timer) clearTimeout(target.timer);
  }

  /** Milliseconds left on `peerId`'s hold (0 if none; a peer-limit hold does not count while this node has no link). */
  private heldFor(peerId: string | null): number {
    if (peerId === null) return 0;
    const hold = this.holds.get(peerId);
    if (!hold) return 0;
    if (hold.kind === 'peer-limit' && this.hooks.linkCount() === 0) return 0;
    const left = hold.until - Date.now();
    return left > 0 ? left : 0;
  }

  private schedule(target: TargetState, delay: number): void {
    if (this.stopped || this.targets.get(target.address) !== target) return; // stopped, or removed while a dial was in flight
    if (target.timer) clearTimeout(target.timer);
    target.nextDialAt = Date.now() + delay;
    target.timer = setTimeout(() => void this.attempt(target), delay);
    unref(target.timer);
  }

  private inFlight(): number {
    let n = 0;
    for (const target of this.targets.values()) if (target.dialling) n++;
    return n;
  }

  private async attempt(target: TargetState): Promise<void> {
    target.timer = null;
    target.nextDialAt = null;
    if (this.stopped || target.dialling) return;
    if (target.peerId && this.hooks.isLinked(target.peerId)) return;
    const held = this.heldFor(target.peerId);
    if (held > 0) return this.schedule(target, held);
    if (this.inFlight() >= this.hooks.freeSlots()) {
      target.waitingForSlot = true;
      target.lastError = 'not dialled: this node is at its peer limit (maxPeers)';
      return this.schedule(target, jittered(PEER_LIMIT_RECHECK_MS, this.hooks.random));
    }
    const now = Date.now();
    if (now < this.replaceHoldUntil && this.hooks.linkCount() > 0) {
      return this.schedule(target, this.replaceHoldUntil - now + this.hooks.random() * DIAL_START_JITTER_MS);
    }
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
      if (dialError.peerId) target.peerId = dialError.peerId;
      const heldNow = this.heldFor(target.peerId);
      if (heldNow > 0) {
        // Our own admission refused a peer on hold (we had not known who answers at this address).
        target.lastError = `held after a peer-limit drop; not dialled for ${Math.round(heldNow / 1000)} s`;
        return this.schedule(target, heldNow);
      }
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
