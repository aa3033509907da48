/**
 * Wire protocol v1 (DESIGN.md §2): the typed messages of the `lvs`
 * DataChannel, one schema per message, and the one parser every inbound
 * frame goes through. A frame either becomes a typed message or a rejection
 * with a named reason; nothing here throws.
 */
import { z } from 'zod';
import {
  MAX_COORDINATE,
  MAX_DIFF,
  MAX_FEATURE_LENGTH,
  MAX_FEATURES,
  MAX_FRAME_BYTES,
  MAX_NAME_LENGTH,
  MAX_NBRS_ENTRIES,
  MAX_REASON_LENGTH,
  MAX_SESSION_ID_LENGTH,
  PROTOCOL_VERSION,
} from '../model/limits.js';

const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);
const point = z.tuple([coordinate, coordinate]);
const diffComponent = z.number().min(-MAX_DIFF).max(MAX_DIFF);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** vu and tc live in [0, 1]. */
const unit = z.number().min(0).max(1);
const version = z.number().int().min(1);
/** Optional: the sender's degree (fresh peers), for Metropolis weights; older nodes omit it and ignore it. */
const deg = z.number().int().min(0).max(1_000_000).optional();

/**
 * Optional protocol features, announced in `hello.feat`. A node uses one
 * towards a peer only after that peer's hello listed it; unknown names are
 * ignored, and a v1 node without `feat` gets plain v1.
 *
 * - `sdm.e`: the cycle's entropy sample rides in the `sdm` frame (`e`)
 *   instead of a separate `ep` frame: one frame per peer per cycle instead
 *   of two (BENCHMARKS.md, row 5).
 */
export const FEATURE_SDM_ENTROPY = 'sdm.e';
/**
 * - `nbrs`: send me your neighbour list (`nbrs` frames); I understand them.
 * - `relay`: I forward `sig` frames between two of my peers that both listed `relayed`.
 * - `relayed`: a session to me may be signaled through a relay (`sig`), not
 *   only over a WebSocket to my port: browser nodes, which have no port.
 */
export const FEATURE_NBRS = 'nbrs';
export const FEATURE_RELAY = 'relay';
export const FEATURE_RELAYED = 'relayed';
/**
 * - `mem.v1`: I keep the network memory and answer its frames (`mdig`,
 *   `mrec`, `mwant`; docs/protocol.md "Network memory"). Announced by a node
 *   that runs it (DriftNode with the `memory` option), native or browser, so
 *   it is added to the lists below at hello time rather than listed in them.
 */
export const FEATURE_MEMORY = 'mem.v1';
/** The features a native node speaks, announced in its hello. */
export const OWN_FEATURES: readonly string[] = [FEATURE_SDM_ENTROPY, FEATURE_NBRS, FEATURE_RELAY];
/** The features a browser node speaks. */
export const BROWSER_FEATURES: readonly string[] = [FEATURE_SDM_ENTROPY, FEATURE_NBRS, FEATURE_RELAYED];

/** What runs a node: a native process (headless or desktop) or a browser tab. */
export const NODE_KINDS = ['native', 'browser'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
const features = z.array(z.string().max(MAX_FEATURE_LENGTH)).max(MAX_FEATURES).optional();

export const nodeIdPattern = /^[A-Z2-7]{7}-[A-Z2-7]{7}-[A-Z2-7]{7}-[A-Z2-7]{5}$/;
export const nodeId = z.string().regex(nodeIdPattern);
export const nodeName = z.string().max(MAX_NAME_LENGTH);

/**
 * The `bye` reason of a node that drops a link because it is over its peer
 * limit (maxPeers). A node told this backs off from that peer for longer
 * (PEER_LIMIT_BACKOFF_MS) instead of redialling it in a second.
 */
export const BYE_OVER_PEER_LIMIT = 'over peer limit';

export const stateSnapshot = z.object({ drift: point, vu: unit, tc: unit });

/** A relayed signaling session's id: chosen by its dialer, unique among its sessions. */
const sessionId = z.string().regex(/^[A-Za-z0-9_-]+$/).min(8).max(MAX_SESSION_ID_LENGTH);
const neighbour = z.object({ id: nodeId, d: point.nullable(), k: z.enum(NODE_KINDS).optional() });

const schemas = {
  hello: z.object({ type: z.literal('hello'), v: version, id: nodeId, name: nodeName, state: stateSnapshot, seq, deg, feat: features, kind: z.enum(NODE_KINDS).optional() }),
  ep: z.object({ type: z.literal('ep'), v: version, seq, e: point }),
  sdm: z.object({ type: z.literal('sdm'), v: version, seq, diff: z.tuple([diffComponent, diffComponent]), deg, e: point.optional() }),
  state: z.object({ type: z.literal('state'), v: version, seq, drift: point, vu: unit, tc: unit, deg }),
  sync: z.object({ type: z.literal('sync'), v: version }),
  bye: z.object({ type: z.literal('bye'), v: version, reason: z.string().max(MAX_REASON_LENGTH) }),
  /** The sender's direct peers as it sees them (display only: never pulls anyone). */
  nbrs: z.object({ type: z.literal('nbrs'), v: version, peers: z.array(neighbour).max(MAX_NBRS_ENTRIES) }),
  /**
   * A signaling frame relayed by a node both ends are linked to (docs/protocol.md
   * "Relayed signaling"): `to` when asking the relay, `from` (set by the relay to
   * the proven sender) when delivered; `body` is a signaling frame, `end` ends the session.
   */
  sig: z
    .object({
      type: z.literal('sig'),
      v: version,
      sid: sessionId,
      to: nodeId.optional(),
      from: nodeId.optional(),
      body: z.record(z.string(), z.unknown()).optional(),
      end: z.object({ code: z.number().int().min(1000).max(4999), reason: z.string().max(MAX_REASON_LENGTH) }).optional(),
    })
    .refine((m) => (m.body === undefined) !== (m.end === undefined), { message: 'exactly one of body and end' })
    .refine((m) => (m.to === undefined) !== (m.from === undefined), { message: 'exactly one of to and from' }),
};

export type MessageType = keyof typeof schemas;
export type HelloMessage = z.infer<typeof schemas.hello>;
export type EpMessage = z.infer<typeof schemas.ep>;
export type SdmMessage = z.infer<typeof schemas.sdm>;
export type StateMessage = z.infer<typeof schemas.state>;
export type SyncMessage = z.infer<typeof schemas.sync>;
export type ByeMessage = z.infer<typeof schemas.bye>;
export type NbrsMessage = z.infer<typeof schemas.nbrs>;
export type SigMessage = z.infer<typeof schemas.sig>;
export type Message = HelloMessage | EpMessage | SdmMessage | StateMessage | SyncMessage | ByeMessage | NbrsMessage | SigMessage;

/**
 * Why a frame was dropped. The parser produces the first group; the node
 * adds the ones that need per-peer context (order, identity).
 */
export const REJECT_REASONS = [
  'binary-frame',
  'frame-too-large',
  'bad-json',
  'not-an-object',
  'bad-version',
  'non-finite-number',
  'coordinate-out-of-range',
  'diff-out-of-range',
  'invalid-fields',
  'unknown-type',
  // Node-level, with the peer's history in hand:
  'before-hello',
  'seq-went-back',
  'id-mismatch',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type ParseResult =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

function reject(reason: RejectReason, detail: string): ParseResult {
  return { ok: false, reason, detail };
}

/** UTF-8 length of a string without Node's Buffer or the DOM's TextEncoder. */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** JSON.parse turns 1e999 into Infinity; find such numbers before any schema sees them. */
function findNonFinite(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path || '(root)';
  if (depth > 8 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const hit = findNonFinite(v, path ? `${path}.${k}` : k, depth + 1);
    if (hit) return hit;
  }
  return null;
}

function isKnownType(t: unknown): t is MessageType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(schemas, t);
}

/**
 * A JSON number, as the grammar of RFC 8259 has it. The fast path below
 * reads only numbers of this form; Number() and JSON.parse round the same
 * text to the same double.
 */
const JSON_NUMBER = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?';
/**
 * The cycle frame exactly as nodes write it (encodeMessage of an sdm
 * message: no spaces, fields in this order, deg and e optional), with
 * integers and numbers in JSON's own grammar (no leading zeros). Nearly all
 * inbound frames are these (one per peer per cycle).
 */
const SDM_FRAME = new RegExp(
  `^\\{"type":"sdm","v":(0|[1-9][0-9]{0,14}),"seq":(0|[1-9][0-9]{0,15}),"diff":\\[(${JSON_NUMBER}),(${JSON_NUMBER})\\](?:,"deg":(0|[1-9][0-9]{0,6}))?(?:,"e":\\[(${JSON_NUMBER}),(${JSON_NUMBER})\\])?\\}$`,
);

/**
 * The hot frame without JSON.parse and zod: an sdm frame in our own layout
 * whose every field is within the schema's bounds becomes the message the
 * schema would have produced. Anything else, including every frame that
 * would be rejected, returns null and goes the general way, so rejections
 * and their reasons come from one place. test/protocol-fast-path.test.ts
 * checks that parseFrame and parseFrameGeneral agree on generated frames.
 */
function fastSdm(frame: string): ParseResult | null {
  if (frame.charCodeAt(9) !== 0x73 /* s */) return null; // '{"type":"s...': not worth the regular expression
  const m = SDM_FRAME.exec(frame);
  if (!m) return null;
  const v = Number(m[1]);
  const seq = Number(m[2]);
  const d0 = Number(m[3]);
  const d1 = Number(m[4]);
  if (v < PROTOCOL_VERSION || seq > Number.MAX_SAFE_INTEGER) return null;
  if (!(Math.abs(d0) <= MAX_DIFF) || !(Math.abs(d1) <= MAX_DIFF)) return null; // also NaN, ±Infinity
  const message: SdmMessage = { type: 'sdm', v, seq, diff: [d0, d1] };
  if (m[5] !== undefined) {
    const deg = Number(m[5]);
    if (deg > 1_000_000) return null;
    message.deg = deg;
  }
  if (m[6] !== undefined) {
    const e0 = Number(m[6]);
    const e1 = Number(m[7]);
    if (!(Math.abs(e0) <= MAX_COORDINATE) || !(Math.abs(e1) <= MAX_COORDINATE)) return null;
    message.e = [e0, e1];
  }
  return { ok: true, message };
}

/** Parses and validates one inbound DataChannel frame. Never throws. */
export function parseFrame(frame: unknown): ParseResult {
  if (typeof frame !== 'string') return reject('binary-frame', 'only text frames are accepted');
  if (frame.length <= MAX_FRAME_BYTES) {
    const fast = fastSdm(frame);
    if (fast) return fast;
  }
  return parseFrameGeneral(frame);
}

/** parseFrame without the sdm fast path: JSON.parse, the finite-number scan and the schemas, for every frame. */
export function parseFrameGeneral(frame: unknown): ParseResult {
  if (typeof frame !== 'string') return reject('binary-frame', 'only text frames are accepted');
  if (frame.length > MAX_FRAME_BYTES || (frame.length * 3 > MAX_FRAME_BYTES && utf8Length(frame) > MAX_FRAME_BYTES)) {
    return reject('frame-too-large', `frame exceeds ${MAX_FRAME_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return reject('bad-json', 'frame is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return reject('not-an-object', 'frame is not a JSON object');
  }
  const { type, v } = value as { type?: unknown; v?: unknown };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < PROTOCOL_VERSION) {
    return reject('bad-version', `v must be an integer >= ${PROTOCOL_VERSION}`);
  }
  if (!isKnownType(type)) {
    return reject('unknown-type', `unknown message type ${JSON.stringify(type)?.slice(0, 40)}`);
  }
  const nonFinite = findNonFinite(value, '', 0);
  if (nonFinite) return reject('non-finite-number', `${nonFinite} is not a finite number`);
  const parsed = schemas[type].safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data as Message };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  // A number beyond its bound sits at a tuple index; a tuple of the wrong length is a field error.
  if (issue && (issue.code === 'too_big' || issue.code === 'too_small') && typeof issue.path[issue.path.length - 1] === 'number') {
    const field = issue.path[0];
    if (type === 'sdm' && field === 'diff') return reject('diff-out-of-range', `diff component beyond ±${MAX_DIFF}`);
    if (field === 'drift' || field === 'e' || (field === 'state' && issue.path[1] === 'drift')) {
      return reject('coordinate-out-of-range', `${where} beyond ±${MAX_COORDINATE}`);
    }
  }
  return reject('invalid-fields', `${type}: ${where || '(root)'} ${issue?.message ?? 'is invalid'}`);
}

/** Serialises an outbound message. Our own messages always pass our own schemas. */
export function encodeMessage(message: Message): string {
  return JSON.stringify(message);
}

export function validateMessage(message: Message): boolean {
  return schemas[message.type].safeParse(message).success;
}
