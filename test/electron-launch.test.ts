/**
 * The `npm start` launcher (dist/main/electron/launch.js), run for real as
 * a child process. This machine has no Electron binary, so the launcher must
 * say so in one line and exit 1, without trying to download it; with a
 * stand-in binary (ELECTRON_OVERRIDE_DIST_PATH, which the electron package
 * itself honours) it must run it with the app dir and pass arguments and
 * the exit code through.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MISSING_BINARY_MESSAGE, findElectronBinary } from '../main/electron/launch.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const LAUNCHER = path.join(ROOT, 'dist/main/electron/launch.js');
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-launch-'));

afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function launch(args: string[], extraEnv: Record<string, string> = {}) {
  if (!fs.existsSync(LAUNCHER)) throw new Error(`${LAUNCHER} is missing: run \`npx tsc -b\` (npm test does it first)`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  if (!extraEnv.ELECTRON_OVERRIDE_DIST_PATH) delete env.ELECTRON_OVERRIDE_DIST_PATH;
  const started = Date.now();
  const result = spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { ...result, ms: Date.now() - started };
}

describe('npm start launcher', () => {
  const installed = findElectronBinary(path.join(ROOT, 'package.json'), { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '' });

  it.skipIf(installed !== null)('without the Electron binary: one line pointing at the headless dashboard, exit 1, no download attempt', () => {
    const pathFile = path.join(ROOT, 'node_modules/electron/path.txt');
    const hadPathFile = fs.existsSync(pathFile);
    const result = launch(['--hidden']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`${MISSING_BINARY_MESSAGE}\n`);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('npm run node -- --port 7710');
    expect(result.stderr).toContain('http://127.0.0.1:7710/');
    // require('electron') would have started a download (and printed "Downloading Electron binary...").
    expect(result.stderr).not.toContain('Downloading');
    expect(fs.existsSync(pathFile)).toBe(hadPathFile);
    expect(result.ms).toBeLessThan(10_000);
  });

  it.skipIf(process.platform === 'win32')('with a binary: runs it on the app dir, forwards arguments and the exit code', () => {
    const dist = path.join(temp, 'dist');
    fs.mkdirSync(dist);
    const fakeElectron = path.join(dist, 'electron');
    fs.writeFileSync(
      fakeElectron,
      `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ args: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }));\nprocess.exit(7);\n`,
      { mode: 0o755 },
    );
    const result = launch(['--hidden', 'two words'], { ELECTRON_OVERRIDE_DIST_PATH: dist, ELECTRON_RUN_AS_NODE: '1' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(7);
    const seen = JSON.parse(result.stdout) as { args: string[]; runAsNode: string | null };
    expect(seen.args).toEqual([ROOT + path.sep, '--hidden', 'two words']);
    expect(seen.runAsNode).toBeNull();
  });

  it('finds nothing in a directory without the binary', () => {
    expect(findElectronBinary(path.join(ROOT, 'package.json'), { ELECTRON_OVERRIDE_DIST_PATH: path.join(temp, 'empty') })).toBeNull();
  });
});
