#!/usr/bin/env node
// Bundles what tsc alone cannot ship: the dashboard page (one ES module for
// the browser and Electron's renderer) and the sandboxed preload script
// (Electron's sandbox lets a preload require nothing but 'electron', so its
// imports are inlined into one CommonJS file). tsc -b type-checks both first.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');

const jobs = [];
if (existsSync(join(root, 'renderer/app.ts'))) {
  mkdirSync(join(out, 'renderer'), { recursive: true });
  for (const file of ['index.html', 'style.css']) {
    if (existsSync(join(root, 'renderer', file))) cpSync(join(root, 'renderer', file), join(out, 'renderer', file));
  }
  jobs.push(build({
    entryPoints: [join(root, 'renderer/app.ts')],
    outfile: join(out, 'renderer/app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    sourcemap: true,
    logLevel: 'warning',
  }));
}
if (existsSync(join(root, 'preload/preload.ts'))) {
  jobs.push(build({
    entryPoints: [join(root, 'preload/preload.ts')],
    outfile: join(out, 'preload/preload.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    external: ['electron'],
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  }));
}
await Promise.all(jobs);
