#!/usr/bin/env node
// Keeps one CPU core busy until its stdin closes, that is until the process that started it
// exits, however it exits (scripts/test-under-load.mjs starts it with a pipe on stdin).
//   node scripts/cpu-hog.mjs stress-ng   # stress-ng --cpu 1
//   node scripts/cpu-hog.mjs node        # a busy loop in a worker thread
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';

const kind = process.argv[2];
let stressNg = null;
if (kind === 'stress-ng') {
  stressNg = spawn('stress-ng', ['--cpu', '1', '--quiet'], { stdio: 'ignore', detached: true });
  stressNg.on('error', (err) => {
    process.stderr.write(`cpu-hog: stress-ng did not start: ${err.message}\n`);
    process.exit(2);
  });
  stressNg.on('exit', () => process.exit(0));
} else if (kind === 'node') {
  new Worker('for (;;) {}', { eval: true });
} else {
  process.stderr.write('cpu-hog: say stress-ng or node\n');
  process.exit(2);
}

function stop() {
  if (stressNg && stressNg.exitCode === null) {
    try {
      process.kill(-stressNg.pid, 'SIGTERM'); // stress-ng and its stressor workers
    } catch {
      // already gone
    }
  }
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
