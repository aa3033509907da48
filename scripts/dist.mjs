#!/usr/bin/env node
// `npm run dist`: packages the desktop app with electron-builder, but first
// checks for the one input npm cannot provide. electron-builder puts
// Electron's release zip into every package; that zip comes from GitHub
// (github.com/electron/electron/releases), as does the binary `npm install`
// unpacks into node_modules/electron/dist, and both share @electron/get's
// download cache. No binary there means that download failed or was skipped,
// and electron-builder would fail the same way after a long stack trace; so
// this says so in one line and exits 1 instead.
//
//   node scripts/dist.mjs --check     # the check only (npm run dist runs it before building)
//   node scripts/dist.mjs [ARGS...]   # the check, then electron-builder ARGS...
//
// Self-contained (Node built-ins only): it resolves electron and
// electron-builder from the directory above its own.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOW_TO_GET_IT = 'where github.com is reachable run `node node_modules/electron/install.js`, then `npm run dist` again (see docs/desktop.md)';

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Why `npm run dist` cannot package in the project at `root`, in one line,
 * or null when Electron's binary is installed there.
 */
export function electronBinaryProblem(root) {
  let packageFile;
  try {
    packageFile = createRequire(path.join(root, 'package.json')).resolve('electron/package.json');
  } catch {
    return 'npm run dist needs the electron package, which is not installed: run `npm install` first';
  }
  let version = '';
  try {
    version = String(JSON.parse(fs.readFileSync(packageFile, 'utf8')).version ?? '');
  } catch {
    // a broken package.json still gets the same advice below
  }
  const packageDir = path.dirname(packageFile);
  let executable = '';
  try {
    executable = fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    // no path.txt: electron's install step did not finish
  }
  if (executable && isFile(path.join(packageDir, 'dist', executable))) return null;
  const what = version ? `Electron ${version}'s binary` : "Electron's binary";
  const distPath = path.join(packageDir, 'dist', executable);
  const relative = path.relative(root, distPath);
  const missing = relative.startsWith('..') ? distPath : relative;
  return `npm run dist needs ${what}, which electron's install step downloads from GitHub; ${missing} is missing: ${HOW_TO_GET_IT}`;
}

/** The one line printed after electron-builder itself failed (its own output comes first). */
export function builderFailedLine(code) {
  return (
    `npm run dist: electron-builder failed (exit ${code}); besides Electron it downloads its packaging tools ` +
    '(fpm for deb, the AppImage runtime, NSIS for Windows) from GitHub on first use: see docs/desktop.md'
  );
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = process.argv.slice(2);
  const problem = electronBinaryProblem(root);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
  if (args[0] === '--check') process.exit(0);

  let cli;
  try {
    cli = createRequire(path.join(root, 'package.json')).resolve('electron-builder/cli.js');
  } catch {
    process.stderr.write('npm run dist needs electron-builder, which is not installed: run `npm install` first\n');
    process.exit(1);
  }
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`npm run dist: cannot start electron-builder: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    const status = code ?? (signal ? 1 : 0);
    if (status !== 0 && !signal) process.stderr.write(`${builderFailedLine(status)}\n`);
    process.exit(status);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
