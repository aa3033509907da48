/**
 * The credential a --ui-public node asks for: by default a random access
 * token the node makes on its first public start and keeps in the data dir
 * (`ui-token`, mode 0600, beside the store that holds the private key), or
 * a password the user keeps in a file (--ui-password-file). A file, not an
 * environment variable: a unit file's Environment= lines and `systemctl
 * show` are readable by every user of the machine, and the environment is
 * inherited by every child process; a 0600 file is readable by its owner only.
 *
 * Loading only reads: a new token is written by save(), once the node is
 * listening, so a start that fails leaves nothing on disk.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_UI_PASSWORD_LENGTH, MIN_UI_PASSWORD_LENGTH, UI_TOKEN_BYTES } from '../model/limits.js';

/** The node cannot offer a usable credential; the message is one line for the user (exit code 2). */
export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

export const UI_TOKEN_FILE = 'ui-token';

/** base64url of UI_TOKEN_BYTES random bytes (43 characters for 32 bytes). */
const tokenPattern = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((UI_TOKEN_BYTES * 4) / 3)}}$`);

export interface UiCredential {
  readonly kind: 'token' | 'password';
  /** Where it is kept, for the start log. */
  readonly path: string;
  /** The token when it was made by this start (the start log shows it once), else null. */
  readonly newToken: string | null;
  /** Whether `presented` is the credential; takes the same time whatever it is. */
  matches(presented: string): boolean;
  /** Writes a token made by this start to the data dir (mode 0600); nothing otherwise. */
  save(): void;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function credential(kind: 'token' | 'password', path: string, secret: string, newToken: string | null): UiCredential {
  // Both sides hashed first: equal lengths for timingSafeEqual, and nothing about the secret's length leaks.
  const expected = digest(secret);
  let saved = newToken === null;
  return {
    kind,
    path,
    newToken,
    matches: (presented) => timingSafeEqual(digest(presented), expected),
    save() {
      if (saved) return;
      let fd: number;
      try {
        // 'wx': never overwrite a token another start wrote meanwhile.
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        throw new CredentialError(`cannot write the dashboard access token to ${path}: ${(err as Error).message}`);
      }
      try {
        writeSync(fd, `${secret}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      saved = true;
    },
  };
}

/** A regular file only its owner may read, else a CredentialError naming the fix; returns its size. */
function checkPrivate(path: string, what: string, fix: string): number {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CredentialError(code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (!stat.isFile()) throw new CredentialError(`${what} ${path} is not a regular file${stat.isSymbolicLink() ? ' (a symbolic link)' : ''}`);
  if ((stat.mode & 0o077) !== 0) {
    throw new CredentialError(`${what} ${path} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}): ${fix}`);
  }
  return stat.size;
}

function readSmall(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CredentialError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

function loadToken(dataDir: string): UiCredential {
  const path = join(dataDir, UI_TOKEN_FILE);
  let exists = true;
  try {
    lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CredentialError(`cannot read the dashboard access token ${path}: ${(err as Error).message}`);
    exists = false;
  }
  if (!exists) {
    const token = randomBytes(UI_TOKEN_BYTES).toString('base64url');
    return credential('token', path, token, token);
  }
  const size = checkPrivate(path, 'the dashboard access token', `run chmod 600 ${path}, or delete it and start again for a new token`);
  // A token file is 44 bytes; one many times that size is not ours and is not read.
  const token = size > 4 * UI_TOKEN_BYTES ? '' : readSmall(path, 'the dashboard access token').trim();
  if (!tokenPattern.test(token)) {
    throw new CredentialError(`${path} does not hold an access token written by lvs-node; delete it and start again for a new one`);
  }
  return credential('token', path, token, null);
}

function loadPassword(file: string): UiCredential {
  const size = checkPrivate(file, '--ui-password-file', `run chmod 600 ${file}`);
  if (size > MAX_UI_PASSWORD_LENGTH + 2) {
    throw new CredentialError(`--ui-password-file ${file} has ${size} bytes; a password has at most ${MAX_UI_PASSWORD_LENGTH} characters`);
  }
  const text = readSmall(file, '--ui-password-file');
  const password = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  // Printable ASCII only: the password travels in an HTTP Authorization header.
  if (!/^[\x20-\x7e]*$/.test(password)) {
    throw new CredentialError(`the password in ${file} must be one line of printable ASCII characters (it is sent in an HTTP header)`);
  }
  if (password.length < MIN_UI_PASSWORD_LENGTH || password.length > MAX_UI_PASSWORD_LENGTH) {
    throw new CredentialError(
      `the password in ${file} has ${password.length} characters; it needs ${MIN_UI_PASSWORD_LENGTH} to ${MAX_UI_PASSWORD_LENGTH} (or leave out --ui-password-file to use a generated access token)`,
    );
  }
  return credential('password', file, password, null);
}

/** The credential of a --ui-public start: the password in `passwordFile`, else the data dir's access token (made if there is none). */
export function loadUiCredential(dataDir: string, passwordFile: string | null): UiCredential {
  return passwordFile !== null ? loadPassword(passwordFile) : loadToken(dataDir);
}
