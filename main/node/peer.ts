/**
 * What a node knows about one peer: its replica (rebuilt from `state`
 * snapshots and advanced by SDM diffs in seq order), freshness, entropy
 * intensity, and counters of what it sent us, including rejects by reason.
 */
import { INTENSITY_SMOOTHING, MAX_COORDINATE } from '../model/limits.js';
import { RejectBurst, TrustScore } from '../model/trust.js';
import { FEATURE_MEMORY, FEATURE_NBRS, FEATURE_RELAY, FEATURE_RELAYED, FEATURE_SDM_ENTROPY, type Message, type NodeKind, type RejectReason, type SigMessage } from '../protocol/messages.js';
import type { Link } from '../transport/transport.js';
import type { PeerStatus } from '../bridge/api.js';

export type { PeerStatus };

/** What applying one inbound message did, so the node knows what to answer. */
export type Applied =
  | { kind: 'ok' }
  | { kind: 'hello' }
  | { kind: 'sync-requested' }
  | { kind: 'gap'; expected: number; got: number }
  | { kind: 'bye'; reason: string }
  | { kind: 'sig'; message: SigMessage }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

export class PeerRecord {
  name = '';
  link: Link | null = null;
  address: string | null = null;
  helloed = false;
  replica: [number, number] | null = null;
  /** The degree the peer last advertised (hello/state/sdm `deg`), for Metropolis weights; undefined if never. */
  deg: number | undefined = undefined;
  /** The peer's hello listed `sdm.e`: send it one sdm frame with the entropy sample instead of ep + sdm. */
  takesSdmEntropy = false;
  /** What runs the peer, as its hello said ('native' when it said nothing). */
  kind: NodeKind = 'native';
  /** The peer's hello listed `nbrs`: it wants our neighbour list. */
  wantsNbrs = false;
  /** The peer's hello listed `relay`: it forwards signaling between its `relayed` peers. */
  relays = false;
  /** The peer's hello listed `relayed`: sessions to it may be signaled through a relay. */
  takesRelayed = false;
  /** The peer's hello listed `mem.v1`: it keeps the network memory and takes its frames. */
  speaksMemory = false;
  /** The peer's last neighbour list (display only), or null. */
  nbrs: Array<{ id: string; drift: [number, number] | null; kind: NodeKind }> | null = null;
  /** Highest seq seen in any message (seq never goes back). */
  lastSeq = -1;
  /** seq of the last diff applied to the replica (or of the snapshot it was rebuilt from). */
  lastDiffSeq = -1;
  /** Our cycle when the peer last sent a valid message; -Infinity before any. */
  lastHeardCycle = Number.NEGATIVE_INFINITY;
  intensity = 0;
  /** Our cycle when we last asked for a snapshot, or null when the replica is in sync. */
  syncAskedAt: number | null = null;
  wasFresh = false;
  /** We said `bye` because we are over our peer limit; the link closes soon and no longer counts. */
  leaving = false;
  /** The peer said `bye` because it is over its peer limit: back off from it for longer. */
  droppedByPeer = false;
  messagesIn = 0;
  messagesOut = 0;
  readonly rejects = new Map<RejectReason, number>();
  /** Earned by fresh, plausible messages, lost by outliers, rejects and silence; kept across reconnects. */
  readonly trust: TrustScore;
  readonly rejectBurst = new RejectBurst();
  /** Our cycle when the current link opened (how long a peer has been with us, for the degree cap). */
  linkedAtCycle = 0;
  /** Our cycle in which a message of this peer last earned trust (one a cycle at most). */
  trustEarnedCycle = -1;
  /** W-MSR dropped this peer's value as a far outlier in our last cycle: its messages earn no trust. */
  outlier = false;
  /** Why this peer does not pull us right now, or null when it does (shown on the dashboard). */
  excluded: string | null = null;

  constructor(
    readonly id: string,
    nowMs: number,
  ) {
    this.trust = new TrustScore(nowMs);
  }

  countReject(reason: RejectReason): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }

  isFresh(cycle: number, staleCycles: number): boolean {
    return this.helloed && this.replica !== null && cycle - this.lastHeardCycle <= staleCycles;
  }

  /** Resets what only made sense for the previous link (a new link starts with a new hello). */
  attach(link: Link, cycle: number): void {
    this.link = link;
    this.linkedAtCycle = cycle;
    this.outlier = false;
    // The open link counts as hearing from the peer: a peer that never says hello is dropped as dead like a silent one.
    this.lastHeardCycle = cycle;
    this.address = link.remoteAddress;
    this.helloed = false;
    this.lastSeq = -1;
    this.lastDiffSeq = -1;
    this.syncAskedAt = null;
    this.deg = undefined;
    this.takesSdmEntropy = false;
    this.kind = 'native';
    this.wantsNbrs = false;
    this.relays = false;
    this.takesRelayed = false;
    this.speaksMemory = false;
    this.nbrs = null;
    this.leaving = false;
    this.droppedByPeer = false;
  }

  /** Applies one parsed message received at our cycle `cycle`. Never throws. */
  apply(message: Message, cycle: number): Applied {
    const result = this.applyMessage(message, cycle);
    if ((result.kind === 'ok' || result.kind === 'hello' || result.kind === 'gap') && 'deg' in message && message.deg !== undefined) this.deg = message.deg;
    return result;
  }

  private applyMessage(message: Message, cycle: number): Applied {
    if (message.type === 'bye') return { kind: 'bye', reason: message.reason };
    if (message.type === 'hello') {
      if (message.id !== this.id) return { kind: 'rejected', reason: 'id-mismatch', detail: `hello claims id ${message.id}` };
      this.helloed = true;
      this.name = message.name;
      this.replica = [message.state.drift[0], message.state.drift[1]];
      this.lastSeq = message.seq;
      this.lastDiffSeq = message.seq;
      this.lastHeardCycle = cycle;
      this.syncAskedAt = null;
      const feat = message.feat ?? [];
      this.takesSdmEntropy = feat.includes(FEATURE_SDM_ENTROPY);
      this.wantsNbrs = feat.includes(FEATURE_NBRS);
      this.relays = feat.includes(FEATURE_RELAY);
      this.takesRelayed = feat.includes(FEATURE_RELAYED);
      this.speaksMemory = feat.includes(FEATURE_MEMORY);
      this.kind = message.kind ?? 'native';
      return { kind: 'hello' };
    }
    if (!this.helloed) return { kind: 'rejected', reason: 'before-hello', detail: `${message.type} before hello` };
    if (message.type === 'sig') return { kind: 'sig', message };
    if (message.type === 'nbrs') {
      // Each id once (the first entry wins), never the sender itself: a list is display only, but it is drawn and dialled from.
      const seen = new Set<string>([this.id]);
      this.nbrs = [];
      for (const p of message.peers) {
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        this.nbrs.push({ id: p.id, drift: p.d, kind: p.k ?? 'native' });
      }
      return { kind: 'ok' };
    }
    if (message.type === 'sync') {
      this.lastHeardCycle = cycle;
      return { kind: 'sync-requested' };
    }
    if (message.seq < this.lastSeq) {
      return { kind: 'rejected', reason: 'seq-went-back', detail: `${message.type} seq ${message.seq} after ${this.lastSeq}` };
    }
    switch (message.type) {
      case 'ep':
        this.noteEntropy(message.e);
        break;
      case 'state':
        this.replica = [message.drift[0], message.drift[1]];
        this.lastDiffSeq = message.seq;
        this.syncAskedAt = null;
        break;
      case 'sdm': {
        if (message.seq <= this.lastDiffSeq) {
          return { kind: 'rejected', reason: 'seq-went-back', detail: `diff seq ${message.seq} already applied` };
        }
        const replica = this.replica!;
        const x = replica[0] + message.diff[0];
        const y = replica[1] + message.diff[1];
        if (Math.abs(x) > MAX_COORDINATE || Math.abs(y) > MAX_COORDINATE) {
          return { kind: 'rejected', reason: 'coordinate-out-of-range', detail: `diff would move the replica beyond ±${MAX_COORDINATE}` };
        }
        const expected = this.lastDiffSeq + 1;
        this.lastSeq = message.seq;
        this.lastDiffSeq = message.seq;
        this.lastHeardCycle = cycle;
        replica[0] = x;
        replica[1] = y;
        if (message.e) this.noteEntropy(message.e);
        // A gap means diffs were lost: the replica is off until a snapshot replaces it.
        if (message.seq !== expected) return { kind: 'gap', expected, got: message.seq };
        return { kind: 'ok' };
      }
    }
    this.lastSeq = message.seq;
    this.lastHeardCycle = cycle;
    return { kind: 'ok' };
  }

  private noteEntropy(e: readonly [number, number]): void {
    this.intensity += INTENSITY_SMOOTHING * (Math.hypot(e[0], e[1]) - this.intensity);
  }

  status(cycle: number, staleCycles: number, nowMs: number): PeerStatus {
    return {
      trust: this.trust.value(nowMs),
      excluded: this.link ? this.excluded : null,
      id: this.id,
      name: this.name,
      drift: this.replica ? [this.replica[0], this.replica[1]] : null,
      intensity: this.intensity,
      connected: this.link !== null,
      fresh: this.isFresh(cycle, staleCycles),
      lastSeenCycles: Number.isFinite(this.lastHeardCycle) ? cycle - this.lastHeardCycle : null,
      address: this.address,
      dialledAddress: this.link?.dialledAddress ?? null,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      rejects: Object.fromEntries(this.rejects),
      kind: this.kind,
      nbrs: this.link && this.nbrs ? this.nbrs.map((n) => ({ id: n.id, drift: n.drift ? [n.drift[0], n.drift[1]] : null, kind: n.kind })) : null,
    };
  }
}
