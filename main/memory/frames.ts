/**
 * The network memory's DataChannel frames (docs/protocol.md "Network
 * memory"): `mdig` (a digest), `mrec` (records, each with its age)
 * and `mwant` (ids asked for). Parsed and bounded here, like every other
 * frame in main/protocol/messages.ts; the records inside an `mrec` are
 * checked one by one afterwards (checkRecord), after the book has admitted
 * them as solicited.
 */
import { z } from 'zod';
import { COPY_KEEP_MS, MAX_DIGEST_ENTRIES, MAX_FRAME_BYTES, MAX_RECORDS_PER_EXCHANGE, PROTOCOL_VERSION } from '../model/limits.js';
import { nodeId, utf8Length } from '../protocol/messages.js';
import type { AgedRecord, Digest } from './record-book.js';

export const MEMORY_FRAME_TYPES = ['mdig', 'mrec', 'mwant'] as const;
export type MemoryFrameType = (typeof MEMORY_FRAME_TYPES)[number];

const version = z.number().int().min(PROTOCOL_VERSION);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** An id or '' (the open end of a page). */
const bound = z.union([z.literal(''), nodeId]);
/** Ages up to a holder's copy lifetime: a restore is answered from copies older than RECORD_DROP_MS. */
const age = z.number().int().min(0).max(COPY_KEEP_MS);

const schemas = {
  mdig: z.object({
    type: z.literal('mdig'),
    v: version,
    range: z.tuple([bound, bound]),
    d: z.array(z.tuple([nodeId, seq])).max(MAX_DIGEST_ENTRIES),
  }),
  mrec: z.object({
    type: z.literal('mrec'),
    v: version,
    // Records stay unknown here: checkRecord parses each one (and names its failure) once the book admitted it.
    r: z.array(z.object({ age, rec: z.unknown() })).max(MAX_RECORDS_PER_EXCHANGE),
  }),
  mwant: z.object({ type: z.literal('mwant'), v: version, ids: z.array(nodeId).min(1).max(MAX_RECORDS_PER_EXCHANGE) }),
};

export type DigestFrame = z.infer<typeof schemas.mdig>;
export type RecordsFrame = z.infer<typeof schemas.mrec>;
export type WantFrame = z.infer<typeof schemas.mwant>;
export type MemoryFrame = DigestFrame | RecordsFrame | WantFrame;

export type MemoryParse = { ok: true; frame: MemoryFrame } | { ok: false; reason: 'frame-too-large' | 'bad-json' | 'invalid-fields' | 'unknown-type'; detail: string };

export function isMemoryFrameType(type: unknown): type is MemoryFrameType {
  return typeof type === 'string' && (MEMORY_FRAME_TYPES as readonly string[]).includes(type);
}

/** Parses one memory frame's text. Never throws. */
export function parseMemoryFrame(text: string): MemoryParse {
  if (text.length > MAX_FRAME_BYTES || (text.length * 3 > MAX_FRAME_BYTES && utf8Length(text) > MAX_FRAME_BYTES)) {
    return { ok: false, reason: 'frame-too-large', detail: `frame exceeds ${MAX_FRAME_BYTES} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'bad-json', detail: 'frame is not valid JSON' };
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (!isMemoryFrameType(type)) return { ok: false, reason: 'unknown-type', detail: 'not a memory frame' };
  const parsed = schemas[type].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid-fields', detail: `${type}: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'}`.slice(0, 200) };
  }
  return { ok: true, frame: parsed.data as MemoryFrame };
}

export function digestFrame(digest: Digest): string {
  const frame: DigestFrame = { type: 'mdig', v: PROTOCOL_VERSION, range: [digest.range[0], digest.range[1]], d: digest.entries.map(([id, s]) => [id, s]) };
  return JSON.stringify(frame);
}

export function recordsFrame(records: readonly AgedRecord[]): string {
  return JSON.stringify({ type: 'mrec', v: PROTOCOL_VERSION, r: records.map(({ record, ageMs }) => ({ age: Math.min(ageMs, COPY_KEEP_MS), rec: record })) });
}

export function wantFrame(ids: readonly string[]): string {
  const frame: WantFrame = { type: 'mwant', v: PROTOCOL_VERSION, ids: [...ids] };
  return JSON.stringify(frame);
}

/** The digest an `mdig` frame carries, as RecordBook.answerDigest takes it. */
export function digestOf(frame: DigestFrame): Digest {
  return { range: frame.range, entries: frame.d };
}

