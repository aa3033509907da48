/**
 * The store's promise (docs/store.md, "Writes"): a node killed at any
 * instant restarts from its last write with a valid file. A child process
 * writes the store as fast as it can and is SIGKILLed at a random (seeded)
 * moment, over and over; after every kill the file must parse, validate and
 * hold the same identity.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { checkIdentity } from '../main/identity/identity.js';
import { seededRandom } from '../main/model/prng.js';
import { storeSchema, type StoreData } from '../main/store/schema.js';
import { NodeStore } from '../main/store/store.js';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/store-writer.mjs');
const BUILT_STORE = path.resolve(import.meta.dirname, '../dist/main/store/store.js');
const FILE = 'lvs-node.json';
const RUNS = 30;
const SEED = 0x5eed;
/** Every STARTUP_KILL_EVERY-th run is killed while starting (importing, opening) rather than while writing. */
const STARTUP_KILL_EVERY = 4;
const MAX_WRITING_MS = 100;
/** A child that neither gets ready nor dies by then is stuck, not slow. */
const STUCK_MS = 15_000;

let root: string | null = null;

beforeAll(() => {
  if (!fs.existsSync(BUILT_STORE)) {
    throw new Error(`${BUILT_STORE} is missing: run \`npx tsc -b\` first (\`npm test\` does it before vitest)`);
  }
});

afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = null;
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The child's "ready <id> <cycle>" line, if it got that far. */
  ready: string | null;
  readyAfterMs: number | null;
  stderr: string;
}

/** Starts the writer and kills it `delayMs` after spawning, or after it is ready. */
function runAndKill(dataDir: string, delayMs: number, afterReady: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [FIXTURE, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => child.kill('SIGKILL');
    let killTimer = afterReady ? null : setTimeout(kill, delayMs);
    const stuckTimer = setTimeout(kill, STUCK_MS);
    let stdout = '';
    let stderr = '';
    let ready: string | null = null;
    let readyAfterMs: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const end = stdout.indexOf('\n');
      if (ready !== null || end < 0) return;
      ready = stdout.slice(0, end);
      readyAfterMs = performance.now() - started;
      if (afterReady) killTimer = setTimeout(kill, delayMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      clearTimeout(stuckTimer);
      resolve({ code, signal, ready, readyAfterMs, stderr });
    });
  });
}

function readValidStore(dataDir: string, run: number): StoreData {
  const text = fs.readFileSync(path.join(dataDir, FILE), 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`after kill ${run} the store is not JSON (${String(error)}); it ends with ${JSON.stringify(text.slice(-60))}`);
  }
  const parsed = storeSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`after kill ${run} the store does not validate: ${parsed.error.message}`);
  return parsed.data;
}

it(`survives ${RUNS} SIGKILLs at random moments with a valid file and the same identity`, async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-store-kill-'));
  const dataDir = path.join(root, 'data');
  const first = NodeStore.open(dataDir, { log: () => {} });
  const id = first.identity.id;
  first.close();

  const random = seededRandom(SEED);
  let startupMs = 300;
  let lastCycle = 0;
  let killedWhileWriting = 0;
  for (let run = 1; run <= RUNS; run++) {
    const duringStartup = run % STARTUP_KILL_EVERY === 0;
    const delayMs = random() * (duringStartup ? startupMs : MAX_WRITING_MS);
    const result = await runAndKill(dataDir, delayMs, !duringStartup);

    expect(result.signal, `run ${run} ended by itself (code ${result.code}): ${result.stderr}`).toBe('SIGKILL');
    expect(result.stderr, `run ${run} complained while opening the store`).not.toMatch(/^(warn|error):/m);
    if (result.ready !== null) {
      expect(result.ready, `run ${run} did not restart from the last write`).toBe(`ready ${id} ${lastCycle}`);
      if (!duringStartup) killedWhileWriting++;
    }
    if (result.readyAfterMs !== null) startupMs = result.readyAfterMs;

    expect(fs.readdirSync(dataDir).filter((name) => name.includes('.corrupt-')), `run ${run} set a file aside`).toEqual([]);
    const data = readValidStore(dataDir, run);
    expect(checkIdentity(data.identity)?.id, `identity after kill ${run}`).toBe(id);
    expect(data.state.cycle, `kill ${run} lost writes that had already landed`).toBeGreaterThanOrEqual(lastCycle);
    lastCycle = data.state.cycle;
  }

  expect(killedWhileWriting).toBe(RUNS - Math.floor(RUNS / STARTUP_KILL_EVERY));
  expect(lastCycle, 'the children never got a write in').toBeGreaterThan(0);

  const reopened = NodeStore.open(dataDir, { log: () => {} });
  reopened.close();
  expect(reopened.identity.id).toBe(id);
  expect(reopened.setAside).toBeNull();
  expect(reopened.state.cycle).toBe(lastCycle);
  expect(fs.readdirSync(dataDir), 'temporary files of interrupted writes are cleaned up on open').toEqual([FILE]);
}, 180_000);
