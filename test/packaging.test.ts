/**
 * packaging/lvs-node.service, the systemd user unit: it parses as an INI
 * file with the keys docs/running-as-a-service.md relies on, keeps to
 * options a user manager can apply, and, where systemd-analyze exists, a
 * copy with the placeholders filled in passes `systemd-analyze --user verify`
 * without a single warning.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
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
