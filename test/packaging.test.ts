/**
 * Packaging. packaging/lvs-node.service, the systemd user unit: it parses as an INI
 * file with the keys docs/running-as-a-service.md relies on, keeps to
 * options a user manager can apply, and, where systemd-analyze exists, a
 * copy with the placeholders filled in passes `systemd-analyze --user verify`
 * without a single warning.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findElectronBinary } from '../main/electron/launch.js';
import { builderFailedLine, electronBinaryProblem } from '../scripts/dist.mjs';
import { CLI } from './helpers/node-process.js';

const ROOT = resolve(import.meta.dirname, '..');
const UNIT = join(ROOT, 'packaging/lvs-node.service');

type Ini = Map<string, Map<string, string[]>>;

/** systemd's unit syntax, as far as this file needs: sections, `Key=value` (repeatable), `#`/`;` comments, `\` continuations. */
function parseUnit(text: string): Ini {
  const sections: Ini = new Map();
  let current: Map<string, string[]> | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      if (sections.has(section[1]!)) throw new Error(`section [${section[1]}] twice`);
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`line ${i + 1} is not Key=value inside a section: ${line}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!.trim()]);
  }
  return sections;
}

function value(ini: Ini, section: string, key: string): string | undefined {
  return ini.get(section)?.get(key)?.at(-1);
}

/** The unit with its placeholders filled in the way the unit's comment and the docs say. */
function filled(text: string): string {
  return text.replaceAll('/path/to/node', process.execPath).replaceAll('/path/to/lvs-node', ROOT);
}

const text = readFileSync(UNIT, 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const hasAnalyze = analyze.status === 0;

function verify(unitText: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-unit-'));
  try {
    const runtime = join(dir, 'runtime');
    spawnSync('mkdir', ['-m', '700', runtime]);
    writeFileSync(join(dir, 'lvs-node.service'), unitText);
    // A user manager needs a runtime directory; a private one keeps this away from any real session.
    const run = spawnSync('systemd-analyze', ['--user', 'verify', join(dir, 'lvs-node.service')], {
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
      timeout: 30_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('packaging/lvs-node.service', () => {
  const ini = parseUnit(text);

  it('parses as a unit file with [Unit], [Service] and [Install]', () => {
    expect([...ini.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(value(ini, 'Unit', 'Description')).toMatch(/LVS Node/);
  });

  it('has the keys the service docs rely on', () => {
    expect(value(ini, 'Service', 'Type')).toBe('simple');
    expect(value(ini, 'Service', 'ExecStart')).toBe('/path/to/node /path/to/lvs-node/dist/main/headless/cli.js --log-format text');
    expect(value(ini, 'Service', 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(value(ini, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(value(ini, 'Service', 'TimeoutStopSec')).toBe('5');
    expect(value(ini, 'Service', 'Restart')).toBe('on-failure');
    expect(value(ini, 'Service', 'RestartPreventExitStatus')).toBe('2');
    expect(value(ini, 'Service', 'StandardOutput')).toBe('journal');
    expect(value(ini, 'Service', 'StandardError')).toBe('journal');
    expect(value(ini, 'Service', 'NoNewPrivileges')).toBe('yes');
    expect(value(ini, 'Service', 'UMask')).toBe('0077');
    expect(value(ini, 'Install', 'WantedBy')).toBe('default.target');
  });

  it('keeps to what a user manager can apply, and what Node.js can run under', () => {
    const service = ini.get('Service')!;
    // No user switching or capabilities (a user manager cannot), no mount namespaces (need user namespaces),
    // no MemoryDenyWriteExecute (V8's JIT writes executable memory).
    for (const key of ['User', 'Group', 'DynamicUser', 'CapabilityBoundingSet', 'AmbientCapabilities', 'PrivateTmp', 'ProtectSystem', 'ProtectHome', 'PrivateNetwork', 'MemoryDenyWriteExecute']) {
      expect(service.has(key), key).toBe(false);
    }
    // A user manager has no multi-user.target, network-online.target or system units to order after.
    expect(ini.get('Unit')!.has('After')).toBe(false);
    expect(ini.get('Unit')!.has('Wants')).toBe(false);
  });

  it('filled in as documented, it starts the built CLI', () => {
    const exec = value(parseUnit(filled(text)), 'Service', 'ExecStart')!.split(' ');
    expect(exec[0]).toBe(process.execPath);
    expect(exec[1]).toBe(CLI);
    expect(existsSync(exec[1]!), `${exec[1]} (run \`npx tsc -b\`)`).toBe(true);
    // The sed line in the unit's own comment does the same.
    expect(text).toContain('sed -e "s|/path/to/node|$(command -v node)|" -e "s|/path/to/lvs-node|$HOME/lvs-node|"');
  });

  it.skipIf(!hasAnalyze)('passes systemd-analyze --user verify without a warning once filled in', () => {
    const result = verify(filled(text));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
    // The check can fail: a key systemd does not know, or a placeholder left in, is reported.
    expect(verify(filled(text).replace('Restart=on-failure', 'Restart=on-failure\nRestartt=always')).output).toMatch(/Unknown key 'Restartt'/);
    expect(verify(text).output).toMatch(/is not executable/);
  });

  if (!hasAnalyze) it('systemd-analyze is not installed: the unit was checked as an INI file only', () => {});
});

/**
 * `npm run dist` (scripts/dist.mjs): electron-builder needs Electron's
 * release zip from GitHub. Without Electron's binary (the same download) it
 * must fail in one line, not after electron-builder's stack trace. Checked
 * on temporary project folders with a stand-in electron and electron-builder,
 * never with a real download.
 */
describe('npm run dist', () => {
  const DIST_SCRIPT = join(ROOT, 'scripts/dist.mjs');
  const folders: string[] = [];
  afterEach(() => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A project folder holding a copy of scripts/dist.mjs and as much of electron as `electron` asks for. */
  function project(electron: 'none' | 'package' | 'path-file' | 'binary'): string {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-dist-'));
    folders.push(dir);
    writeFileSync(join(dir, 'package.json'), '{"name":"dist-check","type":"module"}');
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(DIST_SCRIPT, join(dir, 'scripts/dist.mjs'));
    const builder = join(dir, 'node_modules/electron-builder');
    mkdirSync(builder, { recursive: true });
    writeFileSync(join(builder, 'package.json'), '{"name":"electron-builder","version":"0.0.0"}');
    // Stands in for electron-builder: prints its arguments, exits with FAKE_BUILDER_EXIT.
    writeFileSync(join(builder, 'cli.js'), 'console.log(JSON.stringify(process.argv.slice(2))); process.exit(Number(process.env.FAKE_BUILDER_EXIT ?? 0));');
    if (electron === 'none') return dir;
    const pkg = join(dir, 'node_modules/electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"electron","version":"45.4.1"}');
    if (electron === 'package') return dir;
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    if (electron === 'path-file') return dir;
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist/electron'), '');
    return dir;
  }

  function run(dir: string, args: string[], env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [join(dir, 'scripts/dist.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('names what is missing, in one line', () => {
    expect(electronBinaryProblem(project('none'))).toBe('npm run dist needs the electron package, which is not installed: run `npm install` first');
    for (const stage of ['package', 'path-file'] as const) {
      const problem = electronBinaryProblem(project(stage));
      expect(problem).toMatch(/^npm run dist needs Electron 45\.4\.1's binary, which electron's install step downloads from GitHub; node_modules\/electron\/dist(\/electron)? is missing: /);
      expect(problem).toContain('node node_modules/electron/install.js');
      expect(problem!.split('\n')).toHaveLength(1);
    }
    expect(electronBinaryProblem(project('binary'))).toBeNull();
  });

  it('agrees with `npm start` on whether this checkout has the binary', () => {
    expect(electronBinaryProblem(ROOT) === null).toBe(findElectronBinary(pathToFileURL(join(ROOT, 'package.json')).href, {}) !== null);
  });

  it('without the binary exits 1 with that one line and never starts electron-builder', () => {
    for (const args of [['--check'], ['--linux', 'dir']]) {
      const { status, stdout, stderr } = run(project('path-file'), args);
      expect(status).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^npm run dist needs Electron 45\.4\.1's binary/)]);
    }
  });

  it('with the binary runs electron-builder with the arguments given, and a failing one ends with one line', () => {
    const dir = project('binary');
    expect(run(dir, ['--check'])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(run(dir, ['--linux', 'dir'])).toEqual({ status: 0, stdout: '["--linux","dir"]\n', stderr: '' });
    const failed = run(dir, [], { FAKE_BUILDER_EXIT: '3' });
    expect(failed.status).toBe(3);
    expect(failed.stderr.trimEnd().split('\n')).toEqual([builderFailedLine(3)]);
  });

  it('is what package.json runs, before the build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['dist']).toBe('node scripts/dist.mjs --check && npm run -s build && node scripts/dist.mjs');
  });
});
