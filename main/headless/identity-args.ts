/**
 * `lvs-node identity export FILE` / `lvs-node identity import FILE`: the
 * words and flags of the identity subcommand, parsed with node:util like
 * the node's own flags (cli-args.ts). Every mistake is one UsageError line.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MIN_BACKUP_PASSPHRASE_LENGTH } from '../model/limits.js';
import { defaultDataDir, UsageError } from './cli-args.js';

/** Where a passphrase given by the environment is read from (as LVS_NETWORK_KEY for the network key). */
export const PASSPHRASE_ENV = 'LVS_IDENTITY_PASSPHRASE';

export interface IdentityOptions {
  file: string;
  dataDir: string;
  force: boolean;
  /** Seals (export) or opens (import) the backup; null: none was given. Never logged. */
  passphrase: string | null;
}

export type IdentityCommand = { kind: 'help' } | { kind: 'export'; options: IdentityOptions } | { kind: 'import'; options: IdentityOptions };

export const IDENTITY_HELP = `Usage: lvs-node identity export FILE [options]
       lvs-node identity import FILE [options]

Moves a node to another machine: export writes the node's identity (its key
pair, the id it is known by) to FILE; import puts it into a data dir, where
the next start runs as that node. The node's state, peers and settings stay
behind: a node that starts with an imported identity continues as that node.

Options:
  --data-dir DIR         the node's data dir (default ~/.config/lvs-node)
  --force                export: overwrite FILE; import: replace a different identity in DIR
                         (its file is kept beside it as lvs-node.json.replaced-TIME)
  --passphrase-file F    export: seal FILE with the passphrase in F (its first line, at least
                         ${MIN_BACKUP_PASSPHRASE_LENGTH} characters; F must be mode 0600); import: open a sealed FILE.
                         Also env ${PASSPHRASE_ENV}
  -h, --help             show this help

FILE is written with mode 0600. Without a passphrase it holds the private
key in clear: anyone who reads it can act as this node. Import refuses a
data dir a running node holds, and refuses to overwrite a different identity
unless --force. Errors are one line and exit code 2; nothing on disk changes then.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  force: { type: 'boolean' },
  'passphrase-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The passphrase: the file's first line, else the environment variable, else none. */
function readPassphrase(file: string | undefined, env: NodeJS.ProcessEnv): string | null {
  let passphrase: string | undefined;
  if (file !== undefined) {
    let mode: number;
    try {
      mode = statSync(file).mode;
      passphrase = readFileSync(file, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`--passphrase-file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
    }
    // Like an ssh key: a passphrase other users can read protects nothing.
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UsageError(`--passphrase-file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`);
    }
  } else if (env[PASSPHRASE_ENV] !== undefined) {
    passphrase = env[PASSPHRASE_ENV];
  }
  if (passphrase === undefined) return null;
  if (passphrase.length < MIN_BACKUP_PASSPHRASE_LENGTH) {
    throw new UsageError(`the passphrase must be at least ${MIN_BACKUP_PASSPHRASE_LENGTH} characters (${file !== undefined ? `--passphrase-file ${file}` : PASSPHRASE_ENV})`);
  }
  return passphrase;
}

/** `argv`: what follows the word `identity`. */
export function parseIdentityCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): IdentityCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  const [action, file, ...extra] = parsed.positionals;
  if (action !== 'export' && action !== 'import') {
    throw new UsageError(action === undefined ? 'identity needs export or import' : `identity: unknown action "${action}" (export or import)`);
  }
  if (file === undefined || file === '') throw new UsageError(`identity ${action} needs a FILE`);
  if (extra.length > 0) throw new UsageError(`identity ${action} takes one FILE, got also "${extra[0]}"`);
  return {
    kind: action,
    options: { file, dataDir: v['data-dir'] ?? defaultDataDir(env), force: v.force ?? false, passphrase: readPassphrase(v['passphrase-file'], env) },
  };
}
