#!/usr/bin/env node
// Bundles what tsc alone cannot ship: the dashboard page (one ES module for
// the browser and Electron's renderer), the sandboxed preload script
// (Electron's sandbox lets a preload require nothing but 'electron', so its
// imports are inlined into one CommonJS file), and the simulator's
// WebAssembly kernel (scripts/build-wasm.mjs). tsc -b type-checks the first two first.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildWasm } from './build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');

const jobs = [];
/** One ES module for the browser (the dashboard, the /join page, its clock worker). */
const browserBundle = (entry, outfile) =>
  build({
    entryPoints: [join(root, entry)],
    outfile: join(out, outfile),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    // Phones on the LAN load these (the /join page, a --ui-public dashboard): small, with source maps for debugging.
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
if (existsSync(join(root, 'renderer/app.ts'))) {
  mkdirSync(join(out, 'renderer'), { recursive: true });
  for (const file of ['index.html', 'style.css']) {
    if (existsSync(join(root, 'renderer', file))) cpSync(join(root, 'renderer', file), join(out, 'renderer', file));
  }
  jobs.push(browserBundle('renderer/app.ts', 'renderer/app.js'));
}
// The /join page (docs/browser-nodes.md): the dashboard's own page, running
// this tab's node instead of talking to one (web/join/join.ts), and the
// worker that keeps its cycle clock (web/node/clock-worker.ts).
if (existsSync(join(root, 'web/join/join.ts'))) {
  mkdirSync(join(out, 'renderer'), { recursive: true });
  const page = readFileSync(join(root, 'renderer/index.html'), 'utf8');
  const joinPage = page.replace('src="./app.js"', 'src="./join.js"').replace('<title>LVS Node</title>', '<title>LVS Node (this tab)</title>');
  if (joinPage === page) throw new Error('build-bundles: renderer/index.html no longer loads ./app.js; update the /join page build');
  writeFileSync(join(out, 'renderer/join.html'), joinPage);
  for (const [entry, outfile] of [
    ['web/join/join.ts', 'renderer/join.js'],
    ['web/node/clock-worker.ts', 'renderer/join-clock.js'],
  ]) {
    jobs.push(browserBundle(entry, outfile));
  }
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
// The simulator's WebAssembly kernel (main/sim/kernel.wat -> dist/main/sim/kernel-wasm.js).
if (existsSync(join(root, 'main/sim/kernel.wat'))) jobs.push(buildWasm(root));
await Promise.all(jobs);
