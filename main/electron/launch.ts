#!/usr/bin/env node
/**
 * `npm start` (after `npm run build`): a plain Node script that finds the
 * Electron binary and runs the app with it, forwarding arguments, signals
 * and the exit code.
 *
 * It does not `require('electron')`: since Electron 45 that module tries to
 * download the binary when it is missing, and where only the package
 * registries are reachable that download cannot succeed. It reads the same
 * path.txt instead, and if there is no binary it says so in one line,
 * points at the headless node with its dashboard, and exits 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MISSING_BINARY_MESSAGE =
  "Electron's binary is not installed here (its download needs network access); run the headless node with the dashboard instead: npm run node -- --port 7710, then open http://127.0.0.1:7710/";

/** Relative path of the executable inside electron/dist, as electron's install.js names it. */
function platformExecutable(platform: NodeJS.Platform): string | null {
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') return 'electron';
  return null;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Electron executable the `electron` package would run, or null if it is not on disk. */
export function findElectronBinary(from: string = import.meta.url, env: NodeJS.ProcessEnv = process.env): string | null {
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(from).resolve('electron/package.json'));
  } catch {
    return null;
  }
  let relative: string | null = null;
  try {
    relative = fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim() || null;
  } catch {
    relative = null;
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const name = relative ?? platformExecutable(process.platform);
    return name && isFile(path.join(override, name)) ? path.join(override, name) : null;
  }
  if (!relative) return null;
  const binary = path.join(packageDir, 'dist', relative);
  return isFile(binary) ? binary : null;
}

function main(): void {
  const appDir = fileURLToPath(new URL('../../../', import.meta.url));
  const binary = findElectronBinary();
  if (!binary) {
    process.stderr.write(`${MISSING_BINARY_MESSAGE}\n`);
    process.exit(1);
  }
  const env = { ...process.env };
  // Set in the environment, it would make the binary a plain Node (the packaged app has the fuse off anyway).
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(binary, [appDir, ...process.argv.slice(2)], { stdio: 'inherit', env, windowsHide: false });
  let exited = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!exited) child.kill(signal);
    });
  }
  child.on('error', (error) => {
    process.stderr.write(`lvs-node: cannot start ${binary}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    exited = true;
    process.exit(code ?? (signal ? 1 : 0));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
