#!/usr/bin/env node
// npm run test:load [-- --runs N] [-- --hog stress-ng|node] [-- -- <vitest arguments>]
//
// Runs the test suite N times in a row (default 5) while a CPU hog keeps one core busy, and says
// how many runs failed: the suite must stay green on a small, busy machine. The hog is
// `stress-ng --cpu 1` where it is installed, otherwise a Node.js busy loop; it is stopped at the
// end, also when a run fails or on Ctrl-C. Arguments after a second `--` go to vitest, e.g.
// `npm run test:load -- --runs 3 -- test/integration.test.ts`. Build first (the npm script does).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');

function usageError(message) {
  process.stderr.write(`test:load: ${message} (usage: npm run test:load -- [--runs N] [--hog stress-ng|node] [-- vitest arguments])\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '5' }, hog: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
} catch (err) {
  usageError(err.message.replace(/\s*\n\s*/g, ' '));
}
if (parsed.values.help) {
  process.stdout.write('usage: npm run test:load -- [--runs N] [--hog stress-ng|node] [-- vitest arguments]\n');
  process.exit(0);
}
const runs = Number(parsed.values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) usageError(`--runs must be a whole number from 1 to 100, got "${parsed.values.runs}"`);
const hasStressNg = spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
const hogKind = parsed.values.hog ?? (hasStressNg ? 'stress-ng' : 'node');
if (!['stress-ng', 'node'].includes(hogKind)) usageError(`--hog must be stress-ng or node, got "${hogKind}"`);
if (hogKind === 'stress-ng' && !hasStressNg) usageError('stress-ng is not installed (apt-get install stress-ng, or --hog node)');
if (!existsSync(VITEST)) usageError(`${VITEST} is missing: run npm install first`);
const vitestArgs = parsed.positionals;

// ------------------------------------------------------------------ the hog and the children
let hog = null;
let current = null;

/** One core busy (scripts/cpu-hog.mjs): it stops when we stop it or when our end of its stdin closes. */
function startHog() {
  hog = spawn(process.execPath, [join(ROOT, 'scripts/cpu-hog.mjs'), hogKind], { stdio: ['pipe', 'ignore', 'inherit'] });
  hog.on('error', (err) => {
    process.stderr.write(`test:load: the CPU hog did not start: ${err.message}\n`);
    process.exit(2);
  });
}

function stopAll() {
  for (const child of [current, hog]) {
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  hog?.stdin?.destroy();
}

process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

function runSuite() {
  return new Promise((resolve) => {
    current = spawn(process.execPath, [VITEST, 'run', ...vitestArgs], { cwd: ROOT, stdio: 'inherit' });
    current.on('exit', (code, signal) => resolve(code ?? signal));
  });
}

// ------------------------------------------------------------------ the runs
startHog();
console.log(`test:load: ${runs} run(s) of vitest run ${vitestArgs.join(' ')} with one core busy (${hogKind === 'stress-ng' ? 'stress-ng --cpu 1' : 'a Node.js busy loop'}, pid ${hog.pid})`);
const outcomes = [];
for (let i = 1; i <= runs; i++) {
  const started = Date.now();
  const result = await runSuite();
  const seconds = (Date.now() - started) / 1000;
  outcomes.push({ run: i, ok: result === 0, result, seconds });
  console.log(`test:load: run ${i} of ${runs}: ${result === 0 ? 'passed' : `FAILED (${result})`} in ${seconds.toFixed(0)} s`);
}
stopAll();
const failed = outcomes.filter((o) => !o.ok);
console.log(`test:load: ${runs - failed.length} of ${runs} run(s) passed${failed.length ? `; failed: run ${failed.map((o) => o.run).join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
