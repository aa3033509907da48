#!/usr/bin/env node
// The `lvs-node` command (`npx lvs-node ...`, or on the PATH after `npm link`
// or `npm install -g .` in a clone): runs the headless node, dist/main/headless/cli.js.
//
// A clone has sources but no dist/ until something builds it. Building here,
// on the first run and again whenever a source file is newer than the last
// build, works right after `npm install` and keeps working after a `git pull`,
// without a `prepare` script that would slow every install and could not
// notice a pull. Build output goes to stderr, so stdout stays the node's log.
// An install without sources (a packed copy) runs the dist/ it came with.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/main/headless/cli.js');
const SOURCE_DIRS = ['main', 'renderer', 'preload'];
const SOURCE_FILES = ['tsconfig.base.json', 'tsconfig.pure.json', 'tsconfig.node.json', 'tsconfig.renderer.json', 'tsconfig.electron.json', 'scripts/build-bundles.mjs', 'scripts/build-wasm.mjs'];
// What every full build (`npm run build`: tsc -b, then the bundles) rewrites when something changed.
const BUILD_MARKS = ['dist/tsbuildinfo/pure.tsbuildinfo', 'dist/tsbuildinfo/node.tsbuildinfo', 'dist/tsbuildinfo/renderer.tsbuildinfo', 'dist/tsbuildinfo/electron.tsbuildinfo', 'dist/renderer/app.js', 'dist/preload/preload.cjs'];

function fail(message) {
  process.stderr.write(`lvs-node: ${message}\n`);
  process.exit(2);
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}

function newestSource() {
  let newest = -Infinity;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, mtime(path));
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const file of SOURCE_FILES) newest = Math.max(newest, mtime(join(root, file)));
  return newest;
}

const hasSources = existsSync(join(root, 'main/headless/cli.ts'));
const built = existsSync(cli);
const stale = built && hasSources && newestSource() > Math.max(...BUILD_MARKS.map((file) => mtime(join(root, file))));

if (!built || stale) {
  if (!hasSources) fail(`${cli} is missing and there are no sources to build it from; reinstall lvs-node`);
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    fail(`the node is not built and TypeScript is missing: run \`npm install\` in ${root}`);
  }
  process.stderr.write(`lvs-node: ${built ? 'sources changed since the last build' : 'first run'}: building (npm run build)...\n`);
  // stdout of the build goes to stderr: stdout is the node's log.
  const steps = [[tsc, '-b'], [join(root, 'scripts/build-bundles.mjs')]];
  for (const args of steps) {
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
    if (result.status !== 0) fail(`the build failed (see above); fix it, or run \`npm run build\` in ${root}`);
  }
}

await import(pathToFileURL(cli).href);
