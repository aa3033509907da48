/**
 * Network memory (issue 12), the pure parts: signed state records, the
 * record book and its push-pull anti-entropy, the frames, and the shard
 * map. Real Ed25519 (node:crypto, the native node's HandshakeCrypto); the
 * book is fed a clock, so nothing here waits.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeHandshakeCrypto } from '../main/identity/handshake-crypto.js';
import { checkIdentity, createIdentity } from '../main/identity/identity.js';
import {
  MAX_DIGEST_ENTRIES,
  MAX_FRAME_BYTES,
  MAX_KNOWN_NODES,
  MAX_NAME_LENGTH,
  MAX_RECORD_PEERS,
  MAX_RECORDS_PER_EXCHANGE,
  NEW_IDS_BURST_PER_SOURCE,
  RECORD_DROP_MS,
  RECORD_STALE_MS,
  COPY_KEEP_MS,
} from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { digestFrame, digestOf, parseMemoryFrame, recordsFrame, wantFrame } from '../main/memory/frames.js';
import { MISBEHAVIOUR, RecordBook, type AgedRecord } from '../main/memory/record-book.js';
import { assumeVerified, checkRecord, nextSeq, recordText, signRecord, type RecordFields, type StateRecord, type VerifiedRecord } from '../main/memory/record.js';
import { ShardMap } from '../main/memory/shard-map.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A well-formed id from a seeded source (not a key's: for the book and the map, which never look at keys). */
function fakeId(random: () => number): string {
  const c = () => BASE32[Math.floor(random() * 32)]!;
  const group = (n: number) => Array.from({ length: n }, c).join('');
  return `${group(7)}-${group(7)}-${group(7)}-${group(5)}`;
}

function fields(over: Partial<RecordFields> = {}): RecordFields {
  return { name: 'alpha', drift: [4.7958123, -0.98], tc: 0.75, cycle: 21, peers: [], seq: 1, ...over };
}

/** A record of `id` for the book, which takes records as already checked. */
function fakeRecord(id: string, seq: number, sig = 'A'.repeat(86) + '=='): VerifiedRecord {
  return assumeVerified({ id, key: 'A'.repeat(43) + '=', name: '', drift: [0, 0], tc: 1, cycle: seq, peers: [], seq, sig });
}

describe('signed state records', () => {
  const owner = nodeHandshakeCrypto(createIdentity());
  const other = nodeHandshakeCrypto(createIdentity());

  it('signs on the fixed-point grid and verifies with nothing but the record', async () => {
    const peerIds = [createIdentity().id, createIdentity().id];
    const record = await signRecord(fields({ peers: [...peerIds, peerIds[0]!], at: 1_700_000_000_000 }), owner);
    expect(record.drift).toEqual([4.795812, -0.98]);
    expect(record.peers).toEqual([...peerIds].sort());
    const wire = JSON.parse(JSON.stringify(record)) as unknown;
    const checked = await checkRecord(wire, other);
    expect(checked).toMatchObject({ ok: true, record: { id: record.id, seq: 1 } });
    // The signed text: the domain line first, integers for the numbers, ASCII only.
    const { sig: _sig, ...unsigned } = record;
    const text = String.fromCharCode(...recordText({ ...unsigned, name: 'é"\n' }));
    expect(text.split('\n')[0]).toBe('lvs-node record v1');
    expect(text).toContain('drift 4795812 -980000');
    expect(text).toContain('name "\\u00e9\\"\\n"');
  });

  it('refuses an altered, re-keyed, off-grid or over-long record with a named reason', async () => {
    const record = await signRecord(fields({ seq: 7 }), owner);
    const altered = { ...record, drift: [5, -0.98] };
    expect(await checkRecord(altered, other)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(await checkRecord({ ...record, seq: 8 }, other)).toMatchObject({ ok: false, reason: 'bad-signature' });
    // Another node's key under this id, even with that node's valid signature over the text.
    const foreign = await signRecord(fields({ seq: 7 }), other);
    expect(await checkRecord({ ...foreign, id: record.id }, other)).toMatchObject({ ok: false, reason: 'key-does-not-match-id' });
    expect(await checkRecord({ ...record, tc: 0.1234567 }, other)).toMatchObject({ ok: false, reason: 'bad-record' });
    expect(await checkRecord({ ...record, extra: 1 }, other)).toMatchObject({ ok: false, reason: 'bad-record' });
    expect(await checkRecord({ ...record, drift: [Infinity, 0] }, other)).toMatchObject({ ok: false, reason: 'bad-record' });
    const many = Array.from({ length: MAX_RECORD_PEERS + 1 }, () => createIdentity().id).sort();
    expect(await checkRecord({ ...record, peers: many }, other)).toMatchObject({ ok: false, reason: 'too-many-peers' });
    expect(await checkRecord({ ...record, peers: [many[1], many[0]] }, other)).toMatchObject({ ok: false, reason: 'bad-record' });
    expect(await checkRecord('not an object', other)).toMatchObject({ ok: false, reason: 'bad-record' });
    // signRecord lists at most MAX_RECORD_PEERS peers, the first ones given, and never the owner.
    const capped = await signRecord(fields({ peers: [record.id, ...many] }), owner);
    expect(capped.peers).toEqual(many.slice(0, MAX_RECORD_PEERS).sort());
  });

  it('keeps seq going up across a lost counter as long as the clock does', () => {
    expect(nextSeq(5, 1_700_000_000_000)).toBe(1_700_000_000);
    expect(nextSeq(1_700_000_000, 1_700_000_000_500)).toBe(1_700_000_001);
    expect(nextSeq(0, 0)).toBe(1);
  });

  it('fits MAX_RECORDS_PER_EXCHANGE records of the largest size in one frame', async () => {
    const peers = Array.from({ length: MAX_RECORD_PEERS }, () => createIdentity().id);
    const worst = await signRecord(
      { name: '\u0001'.repeat(MAX_NAME_LENGTH), drift: [-999_999.999999, -999_999.999999], tc: 0.999999, cycle: Number.MAX_SAFE_INTEGER, peers, seq: Number.MAX_SAFE_INTEGER, at: Number.MAX_SAFE_INTEGER },
      owner,
    );
    const frame = recordsFrame(Array.from({ length: MAX_RECORDS_PER_EXCHANGE }, () => ({ record: worst, ageMs: COPY_KEEP_MS })));
    expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const parsed = parseMemoryFrame(frame);
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.frame.type === 'mrec') expect(await checkRecord(parsed.frame.r[0]!.rec, other)).toMatchObject({ ok: true });
    const random = seededRandom(3);
    const ids = Array.from({ length: MAX_DIGEST_ENTRIES }, () => fakeId(random));
    const digest = digestFrame({ range: ['', ''], entries: ids.map((id) => [id, Number.MAX_SAFE_INTEGER] as const) });
    expect(Buffer.byteLength(digest)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(parseMemoryFrame(digest)).toMatchObject({ ok: true, frame: { type: 'mdig' } });
    expect(parseMemoryFrame(wantFrame([ids[0]!]))).toMatchObject({ ok: true, frame: { type: 'mwant' } });
    expect(parseMemoryFrame(wantFrame([]))).toMatchObject({ ok: false, reason: 'invalid-fields' });
    expect(parseMemoryFrame('{"type":"mrec","v":2,"r":[{"age":-1,"rec":{}}]}')).toMatchObject({ ok: false, reason: 'invalid-fields' });
    expect(parseMemoryFrame(JSON.stringify({ type: 'mdig', v: 2, range: ['', ''], d: [...ids, ids[0]].map((id) => [id, 1]) }))).toMatchObject({ ok: false });
  });
});

describe('the record book', () => {
  const random = seededRandom(11);
  const self = fakeId(random);

  it('keeps the newest seq, refuses older and conflicting ones, and counts every refusal by reason and source', () => {
    const book = new RecordBook({ selfId: self });
    const x = fakeId(random);
    expect(book.offer(fakeRecord(x, 5), 'P', 0)).toEqual({ ok: true, news: 'new-node' });
    expect(book.offer(fakeRecord(x, 4), 'P', 1)).toEqual({ ok: false, reason: 'older-seq' });
    expect(book.offer(fakeRecord(x, 5), 'Q', 2)).toEqual({ ok: false, reason: 'duplicate' });
    expect(book.offer(fakeRecord(x, 5, 'B'.repeat(86) + '=='), 'Q', 3)).toEqual({ ok: false, reason: 'conflicting-seq' });
    expect(book.offer(fakeRecord(x, 9), 'Q', 4)).toEqual({ ok: true, news: 'newer' });
    expect(book.get(x)!.seq).toBe(9);
    book.refuse('bad-signature', 'Q', 5);
    expect(book.refusals()).toEqual({ 'older-seq': 1, 'conflicting-seq': 1, 'bad-signature': 1 });
    expect(book.refusalsOf('Q')).toEqual({ 'conflicting-seq': 1, 'bad-signature': 1 });
    expect(book.duplicates).toBe(1);
    expect(MISBEHAVIOUR.has('bad-signature') && !MISBEHAVIOUR.has('older-seq')).toBe(true);
    // Our own id from others is kept apart, as a restore candidate.
    expect(book.offer(fakeRecord(self, 3), 'P', 6)).toEqual({ ok: false, reason: 'own-record' });
    expect(book.ownFromNetwork()!.record.seq).toBe(3);
    expect(book.get(self)).toBeNull();
  });

  it('marks records stale, then drops them, keeps held copies longer, and shows offline nodes', () => {
    const book = new RecordBook({ selfId: self });
    const [a, b, c] = [fakeId(random), fakeId(random), fakeId(random)];
    book.setOwn(fakeRecord(self, 1), 0);
    book.offer(fakeRecord(a, 1), 'P', 0, 1000);
    book.offer(fakeRecord(b, 1), 'P', 0);
    book.offer(fakeRecord(c, 1), 'P', 0);
    book.setHeld([b]);
    book.markOffline(c);
    expect(book.status(a, RECORD_STALE_MS - 1001)).toBe('fresh');
    expect(book.status(a, RECORD_STALE_MS - 1000)).toBe('stale');
    expect(book.status(c, 1)).toBe('offline');
    expect(book.expire(RECORD_DROP_MS - 1001)).toEqual([]);
    expect(book.expire(RECORD_DROP_MS)).toEqual([a, c]);
    expect(book.status(b, RECORD_DROP_MS)).toBe('copy');
    expect(book.status(self, COPY_KEEP_MS * 2)).toBe('fresh');
    // A copy is not gossiped, but answers a want (a restore).
    expect(book.digest('P', RECORD_DROP_MS).entries.map(([id]) => id)).toEqual([self]);
    expect(book.answerWant('P', [b], RECORD_DROP_MS)!.map((r) => r.record.id)).toEqual([b]);
    expect(book.expire(COPY_KEEP_MS)).toEqual([b]);
    // A newer record brings an offline node back.
    book.offer(fakeRecord(c, 2), 'P', COPY_KEEP_MS);
    expect(book.status(c, COPY_KEEP_MS)).toBe('fresh');
    // Arriving already past its lifetime, an unknown node is not taken.
    expect(book.offer(fakeRecord(fakeId(random), 1), 'P', COPY_KEEP_MS, RECORD_DROP_MS)).toEqual({ ok: false, reason: 'expired' });
  });

  it('holds at most MAX_KNOWN_NODES under a flood of fresh ids, giving up only stale records', () => {
    const book = new RecordBook({ selfId: self });
    book.setOwn(fakeRecord(self, 1), 0);
    const honest: string[] = [];
    for (let i = 0; i < MAX_KNOWN_NODES - 1; i++) {
      const id = fakeId(random);
      honest.push(id);
      expect(book.offer(fakeRecord(id, 1), `S${i % 16}`, 0).ok).toBe(true);
    }
    expect(book.size).toBe(MAX_KNOWN_NODES);
    // One flooder, from several sources: while everyone is fresh, nobody is evicted.
    const flood = Array.from({ length: 2000 }, () => fakeId(random));
    for (const [i, id] of flood.entries()) expect(book.offer(fakeRecord(id, 1), `F${i % 4}`, 1000).ok).toBe(false);
    expect(book.refusals()['book-full']).toBe(2000);
    expect(book.size).toBe(MAX_KNOWN_NODES);
    // Later the honest nodes refresh, all but 10 who went quiet: only those places are given up.
    const now = RECORD_STALE_MS + 1000;
    for (const id of honest.slice(10)) book.offer(fakeRecord(id, 2), 'S0', now);
    let admitted = 0;
    for (const id of flood) if (book.offer(fakeRecord(id, 1), 'F0', now).ok) admitted++;
    expect(admitted).toBe(10);
    expect(book.size).toBe(MAX_KNOWN_NODES);
    for (const id of honest.slice(10)) expect(book.get(id)).not.toBeNull();
  });

  it('lets one source bring at most its burst of new ids at once', () => {
    const book = new RecordBook({ selfId: self, maxKnown: 10 * NEW_IDS_BURST_PER_SOURCE });
    let taken = 0;
    for (let i = 0; i < NEW_IDS_BURST_PER_SOURCE + 50; i++) if (book.offer(fakeRecord(fakeId(random), 1), 'P', 0).ok) taken++;
    expect(taken).toBe(NEW_IDS_BURST_PER_SOURCE);
    expect(book.refusalsOf('P')['source-limit']).toBe(50);
    // Another source is not held back by P's flood.
    expect(book.offer(fakeRecord(fakeId(random), 1), 'Q', 0).ok).toBe(true);
  });

  it('takes records only as the answer to its own digest or want, and answers requests at a bounded rate', () => {
    const book = new RecordBook({ selfId: self });
    const x = fakeId(random);
    expect(book.admit('P', [x], 0)).toEqual([false]);
    book.digest('P', 0);
    const ids = Array.from({ length: MAX_RECORDS_PER_EXCHANGE + 2 }, () => fakeId(random));
    const admitted = book.admit('P', ids, 10);
    expect(admitted.filter(Boolean)).toHaveLength(MAX_RECORDS_PER_EXCHANGE);
    expect(book.refusalsOf('P')['unsolicited']).toBe(3);
    book.asked('Q', [x], 0);
    expect(book.admit('Q', [fakeId(random), x], 10)).toEqual([false, true]);
    expect(book.admit('Q', [x], 20)).toEqual([false]);
    book.digest('R', 0);
    expect(book.admit('R', [x], 6000)).toEqual([false]);
    // Requests: a burst, then refused until the bucket refills.
    const answers = Array.from({ length: 10 }, () => book.answerWant('P', [x], 100));
    expect(answers.filter((a) => a === null).length).toBeGreaterThan(0);
    expect(book.refusalsOf('P')['too-frequent']).toBeGreaterThan(0);
    expect(book.answerWant('P', [x], 10_000)).toEqual([]);
  });

  /** One push-pull exchange, a starting it with b, through the real frames. */
  function exchange(a: RecordBook, b: RecordBook, now: number): void {
    const dig = parseMemoryFrame(digestFrame(a.digest(b.selfId, now)));
    if (!dig.ok || dig.frame.type !== 'mdig') throw new Error('bad digest frame');
    const answer = b.answerDigest(a.selfId, digestOf(dig.frame), now)!;
    deliver(b, a, answer.send, now);
    if (answer.want.length > 0) {
      const want = parseMemoryFrame(wantFrame(answer.want));
      if (!want.ok || want.frame.type !== 'mwant') throw new Error('bad want frame');
      deliver(a, b, a.answerWant(b.selfId, want.frame.ids, now)!, now);
    }
  }
  function deliver(from: RecordBook, to: RecordBook, records: readonly AgedRecord[], now: number): void {
    const parsed = parseMemoryFrame(recordsFrame(records));
    if (!parsed.ok || parsed.frame.type !== 'mrec') throw new Error('bad records frame');
    const items = parsed.frame.r;
    const ok = to.admit(from.selfId, items.map((i) => (i.rec as StateRecord).id), now);
    items.forEach((item, k) => {
      if (ok[k]) to.offer(assumeVerified(item.rec as StateRecord), from.selfId, now, item.age);
    });
  }

  it('brings two books of 1000 records each into step by push-pull, within the page sweep', () => {
    const a = new RecordBook({ selfId: fakeId(random) });
    const b = new RecordBook({ selfId: fakeId(random) });
    const ids = Array.from({ length: 1500 }, () => fakeId(random));
    // Written 10 minutes ago (no longer hot): only the page sweep can find the difference.
    const then = -RECORD_DROP_MS / 2;
    ids.slice(0, 1000).forEach((id, i) => a.offer(fakeRecord(id, i % 3 === 0 ? 2 : 1), null, then));
    ids.slice(500).forEach((id) => b.offer(fakeRecord(id, 1), null, then));
    a.setOwn(fakeRecord(a.selfId, 1), then);
    b.setOwn(fakeRecord(b.selfId, 1), then);
    const inStep = () => [...ids, a.selfId, b.selfId].every((id) => a.get(id)?.seq === b.get(id)?.seq && a.get(id) !== null);
    let rounds = 0;
    for (let now = 0; !inStep() && rounds < 200; now += 1000, rounds++) {
      exchange(a, b, now);
      exchange(b, a, now + 500);
    }
    expect(inStep()).toBe(true);
    // 1502 records, 12 per answer each way, pages of 256: a few dozen rounds, not hundreds.
    expect(rounds).toBeLessThan(120);
    expect(a.refusals()).toEqual({});
    expect(b.refusals()).toEqual({});
  });

  it('spreads a new record as a hot rumour along a line of books within one round per hop', () => {
    const books = Array.from({ length: 6 }, () => new RecordBook({ selfId: fakeId(random) }));
    books.forEach((book) => book.setOwn(fakeRecord(book.selfId, 1), 0));
    const rec = fakeRecord(books[0]!.selfId, 2);
    books[0]!.setOwn(rec, 0);
    for (let round = 1; round <= 5; round++) for (let i = 0; i < 5; i++) exchange(books[i + 1]!, books[i]!, round * 1000);
    // Every book holds the origin's seq 2 (and everyone's own record).
    for (const book of books.slice(1)) expect(book.get(books[0]!.selfId)?.seq).toBe(2);
  });
});

describe('the shard map', () => {
  const random = seededRandom(5);
  const ids = Array.from({ length: 10_000 }, () => fakeId(random));
  const map = new ShardMap(ids, { replicas: 3 });

  it('gives every node R distinct holders other than itself, the same whatever order the ids come in', () => {
    const holders = map.holdersOf(ids[0]!);
    expect(holders).toHaveLength(3);
    expect(new Set(holders).size).toBe(3);
    expect(holders).not.toContain(ids[0]);
    const reversed = new ShardMap([...ids].reverse(), { replicas: 3 });
    for (const id of ids.slice(0, 50)) expect(reversed.holdersOf(id)).toEqual(map.holdersOf(id));
    expect(new ShardMap([ids[0]!, ids[1]!], { replicas: 3 }).holdersOf(ids[0]!)).toEqual([ids[1]]);
    expect(map.heldBy(holders[0]!)).toContain(ids[0]);
  });

  it('balances the copies: each node holds R on average, the busiest at most twice that (plain rendezvous: about four times)', () => {
    const load = map.load();
    const mean = load.reduce((s, x) => s + x, 0) / load.length;
    expect(mean).toBe(3);
    expect(Math.max(...load) / mean).toBeLessThanOrEqual(2);
    const plain = new ShardMap(ids, { replicas: 3, loadFactor: Infinity }).load();
    expect(Math.max(...plain) / mean).toBeGreaterThan(2);
  });

  it('when 1% of the nodes leave, moves about 1% of the assignments and keeps almost every holder that stays', () => {
    const leaving = new Set(ids.filter((_, i) => i % 100 === 0));
    const after = new ShardMap(ids.filter((id) => !leaving.has(id)), { replicas: 3 });
    let moved = 0;
    let displaced = 0;
    let total = 0;
    for (const id of ids) {
      if (leaving.has(id)) continue;
      const before = map.holdersOf(id);
      const now = after.holdersOf(id);
      total += 3;
      moved += now.filter((h) => !before.includes(h)).length;
      displaced += before.filter((h) => !leaving.has(h) && !now.includes(h)).length;
    }
    expect(moved / total).toBeGreaterThan(0.005);
    expect(moved / total).toBeLessThan(0.02);
    // Bounded loads let a freed place pass on along the id order, now and then.
    expect(displaced / total).toBeLessThan(0.005);
  });
});

describe('docs/protocol.md "Network memory"', () => {
  const spec = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const examples = (kind: string) => [...spec.matchAll(new RegExp(`<!-- example: ${kind} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'g'))].map((m) => m[1]!);

  it('publishes a record that verifies, that the vector key reproduces byte for byte, over the text it prints', async () => {
    const [text] = examples('memory-record');
    expect(text).toBeDefined();
    const record = JSON.parse(text!) as StateRecord;
    const verifier = nodeHandshakeCrypto(createIdentity());
    expect(await checkRecord(record, verifier)).toMatchObject({ ok: true });
    const vector = JSON.parse(examples('auth-vector')[0]!) as { dialerIdentity: unknown };
    const owner = nodeHandshakeCrypto(checkIdentity(vector.dialerIdentity)!);
    const { id: _id, key: _key, sig: _sig, ...rest } = record;
    expect(JSON.stringify(await signRecord(rest, owner))).toBe(text);
    const printed = /is signed, with the dialer's key of the \[worked example\]\(#worked-example\), over:\n\n```\n([\s\S]*?)\n```/.exec(spec)![1]!;
    const { sig: _s, ...unsigned } = record;
    expect(printed).toBe(String.fromCharCode(...recordText(unsigned)));
  });

  it('publishes frames that parse', () => {
    const frames = examples('memory-frame');
    expect(frames.length).toBeGreaterThan(0);
    for (const text of frames) expect(parseMemoryFrame(text), text).toMatchObject({ ok: true });
  });
});
