#!/usr/bin/env node
/**
 * `npm run demo`: the seed's demonstration with two real nodes. Two
 * separate processes on loopback, linked by a real node-datachannel
 * connection, start at [5, 1] and [-2, -3] and drift together; the terminal
 * shows every cycle and a verdict.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { distance, type Vec2 } from '../model/drift.js';
import { fmt } from './log-lines.js';

const CYCLES = 40;
const CYCLE_MS = 100;
const TARGET = 0.5;
const WITHIN = 20;
const START_A: Vec2 = [5, 1];
const START_B: Vec2 = [-2, -3];
const beta = 0.1;
const predicted = Math.ceil(Math.log(TARGET / distance(START_A, START_B)) / Math.log(1 - 2 * beta));

const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lvs-demo-'));
const children: ChildProcess[] = [];
const drifts: [Map<number, Vec2>, Map<number, Vec2>] = [new Map(), new Map()];
/** Each node's recent log lines (not cycles), shown when the demo fails. */
const recent: [string[], string[]] = [[], []];

function startNode(label: string, index: 0 | 1, drift: Vec2, peer: string | null): Promise<number> {
  // --no-discovery: the demo's two nodes find each other by --peer; nothing multicasts on this machine's LAN.
  const args = [cli, '--host', '127.0.0.1', '--no-discovery', '--port', '0', '--data-dir', join(dir, label), '--name', `demo-${label}`,
    `--drift=${drift[0]},${drift[1]}`, '--cycle-ms', String(CYCLE_MS), '--await-peers', '1', '--log-format', 'json', '--log-cycles'];
  if (peer) args.push('--peer', peer);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${label} exited with code ${code}: ${stderr.trim()}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let record: { kind?: string; port?: number; cycle?: number; drift?: Vec2 };
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      if (record.kind === 'listening' && record.port) resolve(record.port);
      if (record.kind !== 'cycle') {
        recent[index].push(line);
        if (recent[index].length > 20) recent[index].shift();
      }
      if (record.kind === 'cycle' && record.cycle !== undefined && record.drift) {
        drifts[index].set(record.cycle, record.drift);
        report();
      }
    });
  });
}

let printed = 0;
let firstBelow: number | null = null;
let aboveAfter = 0;
let finish: () => void = () => {};
const finished = new Promise<void>((resolve) => (finish = resolve));

function report(): void {
  while (drifts[0].has(printed + 1) && drifts[1].has(printed + 1)) {
    printed++;
    const a = drifts[0].get(printed)!;
    const b = drifts[1].get(printed)!;
    const d = distance(a, b);
    if (d < TARGET && firstBelow === null) firstBelow = printed;
    else if (d >= TARGET && firstBelow !== null) aboveAfter++;
    console.log(`${String(printed).padStart(5)}  ${fmt(a).padEnd(20)} ${fmt(b).padEnd(20)} ${d.toFixed(3).padStart(7)}${d < TARGET ? '  <' : ''}`);
    if (printed >= CYCLES) finish();
  }
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.removeAllListeners('exit');
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })),
  );
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<number> {
  console.log(`Two LVS nodes, two processes, one WebRTC DataChannel on loopback; cycle ${CYCLE_MS} ms, alpha 0.05, beta ${beta}, gamma 0.001.`);
  console.log(`A starts at ${fmt(START_A)}, B at ${fmt(START_B)} (distance ${distance(START_A, START_B).toFixed(3)}).\n`);
  const portA = await startNode('a', 0, START_A, null);
  await startNode('b', 1, START_B, `127.0.0.1:${portA}`).then(() => undefined);
  console.log('cycle  A drift              B drift              distance');
  const timeout = setTimeout(() => finish(), 30_000 + CYCLES * CYCLE_MS);
  await finished;
  clearTimeout(timeout);
  await stopAll();
  console.log('');
  if (printed < CYCLES) {
    console.log(`FAIL: only ${printed} cycles were seen from both nodes (were they able to link?). Their last log lines:`);
    recent.forEach((lines, i) => console.log(`-- node ${i === 0 ? 'a' : 'b'}\n${lines.join('\n')}`));
    return 1;
  }
  const reached = firstBelow !== null && firstBelow <= WITHIN;
  console.log(firstBelow === null
    ? `The distance never fell below ${TARGET}.`
    : `The distance first fell below ${TARGET} at cycle ${firstBelow} (the model predicts ${predicted}) and rose above it again in ${aboveAfter} of the ${CYCLES - firstBelow} cycles after.`);
  const ok = reached && aboveAfter === 0;
  console.log(ok
    ? `PASS: the two nodes converged within ${WITHIN} cycles and stayed together (the remaining ~0.1 is the entropy noise floor).`
    : `FAIL: expected the distance below ${TARGET} within ${WITHIN} cycles and to stay there.`);
  return ok ? 0 : 1;
}

process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
main().then(
  (code) => process.exit(code),
  async (err: Error) => {
    console.error(`demo: ${err.message}`);
    await stopAll();
    process.exit(1);
  },
);
