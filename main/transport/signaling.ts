/**
 * Signaling v1 (DESIGN.md §2): the JSON frames two nodes exchange over a
 * transient WebSocket on `/signal` to set up the `lvs` DataChannel, the one
 * parser every inbound signaling frame goes through, the WebSocket close
 * codes that say why a session was refused, and the "host:port" address
 * parser used by `dial`. Nothing here throws on untrusted input.
 *
 * Session shape (dialer = the side that opened the WebSocket):
 *   dialer → hello, acceptor → hello (or a close with a 4xxx code),
 *   dialer → offer, acceptor → answer, both → candidate*,
 *   then the WebSocket is closed as soon as the DataChannel is open.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_CANDIDATE_LENGTH, MAX_MID_LENGTH, MAX_SIGNAL_FRAME_BYTES, PROTOCOL_VERSION } from '../model/limits.js';
import { noncePattern } from '../protocol/handshake.js';
import { nodeId } from '../protocol/messages.js';

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
  if (Buffer.byteLength(data, 'utf8') > MAX_SIGNAL_FRAME_BYTES) {
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

/** A validated dial address. */
export interface SignalAddress {
  /** Host as given, without IPv6 brackets ("127.0.0.1", "::1", "node.local"). */
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for IP literals, 0 for host names. */
  readonly family: 0 | 4 | 6;
  /** Canonical "host:port" ("[::1]:7710" for IPv6). */
  readonly address: string;
  /** ws://host:port/signal */
  readonly url: string;
}

export type AddressParseResult =
  | { readonly ok: true; readonly value: SignalAddress }
  | { readonly ok: false; readonly detail: string };

const hostnameLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses "host:port": IPv4 ("192.168.1.4:7710"), bracketed IPv6
 * ("[fe80::1]:7710"; IPv6 zone ids are refused: URLs cannot carry them),
 * or a DNS host name ("node.local:7710"). Port 1..65535, decimal. Never throws.
 */
export function parseSignalAddress(input: unknown): AddressParseResult {
  const fail = (detail: string): AddressParseResult => ({ ok: false, detail });
  if (typeof input !== 'string') return fail('address must be a string "host:port"');
  if (input.length === 0) return fail('address is empty; expected "host:port"');
  if (input.length > 300) return fail('address is too long');
  if (input !== input.trim() || /\s/.test(input)) return fail('address contains whitespace');
  if (input.includes('://') || input.includes('/')) return fail('expected "host:port" without a scheme or path');

  let host: string;
  let portText: string;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return fail('unterminated "[" in IPv6 address');
    host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (!rest.startsWith(':')) return fail('missing ":port" after "[IPv6]"');
    portText = rest.slice(1);
    if (host.includes('%')) return fail('IPv6 zone ids are not supported');
    if (isIP(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0) return fail('missing ":port"');
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (host.includes(':')) return fail('IPv6 addresses must be written "[addr]:port"');
    if (host.length === 0) return fail('missing host before ":port"');
  }

  if (!/^[0-9]{1,5}$/.test(portText)) return fail(`port "${portText}" is not a number 1-65535`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return fail(`port ${port} is out of range 1-65535`);

  let family: 0 | 4 | 6;
  if (input.startsWith('[')) {
    family = 6;
  } else if (isIP(host) === 4) {
    family = 4;
  } else {
    if (/^[0-9.]+$/.test(host)) return fail(`"${host}" is not a valid IPv4 address`);
    const name = host.endsWith('.') ? host.slice(0, -1) : host;
    if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => hostnameLabel.test(label))) {
      return fail(`"${host}" is not a valid host name`);
    }
    family = 0;
  }

  const hostForUrl = family === 6 ? `[${host}]` : host;
  return {
    ok: true,
    value: {
      host,
      port,
      family,
      address: `${hostForUrl}:${port}`,
      url: `ws://${hostForUrl}:${port}${SIGNAL_PATH}`,
    },
  };
}

/** "1.2.3.4:5" / "[::1]:5" for a socket's remote end; IPv4-mapped IPv6 shown as IPv4. */
export function formatSocketAddress(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const host = isIP(a) === 6 ? `[${a}]` : a;
  return port === undefined ? host : `${host}:${port}`;
}
