/**
 * The proof of identity on every link (protocol v2, docs/protocol.md
 * "Handshake"). Pure: the signing, hashing and MAC primitives come in
 * through `HandshakeCrypto`, so the native node (node:crypto) and a browser
 * node (WebCrypto) run this same code.
 *
 * Each side of a fresh DataChannel sends one `auth` frame before anything
 * else: its Ed25519 public key and a signature over a transcript that binds
 * both node ids, both DTLS certificate fingerprints of this very connection
 * and both random signaling nonces of this session. So a key holder proves
 * it is at the other end of this DTLS connection (a relay in the middle has
 * two connections with different fingerprints), now (the nonces are fresh),
 * and as which role (a signature cannot be reflected back).
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from '../model/limits.js';
import { nodeId } from './messages.js';

/** First line of every transcript: a signature for anything else never verifies here. */
export const AUTH_DOMAIN = 'lvs-node auth v2';

/** A signaling nonce: 32 random bytes, base64url without padding. */
export const nonceBytes = 32;
export const noncePattern = /^[A-Za-z0-9_-]{43}$/;

/** A DTLS certificate fingerprint as written in SDP: "sha-256 AB:CD:...". */
export const fingerprintPattern = /^(sha-1|sha-224|sha-256|sha-384|sha-512) ([0-9A-F]{2}:){19,63}[0-9A-F]{2}$/;

export type AuthRole = 'dialer' | 'acceptor';

/** Everything both ends of one connection know about it, once the DataChannel is open. */
export interface AuthContext {
  readonly dialerId: string;
  readonly acceptorId: string;
  readonly dialerFingerprint: string;
  readonly acceptorFingerprint: string;
  readonly dialerNonce: string;
  readonly acceptorNonce: string;
}

/**
 * The primitives the handshake needs. Each may answer synchronously (Node's
 * crypto) or with a promise (WebCrypto).
 */
export interface HandshakeCrypto {
  /** Our raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature with our private key. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>;
  /** The node id a raw public key stands for (docs/protocol.md "Node ids"). */
  idOf(publicKey: Uint8Array): string | Promise<string>;
  /** HMAC-SHA-256 under the network key, or null when this node has no network key. */
  networkMac(message: Uint8Array): Uint8Array | Promise<Uint8Array> | null;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

export const authFrameSchema = z.object({
  type: z.literal('auth'),
  v: z.number().int().min(1),
  id: nodeId,
  /** Raw Ed25519 public key, base64 (32 bytes). */
  key: base64.length(44),
  /** Ed25519 signature of the transcript, base64 (64 bytes). */
  sig: base64.length(88),
  /** HMAC-SHA-256 of the transcript under the network key, base64 (32 bytes); only with a network key. */
  nk: base64.length(44).optional(),
});
export type AuthFrame = z.infer<typeof authFrameSchema>;

export const AUTH_FAILURES = [
  'bad-auth-frame',
  'old-protocol',
  'no-fingerprint',
  'key-does-not-match-id',
  'bad-signature',
  'network-key-missing',
  'network-key-mismatch',
] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export type AuthCheck =
  | { readonly ok: true; readonly publicKey: Uint8Array }
  | { readonly ok: false; readonly reason: AuthFailure; readonly detail: string };

/** The fingerprint line of an SDP, normalised ("sha-256 AB:..."), or null. */
export function fingerprintFromSdp(sdp: string): string | null {
  const match = /^a=fingerprint:(\S+) (\S+)\s*$/im.exec(sdp);
  if (!match) return null;
  return normaliseFingerprint(match[1]!, match[2]!);
}

/** "sha-256" + "ab:cd:..." in whatever case -> "sha-256 AB:CD:..." if well formed, else null. */
export function normaliseFingerprint(algorithm: string, value: string): string | null {
  const text = `${algorithm.toLowerCase()} ${value.toUpperCase()}`;
  return fingerprintPattern.test(text) ? text : null;
}

/** One side's view of a connection, as each end knows it once its DataChannel is open. */
export interface AuthView {
  role: AuthRole;
  localId: string;
  peerId: string;
  localFingerprint: string;
  remoteFingerprint: string;
  localNonce: string;
  peerNonce: string;
}

/** The shared AuthContext from one side's view (both ends compute the same one). */
export function authContextOf(v: AuthView): AuthContext {
  const dialer = v.role === 'dialer';
  return {
    dialerId: dialer ? v.localId : v.peerId,
    acceptorId: dialer ? v.peerId : v.localId,
    dialerFingerprint: dialer ? v.localFingerprint : v.remoteFingerprint,
    acceptorFingerprint: dialer ? v.remoteFingerprint : v.localFingerprint,
    dialerNonce: dialer ? v.localNonce : v.peerNonce,
    acceptorNonce: dialer ? v.peerNonce : v.localNonce,
  };
}

/** The exact bytes the `role` side signs (ASCII only: ids, fingerprints and nonces are). */
export function authTranscript(role: AuthRole, c: AuthContext): Uint8Array {
  const text = [
    AUTH_DOMAIN,
    `role ${role}`,
    `dialer-id ${c.dialerId}`,
    `acceptor-id ${c.acceptorId}`,
    `dialer-fingerprint ${c.dialerFingerprint}`,
    `acceptor-fingerprint ${c.acceptorFingerprint}`,
    `dialer-nonce ${c.dialerNonce}`,
    `acceptor-nonce ${c.acceptorNonce}`,
  ].join('\n');
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  return bytes;
}

function contextProblem(c: AuthContext): string | null {
  if (!fingerprintPattern.test(c.dialerFingerprint) || !fingerprintPattern.test(c.acceptorFingerprint)) return 'a DTLS fingerprint is missing';
  if (!noncePattern.test(c.dialerNonce) || !noncePattern.test(c.acceptorNonce)) return 'a signaling nonce is missing';
  return null;
}

/** Our `auth` frame for this connection, as `role`. */
export async function buildAuthFrame(role: AuthRole, c: AuthContext, crypto: HandshakeCrypto): Promise<string> {
  const problem = contextProblem(c);
  if (problem) throw new Error(`cannot prove identity: ${problem}`);
  const transcript = authTranscript(role, c);
  const frame: AuthFrame = {
    type: 'auth',
    v: PROTOCOL_VERSION,
    id: role === 'dialer' ? c.dialerId : c.acceptorId,
    key: toBase64(crypto.publicKey),
    sig: toBase64(await crypto.sign(transcript)),
  };
  const mac = crypto.networkMac(transcript);
  if (mac) frame.nk = toBase64(await mac);
  return JSON.stringify(frame);
}

/**
 * Checks the peer's `auth` frame: the peer has the other role of `ourRole`.
 * Never throws; a failure names its reason.
 */
export async function checkAuthFrame(raw: unknown, ourRole: AuthRole, c: AuthContext, crypto: HandshakeCrypto): Promise<AuthCheck> {
  const fail = (reason: AuthFailure, detail: string): AuthCheck => ({ ok: false, reason, detail });
  const problem = contextProblem(c);
  if (problem) return fail('no-fingerprint', problem);
  if (typeof raw !== 'string' || raw.length > 1024) return fail('bad-auth-frame', 'the first frame must be a short text auth frame');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail('bad-auth-frame', 'the first frame is not JSON');
  }
  const parsed = authFrameSchema.safeParse(value);
  if (!parsed.success) {
    const type = (value as { type?: unknown } | null)?.type;
    if (type === 'hello') return fail('old-protocol', 'the peer sent a v1 hello without proving its identity');
    const issue = parsed.error.issues[0];
    return fail('bad-auth-frame', `auth: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is invalid'}`.slice(0, 200));
  }
  const frame = parsed.data;
  const theirRole: AuthRole = ourRole === 'dialer' ? 'acceptor' : 'dialer';
  const expectedId = theirRole === 'dialer' ? c.dialerId : c.acceptorId;
  if (frame.id !== expectedId) return fail('key-does-not-match-id', `auth names ${frame.id}, signaling named ${expectedId}`);
  const key = fromBase64(frame.key);
  const sig = fromBase64(frame.sig);
  if (!key || key.length !== 32 || !sig || sig.length !== 64) return fail('bad-auth-frame', 'key or signature has the wrong length');
  let keyId: string;
  try {
    keyId = await crypto.idOf(key);
  } catch {
    return fail('bad-auth-frame', 'the public key is not an Ed25519 key');
  }
  if (keyId !== expectedId) return fail('key-does-not-match-id', `the public key is the key of ${keyId}, not of ${expectedId}`);
  const transcript = authTranscript(theirRole, c);
  let valid = false;
  try {
    valid = await crypto.verify(key, transcript, sig);
  } catch {
    valid = false;
  }
  if (!valid) return fail('bad-signature', 'the signature does not cover this connection (other fingerprints or nonces: a relay or a replay)');
  const ourMac = crypto.networkMac(transcript);
  if (ourMac) {
    if (!frame.nk) return fail('network-key-missing', 'this node is on a private network and the peer gave no network key proof');
    const theirs = fromBase64(frame.nk);
    if (!theirs || !constantTimeEqual(theirs, await ourMac)) return fail('network-key-mismatch', 'the peer holds another network key');
  }
  return { ok: true, publicKey: key };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (no Buffer, no btoa: this module runs everywhere). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** Strict inverse of toBase64: null for anything that does not round-trip. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const ch = text[i + j]!;
      const v = ch === '=' ? 0 : B64.indexOf(ch);
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return toBase64(out) === text ? out : null;
}

/** A fresh nonce from a source of random bytes (crypto.getRandomValues in every environment). */
export function makeNonce(randomBytes: (n: number) => Uint8Array): string {
  return toBase64(randomBytes(nonceBytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
