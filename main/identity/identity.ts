/**
 * A node's identity (docs/store.md, "identity"): an Ed25519 key pair made at first start
 * and kept, and the id derived from its public key, grouped for reading
 * like a Syncthing device id.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { nodeIdFromKeyDigest } from '../protocol/node-id.js';

export interface Identity {
  /** Derived from publicKey by idFromPublicKey; stored only for reading the file by eye. */
  id: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** Base64 of the PKCS#8 DER private key. */
  privateKey: string;
}

const RAW_PUBLIC_KEY_BYTES = 32;
/** Signed and verified by checkIdentity; any fixed bytes do. */
const PROBE = Buffer.from('lvs-node identity check');

/** Buffer.from(_, 'base64') skips junk silently; a key must survive the round trip. */
function decodeBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : null;
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function idFromPublicKey(publicKeyB64: string): string {
  const raw = decodeBase64(publicKeyB64);
  if (!raw || raw.length !== RAW_PUBLIC_KEY_BYTES) {
    throw new TypeError(`public key must be base64 of ${RAW_PUBLIC_KEY_BYTES} bytes`);
  }
  return nodeIdFromKeyDigest(createHash('sha256').update(raw).digest());
}

export function createIdentity(): Identity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('Ed25519 public key exported without x');
  const publicKeyB64 = Buffer.from(x, 'base64url').toString('base64');
  return {
    id: idFromPublicKey(publicKeyB64),
    publicKey: publicKeyB64,
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

/** The identity if both keys parse, belong together and give its id; otherwise null. Never throws. */
export function checkIdentity(x: unknown): Identity | null {
  if (x === null || typeof x !== 'object') return null;
  const { id, publicKey, privateKey } = x as Record<string, unknown>;
  if (typeof id !== 'string' || typeof publicKey !== 'string' || typeof privateKey !== 'string') return null;
  const rawPublic = decodeBase64(publicKey);
  const der = decodeBase64(privateKey);
  if (!rawPublic || rawPublic.length !== RAW_PUBLIC_KEY_BYTES || !der) return null;
  if (id !== idFromPublicKey(publicKey)) return null;
  try {
    const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    if (priv.asymmetricKeyType !== 'ed25519') return null;
    if (!verify(null, PROBE, publicKeyObject(rawPublic), sign(null, PROBE, priv))) return null;
  } catch {
    return null;
  }
  return { id, publicKey, privateKey };
}
