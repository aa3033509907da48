/**
 * The record book: the signed state records a node remembers of the
 * network (issue 12), and the push-pull anti-entropy that keeps it in step
 * with its peers' books. Pure and deterministic: time comes in as an
 * argument (milliseconds of one monotonic clock), records come in already
 * checked (checkRecord), and nothing here sends anything: it says what to
 * send.
 *
 * One exchange, started by A with a random linked peer B every
 * GOSSIP_INTERVAL_MS (docs/protocol.md "Network memory"):
 *
 *   A -> B  digest: (id, seq) of A's hot records and of one page of A's
 *           book (an id range; the pages rotate, so every record is
 *           compared within ceil(N / page) exchanges)
 *   B -> A  records A lacks or holds older (B's hot ones first, then those
 *           in the page), and a want: the ids A holds newer than B
 *   A -> B  the records B wanted
 *
 * A record is hot for RECORD_HOT_MS after a node took it: new records ride
 * in every digest and spread like push-pull rumours, in about
 * log2(N) + ln(ln(N)) rounds (bench/memory.mjs measures it); the page
 * sweep repairs whatever the rumour missed.
 *
 * Limits: at most MAX_KNOWN_NODES records (a new id takes the place of a
 * stale one, or is refused); per source, new ids from a token bucket and
 * requests (digests, wants) from another; records are taken from a peer
 * only as the answer to our own digest or want. Every refusal is counted
 * by reason, in total and per source.
 */
import {
  COPY_KEEP_MS,
  DIGEST_PAGE_ENTRIES,
  MAX_DIGEST_ENTRIES,
  MAX_KNOWN_NODES,
  MAX_MEMORY_SOURCES,
  MAX_RECORDS_PER_EXCHANGE,
  MEMORY_ANSWER_WAIT_MS,
  MEMORY_REQUESTS_BURST_PER_SOURCE,
  MEMORY_REQUESTS_PER_SOURCE_PER_SECOND,
  NEW_IDS_BURST_PER_SOURCE,
  NEW_IDS_PER_SOURCE_PER_MINUTE,
  RECORD_DROP_MS,
  RECORD_HOT_MS,
  RECORD_STALE_MS,
} from '../model/limits.js';
import { RECORD_FAILURES, type VerifiedRecord } from './record.js';

/** Why a record or a request was not taken. */
export const BOOK_REFUSALS = [
  ...RECORD_FAILURES,
  /** We hold a newer record of that node. */
  'older-seq',
  /** Another record with the seq we hold: the owner signed two (a copied identity running twice); the first stays. */
  'conflicting-seq',
  /** Older than RECORD_DROP_MS on arrival. */
  'expired',
  /** The book holds MAX_KNOWN_NODES records and none is stale enough to give up. */
  'book-full',
  /** The source brought more new ids than its bucket allows. */
  'source-limit',
  /** The source sent digests or wants faster than its bucket allows. */
  'too-frequent',
  /** Records we did not ask for (no digest or want of ours is waiting for them). */
  'unsolicited',
  /** A record of our own id from someone else: kept apart as a restore candidate, never as a known node (not counted). */
  'own-record',
] as const;
export type BookRefusal = (typeof BOOK_REFUSALS)[number];

/**
 * Refusals an honest node (running this code) never causes: evidence
 * against the source's trust (main/model/trust.ts 'rejected-frame'). The
 * others happen between honest nodes (races, a full book, a slow path).
 */
export const MISBEHAVIOUR: ReadonlySet<BookRefusal> = new Set<BookRefusal>([
  'bad-record',
  'too-many-peers',
  'key-does-not-match-id',
  'bad-signature',
  'too-frequent',
  'unsolicited',
]);

/** fresh: refreshed lately; stale: its owner has gone quiet; offline: seen leaving; copy: kept past expiry by a holder. */
export type NodeRecordStatus = 'fresh' | 'stale' | 'offline' | 'copy';

export interface KnownNode {
  readonly record: VerifiedRecord;
  readonly status: NodeRecordStatus;
  /** Milliseconds since its owner signed it, as far as the gossip path tells (the sum of each hop's holding time). */
  readonly ageMs: number;
  /** This node is one of its holders (the shard map). */
  readonly held: boolean;
}

/** A digest: (id, seq) pairs and the id range [from, to) its page covers ('' = open end); entries outside the range are hot ones. */
export interface Digest {
  readonly range: readonly [string, string];
  readonly entries: readonly (readonly [string, number])[];
}

/** A record as sent in an answer: with how long the sender has known it (its age then). */
export interface AgedRecord {
  readonly record: VerifiedRecord;
  readonly ageMs: number;
}

export interface DigestAnswer {
  readonly send: readonly AgedRecord[];
  readonly want: readonly string[];
}

export type OfferResult = { ok: true; news: 'new-node' | 'newer' } | { ok: false; reason: BookRefusal | 'duplicate' };

export interface RecordBookOptions {
  selfId: string;
  maxKnown?: number;
  staleMs?: number;
  dropMs?: number;
  hotMs?: number;
  copyKeepMs?: number;
  maxDigestEntries?: number;
  pageEntries?: number;
  maxPerExchange?: number;
}

interface Entry {
  record: VerifiedRecord;
  /** Local time its owner signed it, as far as we know: arrival minus the age it came with. */
  signedAt: number;
  /** Local time we took this seq: it is hot until takenAt + hotMs. */
  takenAt: number;
  offline: boolean;
}

/** A token bucket refilled continuously; time from the caller. */
class Bucket {
  #tokens: number;
  #at: number;
  constructor(
    private readonly perMs: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }
  take(now: number): boolean {
    if (now > this.#at) this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#at) * this.perMs);
    this.#at = Math.max(this.#at, now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

interface Source {
  newIds: Bucket;
  requests: Bucket;
  refusals: Map<BookRefusal, number>;
  /** Records we wait for from this source: any (the answer to our digest) up to a count, or the ids of our want. */
  expecting: { until: number; any: number; ids: Set<string> } | null;
}

/** True when `id` lies in [from, to), '' being the open end on either side. */
function inRange(id: string, [from, to]: readonly [string, string]): boolean {
  return id >= from && (to === '' || id < to);
}

export class RecordBook {
  readonly selfId: string;
  readonly #maxKnown: number;
  #staleMs: number;
  #dropMs: number;
  readonly #hotMs: number;
  readonly #copyKeepMs: number;
  readonly #maxDigest: number;
  readonly #pageEntries: number;
  readonly #maxPerExchange: number;
  readonly #entries = new Map<string, Entry>();
  /** Least recently heard first (a Map keeps insertion order; a source heard again moves to the end). */
  readonly #sources = new Map<string, Source>();
  readonly #refusals = new Map<BookRefusal, number>();
  #duplicates = 0;
  #held = new Set<string>();
  /** The page the next digest starts at (an id; '' = the beginning). */
  #cursor = '';
  /** The newest record of our own id that others sent (a restore candidate). */
  #ownFromNetwork: AgedRecord | null = null;

  constructor(options: RecordBookOptions) {
    this.selfId = options.selfId;
    this.#maxKnown = options.maxKnown ?? MAX_KNOWN_NODES;
    this.#staleMs = options.staleMs ?? RECORD_STALE_MS;
    this.#dropMs = options.dropMs ?? RECORD_DROP_MS;
    this.#hotMs = options.hotMs ?? RECORD_HOT_MS;
    this.#copyKeepMs = options.copyKeepMs ?? COPY_KEEP_MS;
    this.#maxDigest = options.maxDigestEntries ?? MAX_DIGEST_ENTRIES;
    this.#pageEntries = options.pageEntries ?? DIGEST_PAGE_ENTRIES;
    this.#maxPerExchange = options.maxPerExchange ?? MAX_RECORDS_PER_EXCHANGE;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Changes when records are shown stale and dropped (the node stretches
   * both with its refresh interval as the network grows, main/node/network-memory.ts).
   */
  setLifetimes(staleMs: number, dropMs: number): void {
    if (!(staleMs > 0 && dropMs >= staleMs)) throw new RangeError(`setLifetimes: need 0 < staleMs <= dropMs (got ${staleMs}, ${dropMs})`);
    this.#staleMs = staleMs;
    this.#dropMs = dropMs;
  }

  get staleMs(): number {
    return this.#staleMs;
  }

  get dropMs(): number {
    return this.#dropMs;
  }

  /** Our own newest record: always kept, always fresh. */
  setOwn(record: VerifiedRecord, now: number): void {
    if (record.id !== this.selfId) throw new RangeError(`setOwn: ${record.id} is not this node (${this.selfId})`);
    this.#entries.set(record.id, { record, signedAt: now, takenAt: now, offline: false });
  }

  own(): VerifiedRecord | null {
    return this.#entries.get(this.selfId)?.record ?? null;
  }

  /** The newest record of our own id others sent us: what a node that lost its state continues from. */
  ownFromNetwork(): AgedRecord | null {
    return this.#ownFromNetwork;
  }

  /**
   * Takes a checked record from `source` (a peer id; null for our own
   * store), which held it for `ageMs` already. The newest seq wins.
   */
  offer(record: VerifiedRecord, source: string | null, now: number, ageMs = 0): OfferResult {
    const refuse = (reason: BookRefusal): OfferResult => {
      this.refuse(reason, source, now);
      return { ok: false, reason };
    };
    const age = Math.max(0, ageMs);
    if (record.id === this.selfId) {
      const best = this.#ownFromNetwork;
      if (!best || record.seq > best.record.seq) this.#ownFromNetwork = { record, ageMs: age };
      // Not counted: it is what a restore asks for, and our peers' copies of us are no misbehaviour.
      return { ok: false, reason: 'own-record' };
    }
    const existing = this.#entries.get(record.id);
    if (existing) {
      if (record.seq < existing.record.seq) return refuse('older-seq');
      if (record.seq === existing.record.seq) {
        if (record.sig === existing.record.sig) {
          this.#duplicates++;
          return { ok: false, reason: 'duplicate' };
        }
        return refuse('conflicting-seq');
      }
    }
    // A newer seq is news even when the path was slow; an unknown node is not worth a place once it is this old.
    if (age >= this.#dropMs && !(existing || this.#held.has(record.id))) return refuse('expired');
    if (!existing) {
      if (this.#entries.size >= this.#maxKnown && !this.#evictOne(now)) return refuse('book-full');
      if (source !== null && !this.#source(source, now).newIds.take(now)) return refuse('source-limit');
    }
    this.#entries.set(record.id, { record, signedAt: now - age, takenAt: now, offline: false });
    return { ok: true, news: existing ? 'newer' : 'new-node' };
  }

  /** Counts a refusal (also those of checkRecord, which the caller ran), in total and against `source`. */
  refuse(reason: BookRefusal, source: string | null, now: number): void {
    this.#refusals.set(reason, (this.#refusals.get(reason) ?? 0) + 1);
    if (source === null) return;
    const counts = this.#source(source, now).refusals;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }

  /** Refusals by reason, over all sources. */
  refusals(): Partial<Record<BookRefusal, number>> {
    return Object.fromEntries(this.#refusals);
  }

  /** Refusals caused by one source, by reason (empty for a source we keep no counters for). */
  refusalsOf(source: string): Partial<Record<BookRefusal, number>> {
    return Object.fromEntries(this.#sources.get(source)?.refusals ?? []);
  }

  /** Records we received again that we already held: the cost of push without knowing. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** A node seen leaving (its link to us closed, or it said bye): offline until a newer record of it arrives. */
  markOffline(id: string): void {
    const entry = this.#entries.get(id);
    if (entry && id !== this.selfId) entry.offline = true;
  }

  /** The ids whose copies this node holds (from the shard map): kept past RECORD_DROP_MS, up to COPY_KEEP_MS. */
  setHeld(ids: Iterable<string>): void {
    this.#held = new Set(ids);
  }

  /** Drops records whose owners went quiet (copies we hold stay longer); returns the ids dropped. */
  expire(now: number): string[] {
    const dropped: string[] = [];
    for (const [id, entry] of this.#entries) {
      if (id === this.selfId) continue;
      const age = now - entry.signedAt;
      if (age < this.#dropMs || (this.#held.has(id) && age < this.#copyKeepMs)) continue;
      this.#entries.delete(id);
      dropped.push(id);
    }
    return dropped;
  }

  status(id: string, now: number): NodeRecordStatus | null {
    const entry = this.#entries.get(id);
    return entry ? this.#statusOf(id, entry, now) : null;
  }

  get(id: string): VerifiedRecord | null {
    return this.#entries.get(id)?.record ?? null;
  }

  /** Every node in the book, with its status: the network view. */
  known(now: number): KnownNode[] {
    return [...this.#entries].map(([id, entry]) => ({
      record: entry.record,
      status: this.#statusOf(id, entry, now),
      ageMs: Math.max(0, now - entry.signedAt),
      held: this.#held.has(id),
    }));
  }

  /**
   * Our digest for an exchange with `peer`, and the note that its answer
   * (at most one answer's worth of records) is welcome for MEMORY_ANSWER_WAIT_MS.
   * Hot records first (newest first, at most a quarter of the entries),
   * then one page of the book in id order, starting where the last one ended.
   */
  digest(peer: string, now: number): Digest {
    const live = this.#live(now);
    const hot = live
      .filter(([, e]) => now - e.takenAt < this.#hotMs)
      .sort((a, b) => b[1].takenAt - a[1].takenAt)
      .slice(0, Math.floor(this.#maxDigest / 4));
    const hotIds = new Set(hot.map(([id]) => id));
    const sorted = live.map(([id]) => id).sort();
    let start = sorted.findIndex((id) => id >= this.#cursor);
    if (start < 0) start = 0;
    const room = Math.min(this.#pageEntries, this.#maxDigest - hot.length);
    const page = sorted.slice(start, start + room);
    const from = start === 0 ? '' : sorted[start]!;
    const next = sorted[start + room];
    const to = next ?? '';
    this.#cursor = to;
    const entries: [string, number][] = hot.map(([id, e]) => [id, e.record.seq]);
    for (const id of page) if (!hotIds.has(id)) entries.push([id, this.#entries.get(id)!.record.seq]);
    this.#expect(peer, now, { any: this.#maxPerExchange });
    return { range: [from, to], entries };
  }

  /**
   * Our answer to `peer`'s digest: the records it lacks or holds older (our
   * hot ones first, then those in its page), and the ids it holds newer
   * than we do (our want, noted so that its records are welcome).
   * Null when the peer asks faster than its bucket allows ('too-frequent').
   */
  answerDigest(peer: string, digest: Digest, now: number): DigestAnswer | null {
    if (!this.#source(peer, now).requests.take(now)) {
      this.refuse('too-frequent', peer, now);
      return null;
    }
    const theirs = new Map<string, number>();
    for (const [id, seq] of digest.entries) theirs.set(id, seq);
    const want: string[] = [];
    for (const [id, seq] of theirs) {
      if (want.length >= this.#maxPerExchange) break;
      // Our own id too: a copy newer than what we run on is what a node that lost its state needs.
      const mine = this.#entries.get(id)?.record.seq;
      if (mine === undefined || mine < seq) want.push(id);
    }
    const lacking = (id: string, e: Entry) => {
      const seq = theirs.get(id);
      return seq === undefined || seq < e.record.seq;
    };
    const live = this.#live(now);
    const hot = live.filter(([id, e]) => now - e.takenAt < this.#hotMs && lacking(id, e)).sort((a, b) => b[1].takenAt - a[1].takenAt);
    const paged = live.filter(([id, e]) => now - e.takenAt >= this.#hotMs && inRange(id, digest.range) && lacking(id, e)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const send = [...hot, ...paged].slice(0, this.#maxPerExchange).map(([, e]) => this.#aged(e, now));
    if (want.length > 0) this.#expect(peer, now, { ids: want });
    return { send, want };
  }

  /** The records `peer` wanted that we hold (copies included: a restore asks for them). Null when too frequent. */
  answerWant(peer: string, ids: readonly string[], now: number): AgedRecord[] | null {
    if (!this.#source(peer, now).requests.take(now)) {
      this.refuse('too-frequent', peer, now);
      return null;
    }
    const out: AgedRecord[] = [];
    for (const id of new Set(ids)) {
      if (out.length >= this.#maxPerExchange) break;
      const entry = this.#entries.get(id);
      if (entry) out.push(this.#aged(entry, now));
    }
    return out;
  }

  /** Notes that we asked `peer` for these ids outside an exchange (a restore asking for our own record). */
  asked(peer: string, ids: readonly string[], now: number): void {
    this.#expect(peer, now, { ids: ids.slice(0, this.#maxPerExchange) });
  }

  /**
   * Which of the records `peer` just sent we asked for: the rest are
   * counted 'unsolicited' and must be dropped unchecked. Call before
   * checking signatures, so an unasked flood costs no verification.
   */
  admit(peer: string, ids: readonly string[], now: number): boolean[] {
    const expecting = this.#sources.get(peer)?.expecting ?? null;
    const live = expecting !== null && now <= expecting.until;
    return ids.map((id) => {
      if (live && expecting.ids.delete(id)) return true;
      if (live && expecting.any > 0) {
        expecting.any--;
        return true;
      }
      this.refuse('unsolicited', peer, now);
      return false;
    });
  }

  /** Forgets a source's counters and expectations (its link is gone for good). */
  forgetSource(peer: string): void {
    this.#sources.delete(peer);
  }

  #aged(entry: Entry, now: number): AgedRecord {
    return { record: entry.record, ageMs: Math.max(0, Math.round(now - entry.signedAt)) };
  }

  #expect(peer: string, now: number, what: { any?: number; ids?: readonly string[] }): void {
    const source = this.#source(peer, now);
    const current = source.expecting && now <= source.expecting.until ? source.expecting : { until: 0, any: 0, ids: new Set<string>() };
    current.until = now + MEMORY_ANSWER_WAIT_MS;
    current.any = Math.max(current.any, what.any ?? 0);
    for (const id of what.ids ?? []) current.ids.add(id);
    source.expecting = current;
  }

  /** Records we gossip: not past RECORD_DROP_MS (copies kept longer are served on a want, never advertised). */
  #live(now: number): [string, Entry][] {
    return [...this.#entries].filter(([id, e]) => id === this.selfId || now - e.signedAt < this.#dropMs);
  }

  #statusOf(id: string, entry: Entry, now: number): NodeRecordStatus {
    if (id === this.selfId) return 'fresh';
    const age = now - entry.signedAt;
    if (age >= this.#dropMs) return 'copy';
    if (entry.offline) return 'offline';
    return age >= this.#staleMs ? 'stale' : 'fresh';
  }

  /** Makes room for a new node: gives up the longest-quiet record that is stale and not held (offline ones first). */
  #evictOne(now: number): boolean {
    let victim: string | null = null;
    let victimScore = -Infinity;
    for (const [id, entry] of this.#entries) {
      if (id === this.selfId || this.#held.has(id)) continue;
      const age = now - entry.signedAt;
      if (age < this.#staleMs && !entry.offline) continue;
      const score = age + (entry.offline ? this.#copyKeepMs : 0);
      if (score > victimScore) {
        victim = id;
        victimScore = score;
      }
    }
    if (victim === null) return false;
    this.#entries.delete(victim);
    return true;
  }

  /** The counters of `peer`, made if missing; the table keeps the MAX_MEMORY_SOURCES heard most recently. */
  #source(peer: string, now: number): Source {
    let source = this.#sources.get(peer);
    if (source) {
      this.#sources.delete(peer);
      this.#sources.set(peer, source);
      return source;
    }
    source = {
      newIds: new Bucket(NEW_IDS_PER_SOURCE_PER_MINUTE / 60_000, NEW_IDS_BURST_PER_SOURCE, now),
      requests: new Bucket(MEMORY_REQUESTS_PER_SOURCE_PER_SECOND / 1000, MEMORY_REQUESTS_BURST_PER_SOURCE, now),
      refusals: new Map(),
      expecting: null,
    };
    this.#sources.set(peer, source);
    while (this.#sources.size > MAX_MEMORY_SOURCES) this.#sources.delete(this.#sources.keys().next().value!);
    return source;
  }
}
