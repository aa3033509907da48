import { existsSync } from 'node:fs';
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

describe('--udp-ports', () => {
  it('saves a UDP port range as the udpPorts setting, and "" clears it', () => {
    expect(parseCli(['--udp-ports', '50000-50100'])).toMatchObject({ kind: 'run', options: { settings: { udpPorts: '50000-50100' } } });
    expect(parseCli(['--udp-ports=50000-50000'])).toMatchObject({ kind: 'run', options: { settings: { udpPorts: '50000-50000' } } });
    expect(parseCli(['--udp-ports', ''])).toMatchObject({ kind: 'run', options: { settings: { udpPorts: '' } } });
    expect(parseCli([])).toMatchObject({ kind: 'run', options: { settings: {} } });
  });

  it.each(['50100-50000', '80-90', '60000-70000', '50000', '50000:50100', 'a-b', '1e4-2e4'])('rejects %j in one line', (range) => {
    expect(() => parseCli(['--udp-ports', range])).toThrow(UsageError);
    expect(() => parseCli(['--udp-ports', range])).toThrow(
      `--udp-ports needs "A-B" with 1024 <= A <= B <= 65535 (e.g. 50000-50100), or "" for any port, got "${range}"`,
    );
  });

  it('is listed in --help, and a bad range exits 2 with one line before touching the data dir', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/--udp-ports A-B/);
    const dir = tempDir('lvs-cli-');
    try {
      const { code, stderr, stdout } = await runCli(['--udp-ports', '9000-8000', '--data-dir', `${dir.path}/node`]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/--udp-ports needs "A-B"/)]);
      expect(existsSync(`${dir.path}/node`)).toBe(false);
    } finally {
      dir.remove();
    }
  });
});
