import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../main/headless/cli-args.js';
import { killAll, runCli, tempDir } from './helpers/node-process.js';

afterEach(() => killAll());

describe('parseCli', () => {
  it('accepts every documented flag', () => {
    const cmd = parseCli(['--port', '7711', '--host', '127.0.0.1', '--data-dir', './a', '--peer', '127.0.0.1:7712', '--peer', '[::1]:7713',
      '--name', 'n', '--drift', '5,1', '--cycle-ms', '50', '--alpha', '0.1', '--beta', '0.2', '--gamma', '0', '--max-peers', '3', '--seed', '7',
      '--await-peers', '1', '--log-format', 'json', '--log-cycles', '--ui-public']);
    expect(cmd).toMatchObject({ kind: 'run', options: { dataDir: './a', host: '127.0.0.1', peers: ['127.0.0.1:7712', '[::1]:7713'], drift: [5, 1], seed: 7,
      settings: { port: 7711, cycleMs: 50, alpha: 0.1, beta: 0.2, gamma: 0, maxPeers: 3, name: 'n' } } });
  });

  it.each([
    [['--bogus'], /bogus/],
    [['--port', 'x'], /--port needs a whole number/],
    [['--port', '70000'], /port/],
    [['--cycle-ms', '20'], /cycleMs|cycle/],
    [['--peer', 'nohost'], /--peer "nohost": missing ":port"/],
    [['--peer', '1.2.3.4:0'], /out of range 1-65535/],
    [['--drift', '5'], /--drift needs two numbers/],
    [['--drift', '5,NaN'], /--drift needs two numbers/],
    [['--host', 'not an ip'], /--host/],
    [['--log-format', 'xml'], /--log-format/],
    [['extra'], /positional|extra/i],
  ])('rejects %j clearly', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('lvs-node binary', () => {
  it('--help lists every flag', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--data-dir', '--peer', '--name', '--drift', '--cycle-ms', '--alpha', '--beta', '--gamma', '--max-peers', '--ice-server', '--seed']) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([[['--nope']], [['--peer', 'bad address']], [['--alpha', 'lots']]])('%j exits 2 with one line and no stack', async (argv) => {
    const dir = tempDir('lvs-cli-');
    try {
      const { code, stderr, stdout } = await runCli([...argv, '--data-dir', dir.path]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).not.toMatch(/\bat .*\.js:\d+/);
    } finally {
      dir.remove();
    }
  });
});
