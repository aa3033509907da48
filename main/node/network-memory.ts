/**
 * The network memory of one running node (issue 12, docs/protocol.md
 * "Network memory"): its own signed state record, the record book it keeps
 * in step with its peers' by push-pull gossip on its own timer (never on
 * the cycle), the shard map that says whose copies it holds, and the
 * restore of a node that starts with its identity but without its state.
 *
 * DriftNode owns one and talks to it through a few hooks (peerReady,
 * peerLeft, receive, status); everything it needs from the node comes
 * through MemoryHost. The pure parts are main/memory/.
 */
import { digestFrame, digestOf, parseMemoryFrame, recordsFrame, wantFrame, type MemoryFrame, type MemoryParse } from '../memory/frames.js';
import { MISBEHAVIOUR, RecordBook, type AgedRecord, type BookRefusal } from '../memory/record-book.js';
import { checkRecord, nextSeq, signRecord, type RecordSigner, type RecordVerifier, type StateRecord, type VerifiedRecord } from '../memory/record.js';
import { ShardMap } from '../memory/shard-map.js';
import {
  GOSSIP_INTERVAL_MS,
  MAX_RECORD_PEERS,
  MAX_STORED_COPIES,
  RECORD_CHANGE_MIN_MS,
  RECORD_DROP_MS,
  RECORD_DROP_REFRESHES,
  RECORD_REFRESH_MS,
  RECORD_REFRESH_MS_PER_NODE,
  RECORD_STALE_REFRESHES,
  RESTORE_GATHER_MS,
  RESTORE_WAIT_MS,
  SHARD_QUICK_REBUILD_MAX,
  SHARD_REBUILD_MS,
  SHARD_SETTLE_MS,
} from '../model/limits.js';
import type { LogLevel, NetworkStatus } from '../bridge/api.js';
import { unref } from './unref.js';

/** What the memory needs from its node. */
export interface MemoryHost {
  readonly selfId: string;
  /** Monotonic milliseconds (the node's clock). */
  now(): number;
  name(): string;
  state(): { drift: readonly [number, number]; tc: number; cycle: number };
  /** Linked peers that said hello (their ids were proven by the transport): the record's peer list. */
  linkedPeers(): string[];
  /** Those of them that listed `mem.v1`. */
  memoryPeers(): string[];
  send(peerId: string, frame: string): boolean;
  /** A peer did what an honest node never does (a forged record, a flood): costs it trust, a burst cuts it off. */
  offence(peerId: string, reason: BookRefusal): void;
  /** The node continues from a copy of its own record. */
  restore(state: { drift: [number, number]; tc: number; cycle: number }): void;
  log(level: LogLevel, message: string): void;
}

/** What the store keeps across restarts (docs/store.md "memory"). */
export interface StoredMemory {
  /** The seq of our newest record: the next one is signed above it. */
  lastSeq: number;
  /** The copies this node holds, each with the wall-clock time its owner signed it (as far as we know). */
  copies: Array<{ rec: StateRecord; signedAt: number }>;
}

export interface NetworkMemoryOptions {
  crypto: RecordSigner & RecordVerifier;
  /** From the store; null or absent for a new one. */
  stored?: StoredMemory | null;
  /** The node starts without state: ask the peers for our own record and continue from it. */
  restore?: boolean;
  /** Called when what the store keeps changed (our seq, the copies we hold). */
  persist?: (memory: StoredMemory) => void;
  /** Wall clock, ms since 1970 (seq and `at`); Date.now by default. */
  wallClock?: () => number;
  random?: () => number;
  /** GOSSIP_INTERVAL_MS by default; benchmarks run faster rounds. */
  gossipIntervalMs?: number;
  /** MAX_KNOWN_NODES by default (tests). */
  maxKnown?: number;
}

/** The refresh interval for a network of `known` nodes (limits.ts RECORD_REFRESH_MS_PER_NODE says why). */
export function refreshInterval(known: number): number {
  return Math.max(RECORD_REFRESH_MS, known * RECORD_REFRESH_MS_PER_NODE);
}

type RestoreState = 'new' | 'waiting' | 'restored';

export class NetworkMemory {
  readonly book: RecordBook;
  readonly #host: MemoryHost;
  readonly #crypto: RecordSigner & RecordVerifier;
  readonly #persist: ((memory: StoredMemory) => void) | null;
  readonly #wall: () => number;
  readonly #random: () => number;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;
  #lastSeq: number;
  #signing = false;
  #signedAt = -Infinity;
  #signedPeers = '';
  #signedName = '';
  #refreshMs = RECORD_REFRESH_MS;
  #map: ShardMap | null = null;
  #mapKey = '';
  #rebuiltAt = -Infinity;
  #mappedSize = 0;
  #exchanges = 0;
  #restore: RestoreState;
  #restoreDeadline: number | null = null;
  #firstCopyAt: number | null = null;
  #restored: { seq: number; cycle: number } | null = null;
  /** Ids of the copies read from the store, held until the map has settled. */
  #storedIds = new Set<string>();
  #settleAt: number | null = null;
  #loading: Promise<void>;

  constructor(host: MemoryHost, options: NetworkMemoryOptions) {
    this.#host = host;
    this.#crypto = options.crypto;
    this.#persist = options.persist ?? null;
    this.#wall = options.wallClock ?? (() => Date.now());
    this.#random = options.random ?? Math.random;
    this.#intervalMs = options.gossipIntervalMs ?? GOSSIP_INTERVAL_MS;
    this.book = new RecordBook({ selfId: host.selfId, ...(options.maxKnown ? { maxKnown: options.maxKnown } : {}) });
    this.#lastSeq = options.stored?.lastSeq ?? 0;
    this.#restore = options.restore ? 'waiting' : 'new';
    this.#loading = this.#load(options.stored?.copies ?? []);
  }

  /** Starts the gossip timer (and signs our first record, unless we are waiting for a copy of it). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    unref(this.#timer);
    void this.#loading.then(() => this.tick());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#save();
  }

  /** Started without state and still waiting for a copy of our record. */
  get waitingForCopy(): boolean {
    return this.#restore === 'waiting';
  }

  /** A peer that speaks the memory said hello. A node waiting for its own record asks it at once. */
  peerReady(peerId: string): void {
    if (this.#stopped) return;
    const now = this.#host.now();
    this.#settleAt ??= now + SHARD_SETTLE_MS;
    if (this.#restore !== 'waiting') return;
    this.#restoreDeadline ??= now + RESTORE_WAIT_MS;
    this.book.asked(peerId, [this.#host.selfId], now);
    this.#host.send(peerId, wantFrame([this.#host.selfId]));
  }

  /** A peer's link went; `offline`: the peer itself went away (not a link dropped for a peer limit). */
  peerLeft(peerId: string, offline: boolean): void {
    if (offline) this.book.markOffline(peerId);
  }

  /**
   * A memory frame (`mdig`, `mrec`, `mwant`) from a peer that said hello.
   * Returns the parse failure for the node to count like any bad frame, or
   * null; the records are checked asynchronously.
   */
  receive(peerId: string, text: string): Extract<MemoryParse, { ok: false }> | null {
    const parsed = parseMemoryFrame(text);
    if (!parsed.ok) return parsed;
    if (this.#stopped) return null;
    this.#handle(peerId, parsed.frame).catch((err: unknown) => {
      this.#host.log('warn', `network memory: a frame from ${peerId.slice(0, 7)} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    return null;
  }

  /** One gossip round: expire, refresh our record, rebuild the map, restore, and one exchange. Timers call it; tests may too. */
  tick(): void {
    if (this.#stopped) return;
    const now = this.#host.now();
    this.book.expire(now);
    this.#advanceRestore(now);
    this.#refreshOwn(now);
    // A small book is cheap to map (O(N^2) hashes): then a change is mapped within two rounds, not ten seconds.
    const since = now - this.#rebuiltAt;
    if (since >= SHARD_REBUILD_MS || (this.book.size !== this.#mappedSize && this.book.size <= SHARD_QUICK_REBUILD_MAX && since >= 2 * this.#intervalMs)) this.#rebuild(now);
    const peers = this.#host.memoryPeers();
    if (peers.length === 0) return;
    const peer = peers[Math.floor(this.#random() * peers.length)]!;
    if (this.#host.send(peer, digestFrame(this.book.digest(peer, now)))) this.#exchanges++;
  }

  status(): NetworkStatus {
    const now = this.#host.now();
    const self = this.#host.selfId;
    return {
      nodes: this.book.known(now).map(({ record: r, status, ageMs, held }) => ({
        id: r.id,
        name: r.name,
        drift: [r.drift[0], r.drift[1]],
        tc: r.tc,
        cycle: r.cycle,
        peers: [...r.peers],
        seq: r.seq,
        status,
        ageMs: Math.round(ageMs),
        held,
        self: r.id === self,
      })),
      refusals: this.book.refusals() as Record<string, number>,
      duplicates: this.book.duplicates,
      exchanges: this.#exchanges,
      refreshMs: this.#refreshMs,
      holders: this.#map ? this.#map.holdersOf(self) : [],
      restore: { state: this.#restore, seq: this.#restored?.seq ?? null, cycle: this.#restored?.cycle ?? null },
    };
  }

  /** Copies from the store: checked like any record (the file is ours, but a record is only as good as its signature). */
  async #load(copies: StoredMemory['copies']): Promise<void> {
    const wall = this.#wall();
    for (const { rec, signedAt } of copies.slice(0, MAX_STORED_COPIES)) {
      const checked = await checkRecord(rec, this.#crypto);
      if (!checked.ok || checked.record.id === this.#host.selfId) continue;
      this.#storedIds.add(checked.record.id);
      this.book.setHeld(this.#storedIds);
      this.book.offer(checked.record, null, this.#host.now(), Math.max(0, wall - signedAt));
    }
  }

  async #handle(peerId: string, frame: MemoryFrame): Promise<void> {
    const now = this.#host.now();
    switch (frame.type) {
      case 'mdig': {
        const answer = this.book.answerDigest(peerId, digestOf(frame), now);
        if (!answer) return this.#host.offence(peerId, 'too-frequent');
        if (answer.send.length > 0) this.#host.send(peerId, recordsFrame(answer.send));
        if (answer.want.length > 0) this.#host.send(peerId, wantFrame(answer.want));
        return;
      }
      case 'mwant': {
        const records = this.book.answerWant(peerId, frame.ids, now);
        if (!records) return this.#host.offence(peerId, 'too-frequent');
        if (records.length > 0) this.#host.send(peerId, recordsFrame(records));
        return;
      }
      case 'mrec': {
        const ids = frame.r.map(({ rec }) => {
          const id = (rec as { id?: unknown } | null)?.id;
          return typeof id === 'string' ? id : '';
        });
        const admitted = this.book.admit(peerId, ids, now);
        for (let i = 0; i < frame.r.length; i++) {
          if (!admitted[i]) {
            this.#host.offence(peerId, 'unsolicited');
            continue;
          }
          const { rec, age } = frame.r[i]!;
          const checked = await checkRecord(rec, this.#crypto);
          const at = this.#host.now();
          if (!checked.ok) {
            this.book.refuse(checked.reason, peerId, at);
            if (MISBEHAVIOUR.has(checked.reason)) this.#host.offence(peerId, checked.reason);
            continue;
          }
          const offered = this.book.offer(checked.record, peerId, at, age);
          if (!offered.ok && offered.reason !== 'duplicate' && MISBEHAVIOUR.has(offered.reason)) this.#host.offence(peerId, offered.reason);
          if (checked.record.id === this.#host.selfId) this.#ownCopyArrived(at);
        }
        return;
      }
    }
  }

  #ownCopyArrived(now: number): void {
    const copy = this.book.ownFromNetwork();
    if (!copy) return;
    // Whatever happens, our next record must be newer than any copy of us out there.
    this.#lastSeq = Math.max(this.#lastSeq, copy.record.seq);
    if (this.#restore !== 'waiting' || this.#firstCopyAt !== null) return;
    this.#firstCopyAt = now;
    // Adopt as soon as the gathering ends, not at the next round.
    const timer = setTimeout(() => {
      if (!this.#stopped) this.#advanceRestore(this.#host.now());
    }, RESTORE_GATHER_MS + 5); // a timer may fire a millisecond early
    unref(timer);
  }

  #advanceRestore(now: number): void {
    if (this.#restore !== 'waiting') return;
    const copy = this.book.ownFromNetwork();
    if (copy && this.#firstCopyAt !== null && now - this.#firstCopyAt >= RESTORE_GATHER_MS) return this.#adopt(copy);
    if (this.#restoreDeadline !== null && now >= this.#restoreDeadline) {
      if (copy) return this.#adopt(copy);
      this.#restore = 'new';
      this.#host.log('info', `network memory: no peer holds a copy of this node's record; starting from the state it has`);
    }
  }

  #adopt(copy: AgedRecord): void {
    const r = copy.record;
    this.#restore = 'restored';
    this.#restored = { seq: r.seq, cycle: r.cycle };
    this.#lastSeq = Math.max(this.#lastSeq, r.seq);
    this.#host.restore({ drift: [r.drift[0], r.drift[1]], tc: r.tc, cycle: r.cycle });
    this.#host.log('info', `network memory: continuing from the copy of this node's record (seq ${r.seq}, cycle ${r.cycle}, drift [${r.drift[0]}, ${r.drift[1]}], signed ${Math.round(copy.ageMs / 1000)} s ago)`);
    this.#signedAt = -Infinity;
    this.#refreshOwn(this.#host.now());
  }

  /** Signs our record when the refresh is due, or when our links or name changed (not sooner than RECORD_CHANGE_MIN_MS). */
  #refreshOwn(now: number): void {
    if (this.#restore === 'waiting' || this.#signing) return;
    const peers = this.#host.linkedPeers().sort().slice(0, MAX_RECORD_PEERS).join(',');
    const name = this.#host.name();
    const since = now - this.#signedAt;
    const changed = peers !== this.#signedPeers || name !== this.#signedName;
    const due = since >= this.#refreshMs || (changed && since >= Math.max(RECORD_CHANGE_MIN_MS, this.#refreshMs / 3));
    if (!due) return;
    this.#signing = true;
    const state = this.#host.state();
    const wall = this.#wall();
    const seq = nextSeq(this.#lastSeq, wall);
    signRecord({ name, drift: state.drift, tc: state.tc, cycle: state.cycle, peers: peers === '' ? [] : peers.split(','), seq, at: wall }, this.#crypto)
      .then((record: VerifiedRecord) => {
        if (this.#stopped) return;
        this.#lastSeq = Math.max(this.#lastSeq, record.seq);
        this.book.setOwn(record, this.#host.now());
        this.#signedAt = now;
        this.#signedPeers = peers;
        this.#signedName = name;
        this.#save();
      })
      .catch((err: unknown) => this.#host.log('error', `network memory: cannot sign this node's record: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.#signing = false;
      });
  }

  /** The shard map from the ids we know, the copies we hold, and the lifetimes for the known N. */
  #rebuild(now: number): void {
    this.#rebuiltAt = now;
    this.#mappedSize = this.book.size;
    const known = this.book.known(now);
    const ids = known.map((k) => k.record.id);
    if (!ids.includes(this.#host.selfId)) ids.push(this.#host.selfId);
    this.#refreshMs = refreshInterval(ids.length);
    this.book.setLifetimes(RECORD_STALE_REFRESHES * this.#refreshMs, Math.max(RECORD_DROP_MS, RECORD_DROP_REFRESHES * this.#refreshMs));
    const key = ids.sort().join(',');
    if (key !== this.#mapKey) {
      this.#mapKey = key;
      this.#map = new ShardMap(ids);
    }
    const held = new Set(this.#map!.heldBy(this.#host.selfId));
    const settling = this.#settleAt === null || now < this.#settleAt;
    if (settling) for (const id of this.#storedIds) held.add(id);
    else this.#storedIds.clear();
    this.book.setHeld(held);
    this.#save();
  }

  #save(): void {
    if (!this.#persist) return;
    const now = this.#host.now();
    const wall = this.#wall();
    const copies = this.book
      .known(now)
      .filter((k) => k.held && k.record.id !== this.#host.selfId)
      .slice(0, MAX_STORED_COPIES)
      .map((k) => ({ rec: { ...k.record, peers: [...k.record.peers], drift: [k.record.drift[0], k.record.drift[1]] as [number, number] }, signedAt: Math.round(wall - k.ageMs) }));
    try {
      this.#persist({ lastSeq: this.#lastSeq, copies });
    } catch (err) {
      this.#host.log('warn', `network memory: cannot keep the copies in the store: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
