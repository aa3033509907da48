import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { joinNegativeValues, parseCli, UsageError } from '../main/headless/cli-args.js';
import { defaultNodeName } from '../main/headless/default-name.js';
import { MAX_NAME_LENGTH } from '../main/model/limits.js';
import { killAll, requireBuild, runCli, startNode, tempDir } from './helpers/node-process.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-cli-');
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

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
    [['--alpha', '-0.1'], /alpha must be a number from 0/],
    [['--port', '-1'], /port/],
    [['--drift', '-2'], /--drift needs two numbers/],
    [['--name', '--port', '7711'], /--name/],
  ])('rejects %j clearly', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('negative numbers as option values', () => {
  it.each([
    [['--drift', '-2,-3'], [-2, -3]],
    [['--drift=-2,-3'], [-2, -3]],
    [['--drift', '-2.5,3'], [-2.5, 3]],
    [['--drift', '-.5,-1e1'], [-0.5, -10]],
    [['--drift', '4,-3'], [4, -3]],
  ])('%j', (argv, drift) => {
    expect(parseCli(argv)).toMatchObject({ kind: 'run', options: { drift } });
  });

  it('takes a negative number after any option with a value, and nothing else', () => {
    expect(parseCli(['--seed', '-7'])).toMatchObject({ options: { seed: -7 } });
    expect(joinNegativeValues(['--drift', '-2,-3', '--name', '-x', '--log-cycles', '-5', '-h'])).toEqual(['--drift=-2,-3', '--name', '-x', '--log-cycles', '-5', '-h']);
  });
});

describe('default node name', () => {
  it('is the host name and the first characters of the id', () => {
    expect(defaultNodeName('myhost', 'ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ')).toBe('myhost-ABCD');
    expect(defaultNodeName('', 'ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ')).toBe('lvs-node-ABCD');
    const long = defaultNodeName('h'.repeat(300), 'ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ');
    expect(long).toHaveLength(MAX_NAME_LENGTH);
    expect(long.endsWith('-ABCD')).toBe(true);
  });

  it('tells two nodes on one host apart; --name still wins', async () => {
    try {
      const [a, b, named] = await Promise.all([
        startNode(['--port', '0', '--data-dir', dataDir()]),
        startNode(['--port', '0', '--data-dir', dataDir()]),
        startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'chosen']),
      ]);
      const [sa, sb, sn] = await Promise.all([a.status(), b.status(), named.status()]);
      expect(sa.name).toBe(`${hostname()}-${a.id.slice(0, 4)}`);
      expect(sb.name).toBe(`${hostname()}-${b.id.slice(0, 4)}`);
      expect(sa.name).not.toBe(sb.name);
      expect(sn.name).toBe('chosen');
    } finally {
      killAll();
    }
  }, 60_000);
});

describe('npm run cluster -- --help', () => {
  it('explains every option of the cluster harness', () => {
    requireBuild();
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bench/cluster-run.mjs'), '--help'], { encoding: 'utf8', timeout: 50_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: npm run cluster -- \[options\]\n\n/);
    // Every option the harness parses is listed and described on its line.
    const source = fs.readFileSync(path.join(ROOT, 'bench/cluster-run.mjs'), 'utf8');
    const parsed = [...source.matchAll(/^\s+'?([a-z-]+)'?: \{ type: '(string|boolean)'/gm)].map((m) => m[1]!);
    expect(parsed.length).toBeGreaterThan(10);
    for (const option of parsed) expect(run.stdout).toMatch(new RegExp(`^  (-\\w, )?--${option}\\b.* \\w+`, 'm'));
    for (const topology of ['full', 'ring', 'regular', 'maxpeers']) expect(run.stdout).toContain(topology);
  }, 60_000);
});

describe('the lvs-node command (package.json bin)', () => {
  it('runs the node and ends with exit code 0 on Ctrl-C (SIGINT)', async () => {
    requireBuild();
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = path.join(ROOT, pkg.bin['lvs-node']!);
    if (process.platform !== 'win32') expect(fs.statSync(bin).mode & 0o111, 'the bin script is executable').not.toBe(0);
    // Started as the shell would start it: by its #! line, not through node or npm.
    const child = spawn(bin, ['--host', '127.0.0.1', '--no-discovery', '--port', '0', '--data-dir', dataDir(), '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      await new Promise<void>((resolve, reject) => {
        void exited.then((code) => reject(new Error(`lvs-node exited (${code}) before listening: ${stderr}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{') && (JSON.parse(line) as { kind: string }).kind === 'listening') resolve();
        });
      });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('lvs-node binary', () => {
  it('--help lists every flag', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--data-dir', '--peer', '--name', '--drift', '--cycle-ms', '--alpha', '--beta', '--gamma', '--max-peers', '--ice-server', '--seed']) {
      expect(stdout).toContain(flag);
    }
  }, 30_000);

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
  }, 30_000);
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
