/** --network-key-file / LVS_NETWORK_KEY: what the CLI accepts, and the one line it gives for what it refuses. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_NETWORK_KEY_LENGTH, parseCli, UsageError } from '../main/headless/cli-args.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function keyFile(text: string, mode = 0o600): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-netkey-'));
  dirs.push(dir);
  const file = join(dir, 'network-key');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

function networkKey(argv: string[], env: NodeJS.ProcessEnv = {}): string | null | undefined {
  const cmd = parseCli(argv, env);
  if (cmd.kind !== 'run') throw new Error('expected a run command');
  return cmd.options.networkKey;
}

describe('the network key', () => {
  it('is off by default, and read from the first line of a private file or from LVS_NETWORK_KEY', () => {
    expect(networkKey([])).toBeNull();
    expect(networkKey(['--network-key-file', keyFile('correct horse battery staple\nsecond line ignored\n')])).toBe('correct horse battery staple');
    expect(networkKey([], { LVS_NETWORK_KEY: 'from the environment' })).toBe('from the environment');
    // The file wins over the environment.
    expect(networkKey(['--network-key-file', keyFile('from the file!\n')], { LVS_NETWORK_KEY: 'from the environment' })).toBe('from the file!');
  });

  it('refuses a short key, a missing file and a file other users can read, each in one line', () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--network-key-file', keyFile('short\n')], {}, new RegExp(`at least ${MIN_NETWORK_KEY_LENGTH} characters`)],
      [[], { LVS_NETWORK_KEY: 'short' }, /LVS_NETWORK_KEY/],
      [['--network-key-file', '/nonexistent/lvs-key'], {}, /no such file/],
      [['--network-key-file', keyFile('a long enough passphrase\n', 0o644)], {}, /can be read by other users \(mode 644\): chmod 600/],
    ];
    for (const [argv, env, message] of cases) {
      let error: unknown;
      try {
        parseCli(argv, env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
