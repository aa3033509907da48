/**
 * `lvs-node identity export|import`: moves a node's identity between data
 * dirs through a backup file (main/identity/backup.ts). Export only reads
 * the store (a running node's too: its identity never changes); import
 * takes the data dir's lock, so it never writes under a running node, and
 * writes the store in one rename, so a reader or a crash sees the old file
 * or the new one, never half of one. Every failure is an IdentityError of
 * one line, and leaves the disk as it was.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeIdentityBackup, encodeIdentityBackup, isSealedBackup } from '../identity/backup.js';
import { checkIdentity, type Identity } from '../identity/identity.js';
import { MAX_IDENTITY_BACKUP_BYTES } from '../model/limits.js';
import { DataDirLockError, lockDataDir, type DataDirLock } from '../store/data-dir-lock.js';
import { migrate } from '../store/migrations.js';
import { DEFAULT_SETTINGS, EMPTY_MEMORY, STORE_SCHEMA_VERSION, storeSchema, type StoreData } from '../store/schema.js';
import { INITIAL_STATE, makeDirectory, removeDirectories, STORE_FILE_NAME } from '../store/store.js';
import type { IdentityOptions } from './identity-args.js';
import { PASSPHRASE_ENV } from './identity-args.js';

/** A user error of the identity command, in one line (exit code 2). */
export class IdentityError extends Error {
  override name = 'IdentityError';
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

function describeFsError(error: unknown): string {
  switch (codeOf(error)) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : String(error);
  }
}

/** Time in a file name: ISO with '-' for ':' (as the store names the files it sets aside). */
function stamp(now: Date): string {
  return now.toISOString().replaceAll(':', '-');
}

/**
 * Writes `text` to `file` (mode 0600) through a temporary file beside it
 * and one rename. Without `overwrite`, an existing file (even one that
 * appears meanwhile) is an EEXIST error: the temporary file is hard-linked
 * into place, which fails if the name is taken; file systems without hard
 * links fall back to a check and a rename.
 */
function writeAtomically(file: string, text: string, overwrite: boolean): void {
  // The store's own temporary-file pattern (lvs-node.json.tmp-<10 digits><6 hex>): a leftover is removed by the next start.
  const temp = `${file}.tmp-${String(Date.now() % 1e10).padStart(10, '0')}${randomBytes(3).toString('hex')}`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (overwrite) {
      fs.renameSync(temp, file);
      return;
    }
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      if (codeOf(error) === 'EEXIST' || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(codeOf(error) ?? '')) throw error;
      if (fs.existsSync(file)) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
      fs.renameSync(temp, file);
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

type StoreOnDisk =
  | { kind: 'none' }
  | { kind: 'valid'; data: StoreData }
  | { kind: 'invalid'; problem: string }
  | { kind: 'newer'; problem: string };

/** What the data dir's store file holds, read and checked as a start would, without changing it. */
function readStore(file: string): StoreOnDisk {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { kind: 'none' };
    throw new IdentityError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: 'it is not JSON' };
  }
  const migrated = migrate(raw);
  if (!migrated.ok) return migrated.newer ? { kind: 'newer', problem: migrated.error } : { kind: 'invalid', problem: migrated.error };
  const parsed = storeSchema.safeParse(migrated.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'invalid', problem: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  if (!checkIdentity(parsed.data.identity)) return { kind: 'invalid', problem: 'its identity keys do not match each other or its id' };
  return { kind: 'valid', data: parsed.data };
}

/** The identity kept in `dataDir`; only its `identity` section needs to be sound (it is the same in every store layout). */
function identityInStore(dataDir: string): Identity {
  const file = path.join(dataDir, STORE_FILE_NAME);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') throw new IdentityError(`there is no node in ${dataDir} (no ${STORE_FILE_NAME}): nothing to export; use --data-dir`);
    throw new IdentityError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new IdentityError(`${file} is not JSON, so it holds no identity to export`);
  }
  const identity = checkIdentity((raw as { identity?: unknown } | null)?.identity);
  if (!identity) throw new IdentityError(`${file} holds no valid identity (its keys are missing or do not match its id)`);
  return identity;
}

/** Writes the identity of `options.dataDir` to `options.file`; returns the line to print. */
export function exportIdentity(options: IdentityOptions, now: Date = new Date()): string {
  const dataDir = path.resolve(options.dataDir);
  const identity = identityInStore(dataDir);
  const text = encodeIdentityBackup(identity, options.passphrase, now);
  try {
    writeAtomically(options.file, text, options.force);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') throw new IdentityError(`${options.file} exists: add --force to overwrite it`);
    if (codeOf(error) === 'ENOENT') throw new IdentityError(`cannot write ${options.file}: no such directory ${path.dirname(path.resolve(options.file))}`);
    throw new IdentityError(`cannot write ${options.file}: ${describeFsError(error)}`);
  }
  const sealing = options.passphrase !== null ? 'sealed with the passphrase' : 'not encrypted: it holds the private key, keep it private';
  return `exported the identity ${identity.id} of ${dataDir} to ${options.file} (${sealing})`;
}

/** The identity in the backup file, or an IdentityError saying what is wrong with the file. */
function readBackup(options: IdentityOptions): Identity {
  const { file } = options;
  let text: string;
  let mode: number;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new IdentityError(`${file} is a directory, not an identity backup`);
    if (st.size > MAX_IDENTITY_BACKUP_BYTES) throw new IdentityError(`${file} is not an identity backup (larger than ${MAX_IDENTITY_BACKUP_BYTES} bytes)`);
    mode = st.mode;
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    throw new IdentityError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  // A key in clear that other users could read may already be someone else's: refuse it, as ssh refuses such a key.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0 && !isSealedBackup(text)) {
    throw new IdentityError(`${file} can be read by other users (mode ${(mode & 0o777).toString(8)}) and is not encrypted: chmod 600 ${file}`);
  }
  const decoded = decodeIdentityBackup(text, options.passphrase);
  if (!decoded.ok) {
    if (decoded.needsPassphrase) throw new IdentityError(`${file} is encrypted: give its passphrase with --passphrase-file F or ${PASSPHRASE_ENV}`);
    throw new IdentityError(`${file} is not a usable identity backup: ${decoded.problem}`);
  }
  return decoded.identity;
}

/**
 * Puts the identity of `options.file` into `options.dataDir`; returns the
 * line to print. A data dir without a store gets a fresh one (default
 * settings, a node that has never cycled); a store with another identity
 * is replaced only with --force, and then keeps its settings and peer book
 * while its state (the other node's) starts over.
 */
export function importIdentity(options: IdentityOptions, now: Date = new Date()): string {
  const identity = readBackup(options);
  const dataDir = path.resolve(options.dataDir);
  let made: string[];
  try {
    made = makeDirectory(dataDir);
  } catch (error) {
    throw new IdentityError(`cannot use data directory ${dataDir}: ${describeFsError(error)}`);
  }
  let lock: DataDirLock | null = null;
  let done = false;
  try {
    try {
      lock = lockDataDir(dataDir);
    } catch (error) {
      if (error instanceof DataDirLockError) {
        throw new IdentityError(`the data dir ${dataDir} is in use by a running node (pid ${error.holderPid}): stop it first, then import`);
      }
      throw new IdentityError(`cannot use data directory ${dataDir}: ${describeFsError(error)}`);
    }
    const line = writeImported(dataDir, identity, options.force, now);
    done = true;
    return line;
  } finally {
    lock?.release();
    if (!done) removeDirectories(made);
  }
}

function writeImported(dataDir: string, identity: Identity, force: boolean, now: Date): string {
  const file = path.join(dataDir, STORE_FILE_NAME);
  const existing = readStore(file);
  let data: StoreData;
  let replacing: string | null = null;
  switch (existing.kind) {
    case 'newer':
      throw new IdentityError(`${file}: ${existing.problem}; nothing was imported`);
    case 'invalid':
      if (!force) {
        throw new IdentityError(`${file} is not a valid store (${existing.problem}): start the node once to repair it, or add --force to set it aside and import`);
      }
      replacing = 'an unreadable store';
      data = { schemaVersion: STORE_SCHEMA_VERSION, identity, state: { ...INITIAL_STATE }, peers: [], settings: { ...DEFAULT_SETTINGS }, memory: { ...EMPTY_MEMORY, copies: [] } };
      break;
    case 'valid': {
      const current = existing.data.identity.id;
      if (current === identity.id) return `${dataDir} already holds the identity ${identity.id}; nothing changed`;
      if (!force) {
        throw new IdentityError(
          `${dataDir} holds another identity, ${current}; importing would replace it with ${identity.id}: add --force to replace it (export it first if you may need it again)`,
        );
      }
      replacing = `the identity ${current}`;
      // The state and the network memory were the other node's; settings and the peer book belong to this machine and stay.
      data = { ...existing.data, schemaVersion: STORE_SCHEMA_VERSION, identity, state: { ...INITIAL_STATE }, memory: { ...EMPTY_MEMORY, copies: [] } };
      break;
    }
    case 'none':
      data = { schemaVersion: STORE_SCHEMA_VERSION, identity, state: { ...INITIAL_STATE }, peers: [], settings: { ...DEFAULT_SETTINGS }, memory: { ...EMPTY_MEMORY, copies: [] } };
      break;
  }
  const checked = storeSchema.parse(data);
  const text = JSON.stringify(checked, undefined, '\t');

  let aside: string | null = null;
  if (replacing !== null) {
    aside = `${file}.replaced-${stamp(now)}`;
    try {
      fs.copyFileSync(file, aside, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(aside, 0o600);
    } catch (error) {
      fs.rmSync(aside, { force: true });
      throw new IdentityError(`cannot keep a copy of ${file} beside it: ${describeFsError(error)}; nothing was imported`);
    }
  }
  try {
    writeAtomically(file, text, true);
  } catch (error) {
    if (aside !== null) fs.rmSync(aside, { force: true });
    throw new IdentityError(`cannot write ${file}: ${describeFsError(error)}; nothing was imported`);
  }
  if (replacing !== null) return `imported the identity ${identity.id} into ${file}, replacing ${replacing} (kept as ${aside})`;
  return `imported the identity ${identity.id} into ${file}; the next start in ${dataDir} runs as this node`;
}
