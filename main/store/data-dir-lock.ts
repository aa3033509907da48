/**
 * One data dir, one node. A node holds `lvs-node.lock` in its data dir for
 * its whole life: a file created with O_EXCL (so exactly one creator wins)
 * naming the holder's pid, its start time and the boot it runs in. A second
 * node finds it, sees the holder still running and is refused with the pid.
 * A holder killed with SIGKILL leaves the file behind; the next node finds
 * the pid dead (or reused by another process: the start time in
 * /proc/<pid>/stat differs, or the machine rebooted) and takes the lock over.
 *
 * Taking over a dead holder's lock is serialised by a second O_EXCL file,
 * `lvs-node.lock.takeover`, held for the few milliseconds of the swap: two
 * nodes starting at once on a dir whose holder died cannot both replace it.
 * (A start killed inside those milliseconds leaves the guard behind; it is
 * removed once old, and only several starts racing at that very moment
 * could then both win.)
 *
 * Without /proc (macOS, Windows) a pid that is alive counts as the holder;
 * a reused pid then keeps the dir locked until that process ends or the
 * lock file is deleted by hand (the error line names the file's dir).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DATA_DIR_LOCK_MAX_BYTES,
  DATA_DIR_LOCK_RETRY_MS,
  DATA_DIR_LOCK_TAKEOVER_STALE_MS,
  DATA_DIR_LOCK_UNWRITTEN_GRACE_MS,
  DATA_DIR_LOCK_WAIT_MS,
} from '../model/limits.js';

export const LOCK_FILE_NAME = 'lvs-node.lock';
const TAKEOVER_FILE_NAME = `${LOCK_FILE_NAME}.takeover`;
/** Linux caps pids at 2^22 (pid_max); anything else in a lock file is not a pid we may signal. */
const MAX_PID = 4_194_304;

/** What the lock file says about the node holding the dir. */
export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), null where there is no /proc. */
  startTime: string | null;
  /** /proc/sys/kernel/random/boot_id, null where there is none. */
  bootId: string | null;
  /** When the lock was taken (ISO time), for a person reading the file. */
  since: string;
  /** Makes every lock file unique, so a takeover replaces exactly the file it judged stale. */
  nonce: string;
}

/** The dir is held by a node that is still running. */
export class DataDirLockError extends Error {
  override name = 'DataDirLockError';
  constructor(
    readonly dir: string,
    readonly holderPid: number,
  ) {
    super(`the data dir ${dir} is in use by another node (pid ${holderPid}); stop it first or use --data-dir`);
  }
}

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Deletes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export type LockLog = (message: string) => void;

const pause = new Int32Array(new SharedArrayBuffer(4));
/** Opening a store is synchronous; these waits are short and only happen while another start races this one. */
function sleepSync(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

function errorCode(error: unknown): unknown {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

/** At most DATA_DIR_LOCK_MAX_BYTES + 1 bytes of `file`: enough to tell ours from anything else. */
function readSmall(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(DATA_DIR_LOCK_MAX_BYTES + 1);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

function bootId(): string | null {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * A process's start time from /proc/<pid>/stat: a string of digits,
 * 'gone' when the process does not exist or is a zombie, null when this
 * system has no /proc to ask.
 */
export function processStartTime(pid: number): string | 'gone' | null {
  if (process.platform !== 'linux') return null;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    return errorCode(error) === 'ENOENT' || errorCode(error) === 'ESRCH' ? 'gone' : null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  if (state === 'Z' || state === 'X') return 'gone';
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

function describeSelf(): LockHolder {
  const start = processStartTime(process.pid);
  return {
    pid: process.pid,
    startTime: start === 'gone' ? null : start,
    bootId: bootId(),
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
}

/** The holder a lock file names, or null when its text is not a lock file of ours. */
export function parseHolder(text: string): LockHolder | null {
  if (Buffer.byteLength(text) > DATA_DIR_LOCK_MAX_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object') return null;
  const { pid, startTime, bootId: boot, since, nonce } = raw as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || pid > MAX_PID) return null;
  if (startTime !== null && (typeof startTime !== 'string' || !/^\d{1,20}$/.test(startTime))) return null;
  if (boot !== null && (typeof boot !== 'string' || boot.length > 64)) return null;
  if (typeof since !== 'string' || since.length > 64 || typeof nonce !== 'string' || !/^[0-9a-f]{16}$/.test(nonce)) return null;
  return { pid, startTime, bootId: boot, since, nonce };
}

/** Whether the process a lock file names is still the one that wrote it. */
export function holderIsRunning(holder: LockHolder): boolean {
  const boot = bootId();
  if (holder.bootId !== null && boot !== null && holder.bootId !== boot) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists, run by another user.
    if (errorCode(error) !== 'EPERM') return false;
  }
  const start = processStartTime(holder.pid);
  if (start === 'gone') return false;
  if (start !== null && holder.startTime !== null && start !== holder.startTime) return false;
  return true;
}

type Existing = { kind: 'gone' } | { kind: 'holder'; text: string; holder: LockHolder } | { kind: 'unreadable'; text: string; ageMs: number };

function inspect(file: string): Existing {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
    text = readSmall(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'gone' };
    throw error;
  }
  const holder = parseHolder(text);
  return holder ? { kind: 'holder', text, holder } : { kind: 'unreadable', text, ageMs: Date.now() - mtimeMs };
}

/** Creates `file` with `text` unless it exists; false if it did. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, text);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  return true;
}

function removeIfStill(file: string, text: string): void {
  try {
    if (readSmall(file) === text) fs.unlinkSync(file);
  } catch {
    // Gone already, or unreadable: it is not ours to remove then.
  }
}

/** Locks held by this process, removed on exit even if nobody released them. */
const held = new Set<{ file: string; text: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lock of held) removeIfStill(lock.file, lock.text);
  });
}

/**
 * Under the takeover guard, replaces the lock file if it is still exactly
 * the stale text that was inspected. False: look again.
 */
function takeOver(file: string, staleText: string, mine: string): boolean {
  const guard = path.join(path.dirname(file), TAKEOVER_FILE_NAME);
  if (!createExclusive(guard, `${process.pid}\n`)) {
    // Someone else is taking over right now, or died doing it (then its guard grows old).
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > DATA_DIR_LOCK_TAKEOVER_STALE_MS) fs.rmSync(guard, { force: true });
    } catch {
      // Gone meanwhile: look again.
    }
    return false;
  }
  try {
    let current: string | null;
    try {
      current = readSmall(file);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      current = null;
    }
    if (current !== null && current !== staleText) return false;
    if (current !== null) fs.unlinkSync(file);
    return createExclusive(file, mine);
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/** One try: true when the lock is ours, false to look again shortly; throws when a running node holds it. */
function attempt(dir: string, file: string, mine: string, log: LockLog): boolean {
  if (createExclusive(file, mine)) return true;
  const existing = inspect(file);
  if (existing.kind === 'gone') return false;
  if (existing.kind === 'holder') {
    if (holderIsRunning(existing.holder)) throw new DataDirLockError(dir, existing.holder.pid);
    if (!takeOver(file, existing.text, mine)) return false;
    log(`took over the lock of ${dir} left by pid ${existing.holder.pid}, which is no longer running`);
    return true;
  }
  // A file we cannot read is a starter between creating and writing it, for a moment;
  // older, it was left by a crash at that moment (or is not ours at all).
  if (existing.ageMs <= DATA_DIR_LOCK_UNWRITTEN_GRACE_MS || !takeOver(file, existing.text, mine)) return false;
  log(`took over an unreadable lock file in ${dir}`);
  return true;
}

/**
 * Takes the lock on `dir` (which must exist) or throws DataDirLockError
 * naming the running holder. Other errors (a read-only dir, no permission)
 * are thrown as they come. `log` hears about a dead holder's lock taken over.
 */
export function lockDataDir(dir: string, log: LockLog = () => {}): DataDirLock {
  const file = path.join(dir, LOCK_FILE_NAME);
  const holder = describeSelf();
  const mine = `${JSON.stringify(holder)}\n`;
  const until = Date.now() + DATA_DIR_LOCK_WAIT_MS;
  while (!attempt(dir, file, mine, log)) {
    if (Date.now() > until) {
      throw new Error(`could not take the lock ${file} within ${DATA_DIR_LOCK_WAIT_MS} ms: other nodes keep starting on this data dir`);
    }
    sleepSync(DATA_DIR_LOCK_RETRY_MS);
  }
  const entry = { file, text: mine };
  held.add(entry);
  installExitHook();
  let released = false;
  return {
    path: file,
    holder,
    release() {
      if (released) return;
      released = true;
      held.delete(entry);
      removeIfStill(file, mine);
    },
  };
}
