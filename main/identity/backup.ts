/**
 * The identity backup file (`lvs-node identity export` / `import`,
 * docs/store.md "Moving a node to another machine"): a node's key pair in a
 * JSON file of its own, optionally sealed with a passphrase (scrypt +
 * AES-256-GCM from node:crypto). Parsing never throws: a bad file is one
 * reason, in words a user can act on.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { z } from 'zod';
import {
  IDENTITY_BACKUP_SCRYPT_N,
  IDENTITY_BACKUP_SCRYPT_P,
  IDENTITY_BACKUP_SCRYPT_R,
  MAX_IDENTITY_BACKUP_BYTES,
  MAX_IDENTITY_BACKUP_SCRYPT_MEMORY,
  MAX_IDENTITY_BACKUP_SCRYPT_P,
} from '../model/limits.js';
import { nodeId } from '../protocol/messages.js';
import { checkIdentity, type Identity } from './identity.js';

/** The `format` tag of every backup file: a file without it is something else. */
export const IDENTITY_BACKUP_FORMAT = 'lvs-node-identity';
/** The layout version this code writes and the newest it reads. */
export const IDENTITY_BACKUP_VERSION = 1;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const SALT_BYTES = 16;
const TAG_BYTES = 16;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

const plainIdentity = z.strictObject({ id: nodeId, publicKey: base64.max(64), privateKey: base64.max(256) });

const sealed = z.strictObject({
  kdf: z.literal('scrypt'),
  N: z.number().int().min(2).refine((n) => (n & (n - 1)) === 0, 'must be a power of 2'),
  r: z.number().int().min(1),
  p: z.number().int().min(1).max(MAX_IDENTITY_BACKUP_SCRYPT_P),
  salt: base64.max(64),
  cipher: z.literal('aes-256-gcm'),
  iv: base64.max(32),
  tag: base64.max(32),
  data: base64.max(1024),
});

const backupSchema = z.strictObject({
  format: z.literal(IDENTITY_BACKUP_FORMAT),
  version: z.literal(IDENTITY_BACKUP_VERSION),
  /** In clear in both kinds, so a person (and `import`) can tell whose file it is before the passphrase. */
  id: nodeId,
  exportedAt: z.string().max(64),
  identity: plainIdentity.optional(),
  encrypted: sealed.optional(),
});

export type DecodedBackup =
  | { ok: true; identity: Identity; encrypted: boolean }
  | { ok: false; problem: string; needsPassphrase?: boolean };

/** Memory scrypt takes for N and r (Node's rule, 128 * N * r bytes), for the maxmem bound. */
function scryptMemory(N: number, r: number): number {
  return 128 * N * r;
}

function deriveKey(passphrase: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: scryptMemory(N, r) + 1024 * 1024 });
}

/** The header GCM authenticates with the key: a sealed key cannot be passed off under another id. */
function additionalData(id: string): Buffer {
  return Buffer.from(`${IDENTITY_BACKUP_FORMAT} v${IDENTITY_BACKUP_VERSION} ${id}`, 'ascii');
}

/** The backup file's text for `identity`, sealed when a passphrase is given. */
export function encodeIdentityBackup(identity: Identity, passphrase: string | null, now: Date = new Date()): string {
  const header = { format: IDENTITY_BACKUP_FORMAT, version: IDENTITY_BACKUP_VERSION, id: identity.id, exportedAt: now.toISOString() };
  const plain = { id: identity.id, publicKey: identity.publicKey, privateKey: identity.privateKey };
  if (passphrase === null) return `${JSON.stringify({ ...header, identity: plain }, null, 2)}\n`;
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const N = IDENTITY_BACKUP_SCRYPT_N;
  const r = IDENTITY_BACKUP_SCRYPT_R;
  const p = IDENTITY_BACKUP_SCRYPT_P;
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, N, r, p), iv);
  cipher.setAAD(additionalData(identity.id));
  const data = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  const encrypted = {
    kdf: 'scrypt',
    N,
    r,
    p,
    salt: salt.toString('base64'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  return `${JSON.stringify({ ...header, encrypted }, null, 2)}\n`;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
}

/** Whether `text` claims to be a sealed backup (for the file-mode rule: a sealed file may be readable by others). */
export function isSealedBackup(text: string): boolean {
  try {
    const raw = JSON.parse(text) as { encrypted?: unknown };
    return raw !== null && typeof raw === 'object' && raw.encrypted !== undefined;
  } catch {
    return false;
  }
}

/** The identity in a backup file's text, checked like the store checks its own (checkIdentity). Never throws. */
export function decodeIdentityBackup(text: string, passphrase: string | null): DecodedBackup {
  if (text.length > MAX_IDENTITY_BACKUP_BYTES) return { ok: false, problem: `it is larger than ${MAX_IDENTITY_BACKUP_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'it is not JSON' };
  }
  const tagged = raw as { format?: unknown; version?: unknown } | null;
  if (tagged === null || typeof tagged !== 'object' || tagged.format !== IDENTITY_BACKUP_FORMAT) {
    return { ok: false, problem: `it has no "format": "${IDENTITY_BACKUP_FORMAT}"` };
  }
  if (typeof tagged.version === 'number' && tagged.version > IDENTITY_BACKUP_VERSION) {
    return {
      ok: false,
      problem: `it is version ${tagged.version} of the backup format and this LVS Node reads up to version ${IDENTITY_BACKUP_VERSION}: upgrade LVS Node`,
    };
  }
  const parsed = backupSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: describe(parsed.error) };
  const backup = parsed.data;
  if ((backup.identity === undefined) === (backup.encrypted === undefined)) {
    return { ok: false, problem: 'it must hold exactly one of "identity" and "encrypted"' };
  }

  let candidate: unknown = backup.identity;
  if (backup.encrypted) {
    const sealedKey = backup.encrypted;
    if (passphrase === null) return { ok: false, problem: 'it is encrypted and no passphrase was given', needsPassphrase: true };
    if (scryptMemory(sealedKey.N, sealedKey.r) > MAX_IDENTITY_BACKUP_SCRYPT_MEMORY) {
      return { ok: false, problem: `its scrypt parameters ask for more than ${MAX_IDENTITY_BACKUP_SCRYPT_MEMORY / 2 ** 20} MiB` };
    }
    const salt = Buffer.from(sealedKey.salt, 'base64');
    const iv = Buffer.from(sealedKey.iv, 'base64');
    const tag = Buffer.from(sealedKey.tag, 'base64');
    if (salt.length < SALT_BYTES || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      return { ok: false, problem: 'its salt, iv or tag has the wrong length' };
    }
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, salt, sealedKey.N, sealedKey.r, sealedKey.p), iv);
      decipher.setAAD(additionalData(backup.id));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(Buffer.from(sealedKey.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return { ok: false, problem: 'the passphrase is wrong (or the file was altered)' };
    }
    try {
      candidate = plainIdentity.parse(JSON.parse(plain));
    } catch {
      return { ok: false, problem: 'its sealed identity is not an identity' };
    }
  }
  const identity = checkIdentity(candidate);
  if (!identity) return { ok: false, problem: 'its keys do not match each other or its id' };
  if (identity.id !== backup.id) return { ok: false, problem: `it is labelled ${backup.id} but holds the identity ${identity.id}` };
  return { ok: true, identity, encrypted: backup.encrypted !== undefined };
}
