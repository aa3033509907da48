/**
 * Signed state records (issue 12, docs/protocol.md "Network memory"): what a
 * node tells the whole network about itself (its name, drift, tc, cycle and
 * direct peers), signed with its Ed25519 key so that any node can pass it on
 * and none can forge or alter it. Pure: the signing primitives come in like
 * the handshake's (HandshakeCrypto), so a browser node with WebCrypto signs
 * and checks the same bytes; each may answer with a promise.
 *
 * The signature covers a canonical text of the record (ASCII lines like the
 * handshake transcript, under its own first line so that no other signature
 * of the node ever verifies as a record). Drift and tc are fixed-point, in
 * millionths, so the signed text is the same integers in every language,
 * with no float formatting to agree on: a record whose numbers are not on
 * that grid is refused.
 */
import { z } from 'zod';
import { MAX_COORDINATE, MAX_RECORD_PEERS } from '../model/limits.js';
import { fromBase64, toBase64, type HandshakeCrypto } from '../protocol/handshake.js';
import { nodeId, nodeName } from '../protocol/messages.js';

/** First line of every record's signed text. */
export const RECORD_DOMAIN = 'lvs-node record v1';
/** Drift and tc are signed as integers of this many units per unit (6 decimals). */
export const RECORD_FIXED_POINT = 1_000_000;

/** Signs our own records. */
export type RecordSigner = Pick<HandshakeCrypto, 'publicKey' | 'sign' | 'idOf'>;
/** Checks other nodes' records. */
export type RecordVerifier = Pick<HandshakeCrypto, 'verify' | 'idOf'>;

function onGrid(x: number): boolean {
  return Math.round(x * RECORD_FIXED_POINT) / RECORD_FIXED_POINT === x;
}
const fixed = (min: number, max: number) =>
  z.number().min(min).max(max).refine(onGrid, `must have at most 6 decimals (multiples of 1/${RECORD_FIXED_POINT})`);
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);
const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A record as it travels and is stored. Strict: an unsigned extra field has no place in a signed record. */
export const stateRecordSchema = z.strictObject({
  id: nodeId,
  /** The owner's raw Ed25519 public key, base64 (44 characters): a node that never linked to the owner can check it. */
  key: base64.length(44),
  name: nodeName,
  drift: z.tuple([fixed(-MAX_COORDINATE, MAX_COORDINATE), fixed(-MAX_COORDINATE, MAX_COORDINATE)]),
  tc: fixed(0, 1),
  cycle: counter,
  /** Ids of the owner's direct peers, ascending, distinct, at most MAX_RECORD_PEERS (checked apart, with its own reason). */
  peers: z.array(nodeId).max(1024),
  /** The owner's record counter: a record replaces an older one only with a higher seq. */
  seq: counter,
  /** Optional: the owner's wall clock when it signed, ms since 1970 (for display; never compared across machines). */
  at: counter.optional(),
  /** Ed25519 signature of recordText(), base64 (88 characters). */
  sig: base64.length(88),
});
export type StateRecord = z.infer<typeof stateRecordSchema>;

declare const verified: unique symbol;
/** A record whose signature and id were checked (checkRecord), or our own (signRecord). */
export type VerifiedRecord = StateRecord & { readonly [verified]: true };

export const RECORD_FAILURES = ['bad-record', 'too-many-peers', 'key-does-not-match-id', 'bad-signature'] as const;
export type RecordFailure = (typeof RECORD_FAILURES)[number];

export type RecordCheck =
  | { readonly ok: true; readonly record: VerifiedRecord }
  | { readonly ok: false; readonly reason: RecordFailure; readonly detail: string };

/** The fields an owner signs; the builder adds id, key and sig. */
export interface RecordFields {
  name: string;
  drift: readonly [number, number];
  tc: number;
  cycle: number;
  /** Direct peers, best first: beyond MAX_RECORD_PEERS the first ones are listed. */
  peers: readonly string[];
  seq: number;
  at?: number;
}

/** A JSON string with every character outside printable ASCII escaped, so the signed text is ASCII. */
function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fixedPoint(x: number): string {
  return String(Math.round(x * RECORD_FIXED_POINT));
}

/** The exact bytes the owner signs (docs/protocol.md lists the lines). */
export function recordText(r: Omit<StateRecord, 'sig'>): Uint8Array {
  const lines = [
    RECORD_DOMAIN,
    `id ${r.id}`,
    `key ${r.key}`,
    `name ${asciiJson(r.name)}`,
    `drift ${fixedPoint(r.drift[0])} ${fixedPoint(r.drift[1])}`,
    `tc ${fixedPoint(r.tc)}`,
    `cycle ${r.cycle}`,
    `seq ${r.seq}`,
    `at ${r.at === undefined ? '-' : r.at}`,
    `peers ${r.peers.length}`,
    ...r.peers.map((p) => `peer ${p}`),
  ];
  const text = lines.join('\n');
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  return bytes;
}

/** The value on the record's grid nearest to x. */
export function toGrid(x: number): number {
  return Math.round(x * RECORD_FIXED_POINT) / RECORD_FIXED_POINT;
}

/**
 * The next seq of an owner whose last record had `lastSeq`: at least one
 * more, and at least the wall clock in seconds. So a node that lost its
 * state (and its counter) still signs newer records than before, as long
 * as its clock has not gone back by more than it lost.
 */
export function nextSeq(lastSeq: number, nowMs: number): number {
  return Math.max(lastSeq + 1, Math.floor(nowMs / 1000));
}

/** Our own record, signed. Throws RangeError for fields no node would accept (a bug of the caller). */
export async function signRecord(fields: RecordFields, signer: RecordSigner): Promise<VerifiedRecord> {
  const id = await signer.idOf(signer.publicKey);
  const peers = [...new Set(fields.peers)].filter((p) => p !== id).slice(0, MAX_RECORD_PEERS).sort();
  const unsigned = {
    id,
    key: toBase64(signer.publicKey),
    name: fields.name,
    drift: [toGrid(fields.drift[0]), toGrid(fields.drift[1])] as [number, number],
    tc: toGrid(fields.tc),
    cycle: fields.cycle,
    peers,
    seq: fields.seq,
    ...(fields.at === undefined ? {} : { at: fields.at }),
  };
  const record = { ...unsigned, sig: toBase64(await signer.sign(recordText(unsigned))) };
  const parsed = stateRecordSchema.safeParse(record);
  if (!parsed.success) throw new RangeError(`cannot sign this record: ${describe(parsed.error)}`);
  return record as VerifiedRecord;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'}`.slice(0, 200);
}

/**
 * Checks a record (already JSON-parsed) from anyone: its fields, that its
 * key is the key of its id, and its owner's signature. Never throws; a
 * failure names its reason. Whether it is newer than the one we hold is
 * the record book's question.
 */
export async function checkRecord(raw: unknown, verifier: RecordVerifier): Promise<RecordCheck> {
  const fail = (reason: RecordFailure, detail: string): RecordCheck => ({ ok: false, reason, detail });
  const parsed = stateRecordSchema.safeParse(raw);
  if (!parsed.success) return fail('bad-record', `record: ${describe(parsed.error)}`);
  const r = parsed.data;
  if (r.peers.length > MAX_RECORD_PEERS) return fail('too-many-peers', `a record lists at most ${MAX_RECORD_PEERS} peers, this one ${r.peers.length}`);
  for (let i = 1; i < r.peers.length; i++) {
    if (!(r.peers[i - 1]! < r.peers[i]!)) return fail('bad-record', 'record: peers must be distinct and in ascending order');
  }
  if (r.peers.includes(r.id)) return fail('bad-record', 'record: a node is not its own peer');
  const key = fromBase64(r.key);
  const sig = fromBase64(r.sig);
  if (!key || key.length !== 32 || !sig || sig.length !== 64) return fail('bad-record', 'record: key or signature has the wrong length');
  let keyId: string;
  try {
    keyId = await verifier.idOf(key);
  } catch {
    return fail('bad-record', 'record: the key is not an Ed25519 public key');
  }
  if (keyId !== r.id) return fail('key-does-not-match-id', `the key is the key of ${keyId}, not of ${r.id}`);
  const { sig: _sig, ...unsigned } = r;
  let valid = false;
  try {
    valid = await verifier.verify(key, recordText(unsigned), sig);
  } catch {
    valid = false;
  }
  if (!valid) return fail('bad-signature', `the signature of ${r.id}'s record seq ${r.seq} does not verify`);
  return { ok: true, record: r as VerifiedRecord };
}

/**
 * A record taken as verified without checking: for the simulator, which
 * measures rounds and not signatures, and for tests. A node checks every
 * record it did not sign itself with checkRecord.
 */
export function assumeVerified(record: StateRecord): VerifiedRecord {
  return record as VerifiedRecord;
}

