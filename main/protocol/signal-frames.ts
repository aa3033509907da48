/**
 * Signaling frames (docs/protocol.md "Signaling"): the JSON frames two nodes
 * exchange to set up the `lvs` DataChannel, over a transient WebSocket on
 * `/signal` or relayed inside `sig` messages by a node both are linked to;
 * the one parser every inbound signaling frame goes through, and the
 * WebSocket close codes that say why a session was refused. Pure: the
 * native transport and the browser node parse with this same code.
 * Nothing here throws on untrusted input.
 *
 * Session shape (dialer = the side that opened the session):
 *   dialer → hello, acceptor → hello (or a close with a 4xxx code),
 *   dialer → offer, acceptor → answer, both → candidate*,
 *   then the session ends as soon as the DataChannel is open and proven.
 */
import { z } from 'zod';
import { MAX_CANDIDATE_LENGTH, MAX_MID_LENGTH, MAX_SIGNAL_FRAME_BYTES, PROTOCOL_VERSION } from '../model/limits.js';
import { noncePattern } from './handshake.js';
import { nodeId, utf8Length } from './messages.js';

/** Signaling speaks the wire protocol's version number. */
export const SIGNAL_VERSION = PROTOCOL_VERSION;

/** HTTP path the node routes to `WebRtcTransport.handleSignalUpgrade`. */
export const SIGNAL_PATH = '/signal';


/** Random per-start instance id: 8..64 URL-safe characters. */
export const instanceIdPattern = /^[A-Za-z0-9_-]{8,64}$/;

const version = z.number().int().min(1);
const sdp = z.string().min(1).max(MAX_SIGNAL_FRAME_BYTES);

const schemas = {
  // nonce is optional in the schema only so that a v1 hello parses and can be refused with a clear reason.
  hello: z.object({ type: z.literal('hello'), v: version, id: nodeId, instance: z.string().regex(instanceIdPattern), nonce: z.string().regex(noncePattern).optional(), alone: z.boolean().optional() }),
  offer: z.object({ type: z.literal('offer'), sdp }),
  answer: z.object({ type: z.literal('answer'), sdp }),
  candidate: z.object({
    type: z.literal('candidate'),
    candidate: z.string().min(1).max(MAX_CANDIDATE_LENGTH),
    mid: z.string().max(MAX_MID_LENGTH),
  }),
};

export type SignalType = keyof typeof schemas;
export type SignalHello = z.infer<typeof schemas.hello>;
export type SignalOffer = z.infer<typeof schemas.offer>;
export type SignalAnswer = z.infer<typeof schemas.answer>;
export type SignalCandidate = z.infer<typeof schemas.candidate>;
export type SignalFrame = SignalHello | SignalOffer | SignalAnswer | SignalCandidate;

export type SignalParseResult =
  | { readonly ok: true; readonly frame: SignalFrame }
  | { readonly ok: false; readonly detail: string };

function isSignalType(t: unknown): t is SignalType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(schemas, t);
}

/**
 * Parses and validates one inbound signaling frame (a WebSocket message:
 * text only). Size is enforced twice: by the WebSocket's maxPayload and here.
 * Never throws.
 */
export function parseSignalFrame(data: unknown): SignalParseResult {
  if (typeof data !== 'string') return { ok: false, detail: 'binary frame' };
  if (data.length > MAX_SIGNAL_FRAME_BYTES || (data.length * 3 > MAX_SIGNAL_FRAME_BYTES && utf8Length(data) > MAX_SIGNAL_FRAME_BYTES)) {
    return { ok: false, detail: `frame exceeds ${MAX_SIGNAL_FRAME_BYTES} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, detail: 'bad JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, detail: 'not a JSON object' };
  }
  return parseSignalValue(value);
}

/** Validates one signaling frame that is already a parsed JSON value (a relayed `sig` body). Never throws. */
export function parseSignalValue(value: unknown): SignalParseResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, detail: 'not a JSON object' };
  }
  const { type } = value as { type?: unknown };
  if (!isSignalType(type)) return { ok: false, detail: `unknown type ${JSON.stringify(type)?.slice(0, 40)}` };
  const parsed = schemas[type].safeParse(value);
  if (parsed.success) return { ok: true, frame: parsed.data as SignalFrame };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || '(root)';
  return { ok: false, detail: `${type}: ${where} ${issue?.message ?? 'is invalid'}`.slice(0, 200) };
}

/** Serialises an outbound signaling frame. */
export function encodeSignalFrame(frame: SignalFrame): string {
  return JSON.stringify(frame);
}

/**
 * WebSocket close codes of a refused or aborted signaling session (4000-4999
 * is the application range), each with the DialError code the dialer reports.
 * 1000 closes a session whose DataChannel is open; 1009 is ws's "too big".
 */
export const SignalClose = {
  /** Bad frame, frame out of order, unsupported version, bad SDP. */
  protocol: 4000,
  /** The dialer reached its own node id. */
  self: 4001,
  /** Another connection between the same two nodes wins (see WebRtcTransport). */
  duplicate: 4002,
  /** Admission refused (maxPeers) or too many pending sessions. */
  full: 4003,
  /** No open DataChannel within SIGNAL_TIMEOUT_MS. */
  timeout: 4004,
  /** The node is shutting down. */
  shutdown: 4005,
  /** The peer speaks an older protocol (v1: no proof of identity); it is refused. */
  version: 4006,
  /** The peer did not prove its identity on the DataChannel (docs/protocol.md "Handshake"). */
  unproven: 4007,
} as const;
export type SignalCloseName = keyof typeof SignalClose;

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  let s = text.replace(/[^\x20-\x7e]/g, '?');
  if (s.length > 120) s = s.slice(0, 117) + '...';
  return s;
}
