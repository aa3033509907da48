/**
 * The drift node: runs the cycle on a timer, keeps a replica per peer from
 * their snapshots and diffs, talks wire protocol v1 over whatever Transport
 * it is given, and reports everything as events (cycles, peers, log lines)
 * that the headless runner, the store and a UI subscribe to.
 */
import { agreement, driftStep, sampleEntropy, type DriftParams, type Vec2 } from '../model/drift.js';
import { DEFAULT_WEIGHTING, metropolisStep, type WeightedPeer, type Weighting } from '../model/weights.js';
import { wmsrEvaluate, wmsrStep } from '../model/wmsr.js';
import {
  CYCLE_TIMER_SLOT_MS,
  DEAD_LINK_CYCLES,
  DEFAULT_STALE_CYCLES,
  INTENSITY_SMOOTHING,
  MAX_FRAME_BYTES,
  MAX_NBRS_ENTRIES,
  MAX_PEER_RECORDS,
  NBRS_EVERY_CYCLES,
  PEER_LIMIT_OVERFLOW,
  PEER_LIMIT_REPLACE_WAIT_MS,
  PEER_SHED_CLOSE_MS,
  PROTOCOL_VERSION,
  RELAY_FRAMES_BURST,
  RELAY_FRAMES_PER_SECOND,
  SIGNAL_TIMEOUT_MS,
  SNAPSHOT_EVERY_CYCLES,
  SYNC_RETRY_CYCLES,
  ESTABLISHED_PEER_CYCLES,
  TRUST_DROP_MIN,
  TRUST_ESTABLISHED_MIN,
  TRUST_HOLD_OFF_MS,
  TRUST_PULL_MIN,
} from '../model/limits.js';
import { BROWSER_FEATURES, BYE_OVER_PEER_LIMIT, FEATURE_MEMORY, FEATURE_RELAYED, OWN_FEATURES, encodeMessage, utf8Length, parseFrame, type Message, type NodeKind, type RejectReason, type SigMessage } from '../protocol/messages.js';
import { parseSignalValue, type SignalFrame } from '../protocol/signal-frames.js';
import { TokenBucket } from '../model/token-bucket.js';
import type { Link, Transport } from '../transport/transport.js';
import { Dialer } from './dialer.js';
import { Emitter } from './emitter.js';
import { unref } from './unref.js';
import { cryptoRandom } from './entropy.js';
import { PeerRecord } from './peer.js';
import { isMemoryFrameType } from '../memory/frames.js';
import { NetworkMemory, type MemoryHost, type NetworkMemoryOptions } from './network-memory.js';
import type { CycleEvent, DialTarget, LogEvent, LogLevel, NodeStatus, PeerEvent, PeerEventKind } from '../bridge/api.js';

export type { CycleEvent, LogEvent, LogLevel, NodeStatus, PeerEvent, PeerEventKind };

export interface NodeState {
  drift: [number, number];
  vu: number;
  tc: number;
  cycle: number;
}

export interface DriftNodeOptions {
  id: string;
  name: string;
  transport: Transport;
  params: DriftParams;
  cycleMs: number;
  maxPeers: number;
  initial: NodeState;
  staleCycles?: number;
  /** Uniform [0, 1) source for entropy and jitter; crypto by default, seeded in tests. */
  random?: () => number;
  /** Hold the drift step until this many peers are linked (the demo starts both nodes in step). */
  awaitPeers?: number;
  /** Peer weighting: 'wmsr' (robust, the default), 'seed' (beta * mean) or 'metropolis' (docs/drift-model.md; sends `deg`). */
  weights?: Weighting;
  /** Peer ids the user blocked: never admitted, never dialled (kept in the store by the caller). */
  blocked?: readonly string[];
  /** Monotonic milliseconds for trust decay; performance.now by default, a fake clock in tests. */
  now?: () => number;
  /** What runs this node (default 'native'): a browser node speaks BROWSER_FEATURES and shares its neighbour list with every peer that wants it. */
  kind?: NodeKind;
  /** The cycle timer (setTimeout by default): a browser tab passes one that background throttling does not slow (docs/browser-nodes.md). */
  cycleTimer?: CycleTimer;
  /** Runs the network memory (docs/protocol.md "Network memory"): gossip of signed state records, copies, restore. */
  memory?: NetworkMemoryOptions;
}

export interface CycleTimer {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** A signaling frame (or the end of a session) that a relay delivered to this node from a proven peer of the relay. */
export interface RelayedSignal {
  /** The relay's id (our peer). */
  via: string;
  /** The sender's id, as the relay proved it on its own link. */
  from: string;
  sid: string;
  body: SignalFrame | null;
  end: { code: number; reason: string } | null;
}

export interface NodeEvents {
  cycle: CycleEvent;
  peer: PeerEvent;
  log: LogEvent;
}

export class DriftNode {
  readonly events = new Emitter<NodeEvents>((event, err) => {
    console.error(`lvs-node: a ${event} listener failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  readonly id: string;
  private name: string;
  private readonly transport: Transport;
  private params: DriftParams;
  private cycleMs: number;
  private maxPeers: number;
  private readonly staleCycles: number;
  private readonly random: () => number;
  private readonly awaitPeers: number;
  private readonly weights: Weighting;
  private readonly dialer: Dialer;
  private readonly peers = new Map<string, PeerRecord>();
  private readonly rejects = new Map<RejectReason, number>();
  private drift: [number, number];
  private vu: number;
  private tc: number;
  private cycle: number;
  private timer: unknown = null;
  private nextCycleAt = 0;
  private running = false;
  private paused = false;
  private stopping: Promise<void> | null = null;
  private startedAt = 0;
  private startCycle = 0;
  private messagesIn = 0;
  private messagesOut = 0;
  private intensity = 0;
  /** Links we said `bye` to for the peer limit, closed by these timers unless the peer closes first. */
  private readonly shedTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly now: () => number;
  private readonly blocked = new Set<string>();
  /** Peers cut off or blocked, with why and until when (performance clock; Infinity for a block). */
  private readonly heldOff = new Map<string, { reason: string; until: number }>();
  private readonly kind: NodeKind;
  private readonly cycleTimer: CycleTimer;
  /** Per-sender buckets of relayed signaling (RELAY_FRAMES_PER_SECOND), dropped with the link. */
  private readonly relayBuckets = new Map<string, TokenBucket>();
  /** Per acceptor: the peers that opened a relayed session to it, and when (both linked: at most links squared, dropped with either link). */
  private readonly relayOpeners = new Map<string, Map<string, number>>();
  private readonly relayCounters = { forwarded: 0, dropped: {} as Record<string, number> };
  private signalInbox: ((signal: RelayedSignal) => void) | null = null;
  /** The network memory, when the node runs it (main/node/network-memory.ts). */
  private readonly memory: NetworkMemory | null;
  /** A restoring node took its first peer's drift while it waits for its copy (standWith). */
  private standsProvisionally = false;

  constructor(options: DriftNodeOptions) {
    this.id = options.id;
    this.name = options.name;
    this.transport = options.transport;
    this.params = options.params;
    this.cycleMs = options.cycleMs;
    this.maxPeers = options.maxPeers;
    this.staleCycles = options.staleCycles ?? DEFAULT_STALE_CYCLES;
    this.random = options.random ?? cryptoRandom();
    this.awaitPeers = options.awaitPeers ?? 0;
    this.weights = options.weights ?? DEFAULT_WEIGHTING;
    this.now = options.now ?? (() => performance.now());
    this.kind = options.kind ?? 'native';
    this.cycleTimer = options.cycleTimer ?? { set: (callback, ms) => setTimeout(callback, ms), clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };
    for (const id of options.blocked ?? []) this.blocked.add(id);
    this.memory = options.memory ? new NetworkMemory(this.memoryHost(), options.memory) : null;
    this.drift = [options.initial.drift[0], options.initial.drift[1]];
    this.vu = options.initial.vu;
    this.tc = options.initial.tc;
    this.cycle = options.initial.cycle;
    this.transport.setHandler({
      onLink: (link) => this.onLink(link),
      onFrame: (link, frame) => this.onFrame(link, frame),
      onUnlink: (link, reason) => this.onUnlink(link, reason),
    });
    // Over maxPeers by PEER_LIMIT_OVERFLOW at most: the link that makes the node
    // full-plus-one is admitted, and enforcePeerLimit drops a random older one.
    this.transport.setAdmission((peerId, hint) => {
      if (this.blocked.has(peerId)) return false;
      if (this.dialer.isHeld(peerId)) {
        // A peer-limit hold is waived for a dialer with no other link, but only into a free slot:
        // admitting it must not drop someone else (that would only move the loneliness around).
        const waived = hint?.alone === true && !this.dialer.isHeld(peerId, true) && this.linkedCount() < this.maxPeers;
        if (!waived) return false;
      } // dropped for a peer limit a moment ago, cut off for low trust, or blocked
      const peer = this.peers.get(peerId);
      if (peer?.link) return !peer.leaving; // a replacement adds no link; a peer we are dropping must not slip back in
      return this.linkedCount() < this.maxPeers + PEER_LIMIT_OVERFLOW;
    });
    this.dialer = new Dialer(this.transport, {
      isLinked: (peerId) => this.peers.get(peerId)?.link != null,
      freeSlots: () => this.maxPeers - this.linkedCount(),
      linkCount: () => this.linkedCount(),
      log: (level, message) => this.log(level, message),
      random: this.random,
    });
    for (const id of this.blocked) {
      this.dialer.hold(id, Number.POSITIVE_INFINITY, 'blocked by the user');
      this.heldOff.set(id, { reason: 'blocked by the user', until: Number.POSITIVE_INFINITY });
    }
  }

  /** The user blocks `peerId`: its link goes now (with a bye), and it is never admitted or dialled again until unblocked. */
  block(peerId: string): void {
    if (peerId === this.id) return;
    this.blocked.add(peerId);
    this.cutOff(this.peers.get(peerId) ?? null, peerId, 'blocked by the user', Number.POSITIVE_INFINITY);
  }

  unblock(peerId: string): void {
    if (!this.blocked.delete(peerId)) return;
    this.heldOff.delete(peerId);
    this.dialer.release(peerId);
    this.log('info', `peer ${peerId.slice(0, 7)} unblocked`);
  }

  blockedPeers(): string[] {
    return [...this.blocked];
  }

  /** Starts the cycle timer. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.startedAt = Date.now();
    this.startCycle = this.cycle;
    const now = performance.now();
    this.nextCycleAt = now + this.cycleMs;
    this.armTimer(now);
    this.memory?.start();
  }

  /**
   * Keeps the node linked to `address` (host:port), redialling with backoff.
   * `peerId`: whom the caller expects there (discovery knows), so a peer on
   * hold after a peer-limit drop is not dialled before its hold ends.
   */
  addPeer(address: string, peerId?: string): boolean {
    return this.dialer.add(address, peerId ?? null);
  }

  /** Stops keeping `address` linked (an open link to it stays until it closes). False if it was not a target. */
  removePeer(address: string): boolean {
    return this.dialer.remove(address);
  }

  /** The network memory, when the node runs it (benchmarks read its book directly; a UI reads status().network). */
  get networkMemory(): NetworkMemory | null {
    return this.memory;
  }

  /** Whether `peerId` has an open link that counts (not one we are dropping). */
  isLinked(peerId: string): boolean {
    const peer = this.peers.get(peerId);
    return peer?.link != null && !peer.leaving;
  }

  /** The linked peers and what runs them (cheap: no status is built). */
  linkedPeers(): Array<{ id: string; kind: NodeKind }> {
    const out: Array<{ id: string; kind: NodeKind }> = [];
    for (const p of this.peers.values()) if (p.link && !p.leaving) out.push({ id: p.id, kind: p.kind });
    return out;
  }

  /** The addresses the dialer keeps linked, and how they fare (status().dialTargets without the rest). */
  dialTargets(): DialTarget[] {
    return this.dialer.list();
  }

  /** What a linked peer last said about its own peers (`nbrs`; display only), or null. */
  neighboursOf(peerId: string): ReadonlyArray<{ readonly id: string; readonly drift: readonly [number, number] | null; readonly kind: NodeKind }> | null {
    const peer = this.peers.get(peerId);
    return peer?.link ? peer.nbrs : null;
  }

  /** Dials a known address now, skipping its backoff (see Dialer.redial); false if there was nothing to do. */
  redialPeer(address: string): boolean {
    return this.dialer.redial(address);
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.log('info', paused ? 'drift cycle paused' : 'drift cycle resumed');
  }

  /**
   * Applies new parameters from the next cycle on. Callers validate them
   * first. A lower maxPeers drops links at once, the way a link over the
   * limit is dropped (see enforcePeerLimit).
   */
  configure(update: { params?: DriftParams; cycleMs?: number; maxPeers?: number; name?: string; blocked?: readonly string[] }): void {
    if (update.blocked) {
      const wanted = new Set(update.blocked);
      for (const id of [...this.blocked]) if (!wanted.has(id)) this.unblock(id);
      for (const id of wanted) if (!this.blocked.has(id)) this.block(id);
    }
    if (update.params) this.params = update.params;
    if (update.cycleMs) this.cycleMs = update.cycleMs;
    if (update.name !== undefined) this.name = update.name;
    if (update.maxPeers && update.maxPeers !== this.maxPeers) {
      this.maxPeers = update.maxPeers;
      if (!this.stopping) this.enforcePeerLimit(null);
    }
  }

  /** One drift cycle. The timer calls it; deterministic tests call it directly. */
  runCycle(): void {
    if (this.stopping) return;
    if (this.paused || this.linkedHelloCount() < this.awaitPeers) {
      this.heartbeat();
      return;
    }
    this.cycle++;
    // Links that opened at once (many sessions admitted together) can overshoot the limit.
    this.enforcePeerLimit(null);
    const now = this.now();
    const fresh: Vec2[] = [];
    const pulling: PeerRecord[] = [];
    /** Fresh peers below TRUST_PULL_MIN: they do not pull, but are still judged, so a liar keeps losing trust. */
    const probation: PeerRecord[] = [];
    const weighted: WeightedPeer[] = [];
    const peerDrifts: Record<string, [number, number]> = {};
    let trustSum = 0;
    let linked = 0;
    // Cutting a peer off below changes its fields, never the map: no copy needed.
    for (const peer of this.peers.values()) {
      const isFresh = peer.isFresh(this.cycle, this.staleCycles);
      if (peer.link && peer.replica) peerDrifts[peer.id] = [peer.replica[0], peer.replica[1]];
      if (isFresh !== peer.wasFresh) this.freshnessChanged(peer, isFresh);
      if (peer.link && this.cycle - peer.lastHeardCycle > DEAD_LINK_CYCLES) {
        peer.link.close(`silent for ${DEAD_LINK_CYCLES} cycles`);
      }
      if (!peer.link || peer.leaving) continue;
      if (peer.helloed && !isFresh) peer.trust.observe('stale', now);
      const trust = peer.trust.value(now);
      trustSum += trust;
      linked++;
      if (trust < TRUST_DROP_MIN) {
        this.cutOff(peer, peer.id, `trust ${trust.toFixed(2)} fell below ${TRUST_DROP_MIN}`, TRUST_HOLD_OFF_MS);
        continue;
      }
      peer.excluded = !isFresh ? (peer.helloed ? `stale: silent for more than ${this.staleCycles} cycles` : 'no hello yet') : trust < TRUST_PULL_MIN ? `trust ${trust.toFixed(2)} below ${TRUST_PULL_MIN}` : null;
      if (peer.excluded !== null) {
        if (isFresh) probation.push(peer);
        continue;
      }
      fresh.push(peer.replica!);
      pulling.push(peer);
      if (this.weights === 'metropolis') weighted.push({ r: peer.replica!, deg: peer.deg });
    }
    const u = sampleEntropy(this.random);
    this.intensity += INTENSITY_SMOOTHING * (Math.hypot(u[0], u[1]) - this.intensity);
    let step: { drift: [number, number]; diff: [number, number] };
    if (this.weights === 'wmsr') {
      const robust = wmsrStep(this.drift, fresh, u, this.params);
      for (let i = 0; i < pulling.length; i++) {
        const peer = pulling[i]!;
        peer.outlier = robust.outliers[i] === true;
        if (peer.outlier) {
          peer.trust.observe('outlier', now);
          peer.excluded = 'outlier: its drift is far outside the others (W-MSR dropped it)';
        }
      }
      if (probation.length > 0) {
        const judged = wmsrEvaluate(this.drift, [...fresh, ...probation.map((p) => p.replica!)]).outliers;
        probation.forEach((peer, i) => {
          peer.outlier = judged[fresh.length + i] === true;
          if (peer.outlier) peer.trust.observe('outlier', now);
        });
      }
      step = robust;
    } else {
      step = this.weights === 'metropolis' ? metropolisStep(this.drift, weighted, u, this.params) : driftStep(this.drift, fresh, u, this.params);
    }
    this.drift = step.drift;
    this.vu = agreement(this.drift, fresh);
    this.tc = linked > 0 ? trustSum / linked : 1;
    const sdmFields = { type: 'sdm', v: PROTOCOL_VERSION, seq: this.cycle, diff: step.diff, ...this.degField(fresh.length) } as const;
    // Encoded lazily: a mesh of current nodes never needs the v1 pair, a mesh of old ones never the combined frame.
    let combined: string | null = null;
    let ep: string | null = null;
    let sdm: string | null = null;
    const snapshot = this.cycle % SNAPSHOT_EVERY_CYCLES === 0 ? this.stateFrame() : null;
    for (const peer of this.peers.values()) {
      if (!peer.link || peer.leaving) continue;
      if (peer.takesSdmEntropy) {
        this.sendFrame(peer, (combined ??= encodeMessage({ ...sdmFields, e: u })));
      } else {
        this.sendFrame(peer, (ep ??= encodeMessage({ type: 'ep', v: PROTOCOL_VERSION, seq: this.cycle, e: u })));
        this.sendFrame(peer, (sdm ??= encodeMessage(sdmFields)));
      }
      if (snapshot) this.sendFrame(peer, snapshot);
    }
    if (this.cycle % NBRS_EVERY_CYCLES === 0) this.shareNeighbours();
    this.events.emit('cycle', {
      cycle: this.cycle,
      drift: [this.drift[0], this.drift[1]],
      diff: step.diff,
      entropy: u,
      vu: this.vu,
      tc: this.tc,
      freshPeers: fresh.length,
      peerDrifts,
      at: Date.now(),
    });
  }

  /** A node that holds its step still tells its peers it is alive, so they do not drop it as dead. */
  private heartbeat(): void {
    const frame = this.stateFrame();
    for (const peer of this.peers.values()) if (peer.link && peer.helloed && !peer.leaving) this.sendFrame(peer, frame);
  }

  get state(): NodeState {
    return { drift: [this.drift[0], this.drift[1]], vu: this.vu, tc: this.tc, cycle: this.cycle };
  }

  status(): NodeStatus {
    const elapsed = this.running ? (Date.now() - this.startedAt) / 1000 : 0;
    return {
      id: this.id,
      name: this.name,
      cycle: this.cycle,
      state: { drift: [this.drift[0], this.drift[1]], vu: this.vu, tc: this.tc },
      peers: [...this.peers.values()].map((p) => p.status(this.cycle, this.staleCycles, this.now())),
      config: { cycleMs: this.cycleMs, ...this.params, maxPeers: this.maxPeers, staleCycles: this.staleCycles },
      running: this.running,
      paused: this.paused,
      waitingForPeers: this.linkedHelloCount() < this.awaitPeers,
      uptimeMs: this.running ? Date.now() - this.startedAt : 0,
      cyclesPerSecond: elapsed > 0 ? (this.cycle - this.startCycle) / elapsed : 0,
      intensity: this.intensity,
      messages: { in: this.messagesIn, out: this.messagesOut },
      rejects: Object.fromEntries(this.rejects),
      dialTargets: this.dialer.list(),
      weights: this.weights,
      heldOff: this.heldOffList(),
      kind: this.kind,
      relay: { forwarded: this.relayCounters.forwarded, dropped: { ...this.relayCounters.dropped } },
      ...(this.memory ? { network: this.memory.status() } : {}),
      ...(this.transport.stats ? { proofs: this.proofStats() } : {}),
    };
  }

  /**
   * Says bye to every peer, stops the timer and the dialer, and shuts the
   * transport down. Resolves once everything is closed; idempotent.
   */
  stop(reason = 'shutdown'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer !== null) this.cycleTimer.clear(this.timer);
      this.timer = null;
      this.memory?.stop();
      this.dialer.stop();
      for (const timer of this.shedTimers) clearTimeout(timer);
      this.shedTimers.clear();
      const bye = encodeMessage({ type: 'bye', v: PROTOCOL_VERSION, reason });
      let said = 0;
      for (const peer of this.peers.values()) if (peer.link && !peer.leaving && this.sendFrame(peer, bye)) said++;
      // Give the bye frames a moment on the wire before the channels close under them.
      if (said > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      await this.transport.shutdown();
      this.running = false;
    })();
    return this.stopping;
  }

  private heldOffList(): NodeStatus['heldOff'] {
    const now = this.now();
    const wall = Date.now();
    const out: NodeStatus['heldOff'] = [];
    for (const [id, h] of this.heldOff) {
      if (h.until <= now) {
        this.heldOff.delete(id);
        continue;
      }
      out.push({ id, reason: h.reason, until: Number.isFinite(h.until) ? Math.round(wall + (h.until - now)) : null });
    }
    return out;
  }

  private proofStats(): NonNullable<NodeStatus['proofs']> {
    const stats = this.transport.stats!();
    return { proven: stats.proven, failures: stats.proofFailures, refused: stats.refused, ...(stats.setupRetries !== undefined ? { setupRetries: stats.setupRetries } : {}) };
  }

  /**
   * Cuts a peer off: `bye` with the reason, the link closed, and the peer
   * neither admitted nor dialled for `ms` (Infinity: blocked).
   */
  private cutOff(peer: PeerRecord | null, peerId: string, reason: string, ms: number): void {
    this.heldOff.set(peerId, { reason, until: this.now() + ms });
    this.dialer.hold(peerId, ms, reason);
    this.log('warn', `cutting off ${peer ? this.peerLabel(peer) : peerId.slice(0, 7)}: ${reason}${Number.isFinite(ms) ? `; held off for ${Math.round(ms / 60_000)} min` : ''}`);
    const link = peer?.link;
    if (!peer || !link) return;
    peer.excluded = reason;
    if (!peer.leaving) this.sendFrame(peer, encodeMessage({ type: 'bye', v: PROTOCOL_VERSION, reason: reason.slice(0, 200) }));
    peer.leaving = true;
    link.close(reason);
  }

  private tick(): void {
    this.timer = null;
    if (this.stopping) return;
    this.runCycle();
    const now = performance.now();
    this.nextCycleAt += this.cycleMs;
    // A process that was suspended or starved skips the missed cycles instead of bursting through them.
    if (this.nextCycleAt < now) this.nextCycleAt = now + this.cycleMs;
    this.armTimer(now);
  }

  /** The next cycle's timer, on the CYCLE_TIMER_SLOT_MS grid (see there for why). */
  private armTimer(now: number): void {
    const slot = Math.ceil(this.nextCycleAt / CYCLE_TIMER_SLOT_MS) * CYCLE_TIMER_SLOT_MS;
    this.timer = this.cycleTimer.set(() => this.tick(), slot - now);
  }

  private stateFrame(): string {
    return encodeMessage({ type: 'state', v: PROTOCOL_VERSION, seq: this.cycle, drift: this.drift, vu: this.vu, tc: this.tc, ...this.degField(this.linkedCount()) });
  }

  /** `deg` for outbound messages: only Metropolis nodes advertise their degree. */
  private degField(deg: number): { deg?: number } {
    return this.weights === 'metropolis' ? { deg } : {};
  }

  private hello(): string {
    return encodeMessage({
      type: 'hello',
      v: PROTOCOL_VERSION,
      id: this.id,
      name: this.name,
      state: { drift: this.drift, vu: this.vu, tc: this.tc },
      seq: this.cycle,
      ...this.degField(this.linkedCount()),
      feat: [...(this.kind === 'browser' ? BROWSER_FEATURES : OWN_FEATURES), ...(this.memory ? [FEATURE_MEMORY] : [])],
      ...(this.kind === 'browser' ? { kind: this.kind } : {}),
    });
  }

  private sendFrame(peer: PeerRecord, frame: string): boolean {
    if (!peer.link || !peer.link.send(frame)) return false;
    peer.messagesOut++;
    this.messagesOut++;
    return true;
  }

  /** Open links that count against maxPeers (not those we are dropping). */
  private linkedCount(): number {
    let n = 0;
    for (const peer of this.peers.values()) if (peer.link && !peer.leaving) n++;
    return n;
  }

  /**
   * The degree cap. While more than maxPeers links are open, drops links
   * chosen uniformly at random, never `keep` (the link that just opened:
   * a node dials only while it has a free slot, so the newcomer is the one
   * short of links) and, when peers advertise their degree (`deg`, sent by
   * nodes using Metropolis weights), not a peer whose only link is ours
   * while another candidate remains. A node knows nothing else about its
   * peers' links, so this is a local rule, not a connectivity proof; why it
   * keeps the mesh connected in practice is in docs/lan-discovery.md
   * ("The degree cap"). Never drops below maxPeers.
   */
  private enforcePeerLimit(keep: PeerRecord | null): void {
    const candidates: PeerRecord[] = [];
    for (const peer of this.peers.values()) if (peer.link && !peer.leaving && peer !== keep) candidates.push(peer);
    let excess = candidates.length + (keep?.link && !keep.leaving ? 1 : 0) - this.maxPeers;
    const now = this.now();
    const established = (p: PeerRecord): boolean => this.cycle - p.linkedAtCycle >= ESTABLISHED_PEER_CYCLES && p.trust.value(now) >= TRUST_ESTABLISHED_MIN;
    // Sybils: a newcomer never evicts a peer that has been with us a while and is trusted; it goes itself.
    if (excess > 0 && keep?.link && !keep.leaving && !established(keep) && candidates.every(established)) {
      this.dropForLimit(keep);
      excess--;
    }
    while (excess > 0 && candidates.length > 0) {
      const newcomers = candidates.filter((p) => !established(p));
      const eligible = newcomers.length > 0 ? newcomers : candidates;
      const others = eligible.filter((p) => p.deg === undefined || p.deg > 1);
      const pool = others.length > 0 ? others : eligible;
      const victim = pool[Math.floor(this.random() * pool.length)]!;
      candidates.splice(candidates.indexOf(victim), 1);
      this.dropForLimit(victim);
      excess--;
    }
  }

  /** Says `bye` 'over peer limit' and closes the link shortly after, unless the peer closes it first. */
  private dropForLimit(peer: PeerRecord): void {
    const link = peer.link;
    if (!link) return;
    peer.leaving = true;
    this.log('info', `dropping ${this.peerLabel(peer)}: over the peer limit (maxPeers ${this.maxPeers})`);
    this.sendFrame(peer, encodeMessage({ type: 'bye', v: PROTOCOL_VERSION, reason: BYE_OVER_PEER_LIMIT }));
    const timer = setTimeout(() => {
      this.shedTimers.delete(timer);
      link.close(BYE_OVER_PEER_LIMIT);
    }, PEER_SHED_CLOSE_MS);
    unref(timer);
    this.shedTimers.add(timer);
  }

  private linkedHelloCount(): number {
    let n = 0;
    for (const peer of this.peers.values()) if (peer.link && peer.helloed) n++;
    return n;
  }

  private peerRecord(id: string): PeerRecord {
    let peer = this.peers.get(id);
    if (!peer) {
      if (this.peers.size >= MAX_PEER_RECORDS) this.forgetOldestDisconnected();
      peer = new PeerRecord(id, this.now());
      this.peers.set(id, peer);
    }
    return peer;
  }

  private forgetOldestDisconnected(): void {
    let oldest: PeerRecord | null = null;
    for (const peer of this.peers.values()) {
      if (!peer.link && (!oldest || peer.lastHeardCycle < oldest.lastHeardCycle)) oldest = peer;
    }
    if (oldest) this.peers.delete(oldest.id);
  }

  private onLink(link: Link): void {
    if (this.stopping) {
      link.close('shutting down');
      return;
    }
    const peer = this.peerRecord(link.peerId);
    peer.attach(link, this.cycle);
    this.sendFrame(peer, this.hello());
    this.peerEvent('linked', peer, `linked ${link.dialledAddress ? 'to' : 'from'} ${link.remoteAddress}`);
    this.dialer.linkOpened(peer.id);
    this.enforcePeerLimit(peer);
  }

  private onUnlink(link: Link, reason: string): void {
    const peer = this.peers.get(link.peerId);
    if (!peer || peer.link !== link) return;
    const droppedForLimit = peer.leaving || peer.droppedByPeer;
    const droppedByPeer = peer.droppedByPeer;
    peer.link = null;
    peer.helloed = false;
    peer.wasFresh = false;
    peer.leaving = false;
    peer.droppedByPeer = false;
    this.relayBuckets.delete(peer.id);
    this.relayOpeners.delete(peer.id);
    for (const openers of this.relayOpeners.values()) openers.delete(peer.id);
    this.peerEvent('unlinked', peer, reason);
    if (this.stopping) return;
    // A link dropped for a peer limit or cut off for trust says nothing about whether the peer still runs.
    this.memory?.peerLeft(peer.id, !droppedForLimit && !this.heldOff.has(peer.id));
    // A peer we cut off stays held for its own time, not a peer-limit hold.
    this.dialer.linkLost(peer.id, droppedForLimit && !this.heldOff.has(peer.id) ? 'peer-limit' : 'lost');
    if (droppedByPeer) this.dialer.holdReplacements(PEER_LIMIT_REPLACE_WAIT_MS);
  }

  private onFrame(link: Link, frame: string | Uint8Array): void {
    const peer = this.peers.get(link.peerId);
    if (!peer || peer.link !== link || this.stopping) return;
    peer.messagesIn++;
    this.messagesIn++;
    const parsed = parseFrame(frame);
    if (!parsed.ok && parsed.reason === 'unknown-type' && this.memory && typeof frame === 'string' && isMemoryFrameType(peekType(frame))) {
      return this.onMemoryFrame(peer, frame);
    }
    if (!parsed.ok) {
      if (parsed.reason === 'unknown-type') this.countReject(peer, parsed.reason, parsed.detail, 'debug');
      else this.countReject(peer, parsed.reason, parsed.detail, 'warn');
      return;
    }
    this.handle(peer, parsed.message);
  }

  private handle(peer: PeerRecord, message: Message): void {
    const result = peer.apply(message, this.cycle);
    // Only the drift earns trust: a display-only list (nbrs) costs nothing to send, so it would let a liar buy back what its lies cost.
    // At most one message a cycle earns trust (the rate TrustScore is calibrated for): a liar cannot outweigh its lies by sending more frames.
    if ((result.kind === 'ok' || result.kind === 'hello') && !peer.outlier && message.type !== 'sync' && message.type !== 'nbrs' && peer.trustEarnedCycle !== this.cycle) {
      peer.trustEarnedCycle = this.cycle;
      peer.trust.observe('fresh-message', this.now());
    }
    switch (result.kind) {
      case 'hello':
        this.sendFrame(peer, this.stateFrame());
        this.peerEvent('hello', peer, `hello from ${peer.name || peer.id}`);
        if (this.memory?.waitingForCopy && !this.standsProvisionally && peer.replica) this.standWith(peer.replica);
        if (peer.speaksMemory) this.memory?.peerReady(peer.id);
        return;
      case 'sync-requested':
        this.sendFrame(peer, this.stateFrame());
        return;
      case 'gap':
        this.askForSnapshot(peer, `diffs ${result.expected}..${result.got - 1} missing`);
        return;
      case 'bye':
        this.log('info', `${this.peerLabel(peer)} said bye (${result.reason})`);
        if (result.reason === BYE_OVER_PEER_LIMIT) peer.droppedByPeer = true;
        peer.link?.close(`bye: ${result.reason}`);
        return;
      case 'sig':
        this.onSig(peer, result.message);
        return;
      case 'rejected':
        this.countReject(peer, result.reason, result.detail, 'warn');
        if (result.reason === 'id-mismatch') peer.link?.close('hello id does not match the signaled id');
        else if (result.reason === 'coordinate-out-of-range') this.askForSnapshot(peer, result.detail);
        return;
      case 'ok':
        return;
    }
  }

  /** A memory frame (mdig, mrec, mwant) from a linked peer: only after its hello; a bad one is counted like any bad frame. */
  private onMemoryFrame(peer: PeerRecord, frame: string): void {
    if (!peer.helloed) return this.countReject(peer, 'before-hello', 'memory frame before hello', 'warn');
    const failed = this.memory!.receive(peer.id, frame);
    if (failed) this.countReject(peer, failed.reason === 'unknown-type' ? 'invalid-fields' : failed.reason, failed.detail, 'warn');
  }

  /** What the network memory sees of this node. */
  private memoryHost(): MemoryHost {
    const linked = (memoryOnly: boolean): string[] => {
      const ids: string[] = [];
      for (const p of this.peers.values()) if (p.link && p.helloed && !p.leaving && (!memoryOnly || p.speaksMemory)) ids.push(p.id);
      return ids;
    };
    return {
      selfId: this.id,
      now: () => this.now(),
      name: () => this.name,
      state: () => ({ drift: this.drift, tc: this.tc, cycle: this.cycle }),
      linkedPeers: () => linked(false),
      memoryPeers: () => linked(true),
      send: (peerId, frame) => {
        const peer = this.peers.get(peerId);
        return !!peer && !peer.leaving && this.sendFrame(peer, frame);
      },
      offence: (peerId, reason) => {
        const peer = this.peers.get(peerId);
        if (!peer) return;
        const now = this.now();
        peer.trust.observe('rejected-frame', now);
        if (peer.rejectBurst.record(now) && peer.link && !peer.leaving) this.cutOff(peer, peer.id, `a burst of refused network-memory frames (${reason})`, TRUST_HOLD_OFF_MS);
      },
      restore: (state) => this.restoreFrom(state),
      log: (level, message) => this.log(level, message),
    };
  }

  /**
   * A node waiting for the copy of its record stands where its first peer
   * stands until the copy comes: its starting drift (a fresh [0, 0]) would
   * otherwise pull its peers away for the second the restore takes.
   */
  private standWith(drift: readonly [number, number]): void {
    this.standsProvisionally = true;
    this.drift = [drift[0], drift[1]];
    const snapshot = this.stateFrame();
    for (const peer of this.peers.values()) if (peer.link && !peer.leaving) this.sendFrame(peer, snapshot);
  }

  /**
   * Continues from a copy of our own record (a node that lost its state):
   * its drift, tc and cycle replace ours, and every peer gets a snapshot at
   * once, since the jump is no diff.
   */
  private restoreFrom(state: { drift: [number, number]; tc: number; cycle: number }): void {
    this.drift = [state.drift[0], state.drift[1]];
    this.tc = state.tc;
    const before = this.cycle;
    this.cycle = Math.max(this.cycle, state.cycle);
    this.startCycle += this.cycle - before; // the rate counts cycles run, not the jump
    const snapshot = this.stateFrame();
    for (const peer of this.peers.values()) if (peer.link && !peer.leaving) this.sendFrame(peer, snapshot);
  }

  /**
   * Our direct peers, to each peer that asked (`nbrs`): a native node tells
   * its browser peers (their plane shows the node's peers, and they find one
   * another there); a browser node tells every peer that asked (so its hub
   * can draw the links between tabs). Native nodes do not send lists to each
   * other: nothing there needs them yet, and the cycle stays one frame per peer.
   */
  private shareNeighbours(): void {
    let frame: string | null = null;
    for (const peer of this.peers.values()) {
      if (!peer.link || peer.leaving || !peer.helloed || !peer.wantsNbrs) continue;
      if (this.kind === 'native' && peer.kind !== 'browser') continue;
      frame ??= this.neighboursFrame();
      this.sendFrame(peer, frame);
    }
  }

  private neighboursFrame(): string {
    const peers: Array<{ id: string; d: [number, number] | null; k?: NodeKind }> = [];
    for (const p of this.peers.values()) {
      if (!p.link || p.leaving || !p.helloed) continue;
      if (peers.length >= MAX_NBRS_ENTRIES) break;
      peers.push({ id: p.id, d: p.replica ? [p.replica[0], p.replica[1]] : null, ...(p.takesRelayed ? { k: p.kind } : {}) });
    }
    return encodeMessage({ type: 'nbrs', v: PROTOCOL_VERSION, peers });
  }

  /**
   * Installs the receiver of signaling that a relay delivers to us (the
   * browser transport). Without one, delivered `sig` frames are dropped.
   */
  setSignalInbox(inbox: ((signal: RelayedSignal) => void) | null): void {
    this.signalInbox = inbox;
  }

  /**
   * Asks peer `via` to relay a signaling frame (or the end of a session) to
   * its peer `to`. False if `via` is not linked, does not relay, or the
   * frame could not be queued.
   */
  sendSignal(via: string, to: string, sid: string, payload: { body: SignalFrame } | { end: { code: number; reason: string } }): boolean {
    const peer = this.peers.get(via);
    if (!peer?.link || !peer.helloed || !peer.relays || peer.leaving) return false;
    return this.sendFrame(peer, encodeMessage({ type: 'sig', v: PROTOCOL_VERSION, sid, to, ...payload } as SigMessage));
  }

  /**
   * A `sig` frame from a linked peer: either a request to relay (`to`), which
   * a native node forwards only between two linked peers that both listed
   * `relayed`, within RELAY_FRAMES_PER_SECOND per sender, with `from` set to
   * the sender's proven id; or a frame a relay delivers to us (`from`).
   */
  private onSig(peer: PeerRecord, message: SigMessage): void {
    const body = message.body === undefined ? null : parseSignalValue(message.body);
    if (body && !body.ok) return this.countReject(peer, 'invalid-fields', `sig: body: ${body.detail}`, 'warn');
    if (message.from !== undefined) {
      // Only a relay delivers, it names the sender it proved, and only to a node that said `relayed`.
      if (!peer.relays) return this.dropRelayed(peer, 'not-a-relay', true);
      if (!this.takesRelayed()) return this.dropRelayed(peer, 'not-relayed', true);
      if (!this.signalInbox) return this.dropRelayed(peer, 'no-inbox', false);
      const signal: RelayedSignal = { via: peer.id, from: message.from, sid: message.sid, body: body ? body.frame : null, end: message.end ?? null };
      try {
        this.signalInbox(signal);
      } catch (err) {
        this.log('warn', `relayed signaling handler failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      return;
    }
    const to = message.to!;
    if (this.kind !== 'native') return this.dropRelayed(peer, 'not-a-relay', true);
    if (!peer.takesRelayed) return this.dropRelayed(peer, 'sender-not-relayed', true);
    if (to === peer.id) return this.dropRelayed(peer, 'target-is-sender', true);
    // A relayed hello speaks for its sender: the relay proved who that is, and it is nobody else.
    if (body?.ok && body.frame.type === 'hello' && body.frame.id !== peer.id) return this.dropRelayed(peer, 'hello-not-sender', true);
    const now = this.now();
    // An answer within a session the target opened to the sender (it sent the hello) is the target's doing:
    // dropped past the sender's budget, but no offence, or an attacker could get an honest tab cut off by making it answer.
    const answering = (this.relayOpeners.get(peer.id)?.get(to) ?? Number.NEGATIVE_INFINITY) > now - SIGNAL_TIMEOUT_MS;
    // Every request takes a token, wherever it is addressed: a flood to ids we do not hold is a flood too.
    let bucket = this.relayBuckets.get(peer.id);
    if (!bucket) this.relayBuckets.set(peer.id, (bucket = new TokenBucket(RELAY_FRAMES_PER_SECOND, RELAY_FRAMES_BURST, now)));
    if (!bucket.take(now)) return this.dropRelayed(peer, 'rate', !answering);
    const target = this.peers.get(to);
    if (!target?.link || !target.helloed || target.leaving) return this.dropRelayed(peer, 'target-not-linked', false);
    if (!target.takesRelayed) return this.dropRelayed(peer, 'target-not-relayed', false);
    // Forward what we checked, re-encoded, not what was sent: unknown fields go, and nothing grows past the frame cap.
    const forwarded = encodeMessage({ type: 'sig', v: PROTOCOL_VERSION, sid: message.sid, from: peer.id, ...(body ? { body: { ...body.frame } } : { end: message.end! }) });
    if (utf8Length(forwarded) > MAX_FRAME_BYTES) return this.dropRelayed(peer, 'too-large', true);
    if (body?.frame.type === 'hello') this.noteRelayOpener(peer.id, to, now);
    if (this.sendFrame(target, forwarded)) this.relayCounters.forwarded++;
    else this.dropRelayed(peer, 'target-send-failed', false);
  }

  /** Whether this node takes relayed signaling (it announced `relayed`: a browser node). */
  private takesRelayed(): boolean {
    return (this.kind === 'browser' ? BROWSER_FEATURES : OWN_FEATURES).includes(FEATURE_RELAYED);
  }

  /** `dialer` sent `acceptor` a relayed hello (opened a session): the acceptor's answers for a while are not its own flood. */
  private noteRelayOpener(dialer: string, acceptor: string, now: number): void {
    let openers = this.relayOpeners.get(acceptor);
    if (!openers) this.relayOpeners.set(acceptor, (openers = new Map()));
    openers.set(dialer, now);
  }

  /** A relayed frame not forwarded or not taken: counted by reason; `offence` also costs the sender trust (a flood trips the reject burst). */
  private dropRelayed(peer: PeerRecord, reason: string, offence: boolean): void {
    const dropped = this.relayCounters.dropped;
    dropped[reason] = (dropped[reason] ?? 0) + 1;
    if (dropped[reason] <= 3 || dropped[reason] % 1000 === 0) this.log('info', `relayed signaling from ${this.peerLabel(peer)} dropped: ${reason}; ${dropped[reason]} so far`);
    if (!offence) return;
    const now = this.now();
    peer.trust.observe('rejected-frame', now);
    if (peer.rejectBurst.record(now) && peer.link && !peer.leaving) this.cutOff(peer, peer.id, `a burst of invalid relayed signaling (${reason})`, TRUST_HOLD_OFF_MS);
  }

  private askForSnapshot(peer: PeerRecord, why: string): void {
    if (peer.syncAskedAt !== null && this.cycle - peer.syncAskedAt < SYNC_RETRY_CYCLES) return;
    peer.syncAskedAt = this.cycle;
    this.log('info', `asking ${this.peerLabel(peer)} for a snapshot: ${why}`);
    this.sendFrame(peer, encodeMessage({ type: 'sync', v: PROTOCOL_VERSION }));
  }

  private countReject(peer: PeerRecord, reason: RejectReason, detail: string, level: LogLevel): void {
    peer.countReject(reason);
    if (reason !== 'unknown-type') {
      const now = this.now();
      peer.trust.observe('rejected-frame', now);
      if (peer.rejectBurst.record(now) && peer.link && !peer.leaving) {
        this.cutOff(peer, peer.id, `a burst of invalid frames (${reason})`, TRUST_HOLD_OFF_MS);
      }
    }
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
    const count = peer.rejects.get(reason)!;
    // Log the first few of each reason per peer, then every 1000th, so garbage cannot flood the log.
    if (count <= 3 || count % 1000 === 0) {
      this.log(level, `rejected frame from ${this.peerLabel(peer)}: ${reason} (${detail}); ${count} so far`);
    }
    if (count === 1) this.peerEvent('rejected', peer, `${reason}: ${detail}`);
  }

  private freshnessChanged(peer: PeerRecord, fresh: boolean): void {
    peer.wasFresh = fresh;
    if (fresh) this.peerEvent('fresh', peer, 'pulling again');
    else this.peerEvent('stale', peer, `no message for more than ${this.staleCycles} cycles`);
  }

  private peerLabel(peer: PeerRecord): string {
    return peer.name ? `${peer.name} (${peer.id.slice(0, 7)})` : peer.id.slice(0, 7);
  }

  private peerEvent(kind: PeerEventKind, peer: PeerRecord, detail: string): void {
    if (kind !== 'rejected') this.log(kind === 'stale' || kind === 'unlinked' ? 'warn' : 'info', `peer ${this.peerLabel(peer)} ${kind}: ${detail}`);
    this.events.emit('peer', { kind, peer: peer.status(this.cycle, this.staleCycles, this.now()), detail });
  }

  private log(level: LogLevel, message: string): void {
    this.events.emit('log', { level, message, at: Date.now() });
  }
}

/** The `type` of a JSON object frame, without a second full parse when it is not a memory frame. */
function peekType(frame: string): unknown {
  const match = /^\s*\{\s*"type"\s*:\s*"([a-z]{1,8})"/.exec(frame);
  if (match) return match[1];
  try {
    return (JSON.parse(frame) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}
