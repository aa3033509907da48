#!/usr/bin/env node
/**
 * Soak test (issue 4, "a long run on this machine"): N real headless nodes on
 * 127.0.0.1 (full mesh by --peer, discovery off) for a long time, one of them
 * killed (SIGKILL and SIGTERM by turns) and restarted every few minutes.
 * Checks that every state file it finds after an exit parses and passes the
 * store schema, that every restart resumes (same id, cycle and drift from the
 * file) and relinks to all the others, and that SIGTERM exits 0; and measures
 * whether memory (RSS) and file descriptors grow over each process lifetime.
 *
 *   npx tsc -b && node bench/soak.mjs [--minutes 30] [--restart-every 180] [--nodes 3] [--out FILE] [--write]
 *
 * It runs a private copy of dist/ (taken at start) so a rebuild by someone
 * else during the run does not change the code under test. Everything it
 * creates lives in one temp dir that is removed at the end, on failure and
 * on Ctrl-C. See docs/soak.md.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMITTED_SOAK_RESULTS, SOAK_RESULTS } from './output.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: node bench/soak.mjs [options]   (build first: npx tsc -b)

  --minutes N          how long to run (default 30)
  --restart-every S    seconds between restarts, one node at a time, round robin (default 180)
  --nodes N            how many nodes (default 3, at least 2)
  --out FILE           JSON results (default out/soak-results.json, ignored by git)
  --write              also write them to bench/soak-results.json, the committed results
  --warmup S           samples younger than this (per process) are left out of growth figures (default 60)
  --sample-every S     sampling period (default 10)
  --relink-timeout S   how long a restarted node may take to relink to every other (default 90)
  --heap               also run each node with the inspector on 127.0.0.1 and once a minute force a
                       full GC and read process.memoryUsage(): tells a growing JS heap from lazy GC
                       (the forced GCs change the RSS curve a little, so this is not the default)
  -h, --help           this text

Exit code 0 when every check passed, 1 when one failed (the last line says which), 2 on a usage error.
`;

// ---------------------------------------------------------------- options

function usageError(message) {
  process.stderr.write(`soak: ${message} (see --help)\n`);
  process.exit(2);
}

let cli;
try {
  cli = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: {
      minutes: { type: 'string', default: '30' },
      'restart-every': { type: 'string', default: '180' },
      nodes: { type: 'string', default: '3' },
      out: { type: 'string' },
      write: { type: 'boolean', default: false },
      warmup: { type: 'string', default: '60' },
      'sample-every': { type: 'string', default: '10' },
      'relink-timeout': { type: 'string', default: '90' },
      heap: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  usageError(err.message.replace(/\s*\n\s*/g, ' '));
}
if (cli.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function positive(flag, raw, { integer = false, min = 0 } = {}) {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= min || (integer && !Number.isInteger(value))) {
    usageError(`--${flag} needs ${integer ? 'a whole number' : 'a number'} above ${min}, got "${raw}"`);
  }
  return value;
}

const OPT = {
  minutes: positive('minutes', cli.minutes),
  restartEvery: positive('restart-every', cli['restart-every']),
  nodes: positive('nodes', cli.nodes, { integer: true, min: 1 }),
  out: cli.out === undefined ? join(ROOT, SOAK_RESULTS) : resolve(process.cwd(), cli.out),
  write: cli.write,
  warmup: positive('warmup', cli.warmup, { min: -1 }),
  sampleEvery: positive('sample-every', cli['sample-every']),
  relinkTimeout: positive('relink-timeout', cli['relink-timeout']),
  heap: cli.heap,
};
const DURATION_MS = OPT.minutes * 60_000;
/** Spread samples this close after a kill (or after the start) are left out of the "max spread" figure. */
const SPREAD_QUIET_S = 30;
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const STATUS_TIMEOUT_MS = 5_000;

const BUILT_CLI = join(ROOT, 'dist/main/headless/cli.js');
const BUILT_SCHEMA = join(ROOT, 'dist/main/store/schema.js');
if (!existsSync(BUILT_CLI) || !existsSync(BUILT_SCHEMA)) {
  process.stderr.write(`soak: ${BUILT_CLI} is missing: run \`npx tsc -b\` first (npm run soak does)\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- cleanup

const children = new Set();
let workDir = null;
let cleanedUp = false;

/** Synchronous on purpose: it also runs from the 'exit' handler. */
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`soak: ${signal}: stopping every node and removing ${workDir ?? 'nothing'}\n`);
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- small helpers

const t0 = Date.now();
const sinceStart = () => (Date.now() - t0) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const sleepUntil = (at) => sleep(at - Date.now());
const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));
const stamp = () => `[${new Date().toISOString().slice(11, 19)} +${fmt(sinceStart(), 0).padStart(5)}s]`;
const say = (line) => process.stdout.write(`${stamp()} ${line}\n`);

function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => {
      const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    return { rssKiB: field('VmRSS'), anonKiB: field('RssAnon'), threads: field('Threads'), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/** GET /api/status over a fresh connection (no keep-alive pool, so each sample costs the node the same one socket). */
function getStatus(port) {
  return new Promise((resolveStatus, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/status', agent: false, timeout: STATUS_TIMEOUT_MS, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        try {
          resolveStatus(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${STATUS_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

/** A free TCP port below the ephemeral range, so no other program's port-0 bind can take it while a node is down. */
async function freePort(taken) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const ok = await new Promise((r) => {
      const server = net.createServer();
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => server.close(() => r(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port found in 20000-32000');
}

/** Least-squares slope of y over x; null with fewer than 3 points or no spread in x. */
function slope(points) {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

/** One slope for several lifetimes, each with its own level: the within-group (pooled) least-squares slope. */
function pooledSlope(groups) {
  let sxx = 0;
  let sxy = 0;
  for (const points of groups) {
    if (points.length < 3) continue;
    const n = points.length;
    const mx = points.reduce((s, p) => s + p[0], 0) / n;
    const my = points.reduce((s, p) => s + p[1], 0) / n;
    for (const [x, y] of points) {
      sxx += (x - mx) * (x - mx);
      sxy += (x - mx) * (y - my);
    }
  }
  return sxx > 0 ? sxy / sxx : null;
}

function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// ---------------------------------------------------------------- run state

const failures = []; // one line each
const warnings = [];
const fileChecks = []; // { t, node, when, ok, error, cycle, files }
const restarts = [];
const rounds = []; // { t, spread, up }
const restartTimes = []; // kill times, seconds since start
let schema = null;
let cliPath = null;

function fail(line) {
  failures.push(line);
  say(`FAIL ${line}`);
}

/** Reads the state file as a restarted node would, and checks it against the store schema. */
function checkStateFile(slot, when) {
  const file = join(slot.dataDir, 'lvs-node.json');
  const check = { t: sinceStart(), node: slot.name, when, ok: false, error: null, id: null, cycle: null, drift: null, mode: null, files: [] };
  try {
    check.files = readdirSync(slot.dataDir).sort();
    check.mode = (statSync(file).mode & 0o777).toString(8);
    const parsed = schema.storeSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) {
      check.ok = true;
      check.id = parsed.data.identity.id;
      check.cycle = parsed.data.state.cycle;
      check.drift = parsed.data.state.drift;
    } else {
      const issue = parsed.error.issues[0];
      check.error = `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
    }
  } catch (err) {
    check.error = err.message;
  }
  const corrupt = check.files.filter((f) => f.includes('.corrupt-'));
  if (check.ok && corrupt.length > 0) {
    check.ok = false;
    check.error = `a file was set aside as corrupt: ${corrupt.join(', ')}`;
  }
  fileChecks.push(check);
  if (!check.ok) fail(`${slot.name}: state file invalid ${when} (${check.error})`);
  return check;
}

// ---------------------------------------------------------------- node processes

/**
 * A slot is one node (one data dir, one port, one id); each process started
 * for it is one lifetime with its own samples.
 */
function spawnNode(slot, peers) {
  const args = [
    ...(OPT.heap ? ['--inspect=127.0.0.1:0'] : []),
    cliPath,
    '--host', '127.0.0.1',
    '--no-discovery',
    '--log-format', 'json',
    '--port', String(slot.port),
    '--data-dir', slot.dataDir,
    '--name', slot.name,
    `--drift=${slot.drift.join(',')}`,
    ...peers.flatMap((p) => ['--peer', `127.0.0.1:${p.port}`]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const life = {
    index: slot.lives.length,
    pid: child.pid,
    child,
    startedAt: sinceStart(),
    endedAt: null,
    listening: null,
    samples: [],
    sampleErrors: 0,
    logLevels: { info: 0, warn: 0, error: 0 },
    notable: [], // first warn/error lines
    tail: [],
    stderr: '',
    exit: null,
    expectedExit: false,
    inspectorUrl: null,
    inspector: null,
    heapSamples: [],
  };
  slot.lives.push(life);
  slot.life = life;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (life.stderr.length < 20_000) life.stderr += d;
    if (OPT.heap && !life.inspectorUrl) life.inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(life.stderr)?.[1] ?? null;
  });
  life.exited = new Promise((r) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      life.exit = { code, signal };
      life.endedAt = sinceStart();
      r(life.exit);
    }),
  );
  life.listened = new Promise((resolveListen, reject) => {
    const timer = setTimeout(() => reject(new Error(`${slot.name} did not start within ${START_TIMEOUT_MS} ms: ${life.stderr.trim()}`)), START_TIMEOUT_MS);
    void life.exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${slot.name} exited (${e.code ?? e.signal}) before listening: ${life.stderr.trim()}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        record = { kind: 'text', level: 'info', msg: line };
      }
      life.tail.push(line);
      if (life.tail.length > 20) life.tail.shift();
      if (record.level in life.logLevels) life.logLevels[record.level]++;
      if ((record.level === 'warn' || record.level === 'error') && life.notable.length < 20) life.notable.push(`${record.kind}: ${record.msg}`);
      if (record.kind === 'listening' && !life.listening) {
        clearTimeout(timer);
        life.listening = record;
        resolveListen(record);
      }
    });
  });
  life.listened.catch(() => {}); // awaited where it matters; never an unhandled rejection
  // A node that dies on its own is a failure; it is started again (a few times at most) so the run goes on.
  void life.exited.then((e) => {
    if (life.expectedExit || finishing) return;
    fail(`${slot.name} (pid ${life.pid}) exited on its own (${e.code ?? e.signal}): ${life.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    void respawnAfterCrash(slot);
  });
  return life;
}

let finishing = false;
let slots = [];
const othersOf = (slot) => slots.filter((s) => s !== slot);

async function respawnAfterCrash(slot) {
  slot.crashes = (slot.crashes ?? 0) + 1;
  if (slot.crashes > 5) return fail(`${slot.name} crashed ${slot.crashes} times; not starting it again`);
  await sleep(1000);
  if (finishing) return;
  try {
    const life = spawnNode(slot, othersOf(slot));
    await life.listened;
    say(`${slot.name} started again after the crash (pid ${life.pid})`);
  } catch (err) {
    fail(`${slot.name} could not be started again after a crash: ${err.message}`);
  }
}

/** Waits for a process to exit; past the timeout it is killed hard and the wait reported. */
async function awaitExit(slot, life, timeoutMs) {
  const timedOut = Symbol('timeout');
  const result = await Promise.race([life.exited, sleep(timeoutMs).then(() => timedOut)]);
  if (result !== timedOut) return { ...result, timedOut: false };
  life.child.kill('SIGKILL');
  return { ...(await life.exited), timedOut: true };
}

const linkedIds = (status) => new Set(status.peers.filter((p) => p.connected && p.fresh).map((p) => p.id));

/** True once `slot` is linked (connected and fresh) to every other node and every other node to it. */
async function meshLinkedAround(slot) {
  const mine = linkedIds(await getStatus(slot.port));
  for (const other of othersOf(slot)) {
    if (!mine.has(other.id)) return false;
    if (!linkedIds(await getStatus(other.port)).has(slot.id)) return false;
  }
  return true;
}

async function waitForMesh(slot, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < until) {
    try {
      if (await meshLinkedAround(slot)) return { ok: true, error: null };
    } catch (err) {
      lastError = err.message;
    }
    await sleep(250);
  }
  return { ok: false, error: lastError };
}

// ---------------------------------------------------------------- --heap: the inspector

let WebSocketClient = null;

/** One inspector session per process, kept open; `call` sends a DevTools protocol command. */
async function inspectorSession(life) {
  if (life.inspector) return life.inspector;
  if (!life.inspectorUrl) throw new Error('no inspector URL on stderr');
  WebSocketClient ??= (await import('ws')).WebSocket;
  const socket = new WebSocketClient(life.inspectorUrl);
  await new Promise((resolveOpen, reject) => {
    socket.once('open', resolveOpen);
    socket.once('error', reject);
  });
  const pending = new Map();
  let next = 1;
  socket.on('message', (data) => {
    const msg = JSON.parse(String(data));
    const waiter = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('inspector closed'));
    pending.clear();
    if (life.inspector?.socket === socket) life.inspector = null;
  });
  life.inspector = {
    socket,
    call: (method, params = {}) =>
      new Promise((resolveCall, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolveCall, reject });
        socket.send(JSON.stringify({ id, method, params }));
        setTimeout(() => pending.has(id) && (pending.delete(id), reject(new Error(`${method}: no answer`))), STATUS_TIMEOUT_MS);
      }),
  };
  return life.inspector;
}

/** A node process waits at exit for an attached debugger: detach before any kill. */
async function closeInspector(life) {
  const session = life.inspector;
  life.inspector = null;
  if (!session) return;
  await new Promise((r) => {
    session.socket.once('close', r);
    session.socket.close();
    setTimeout(r, 1000);
  });
}

/** Forces a full GC in the node and reads its memory: what is still live, not what V8 has not collected yet. */
async function heapProbe(slot) {
  const life = slot.life;
  if (!life || !life.listening || life.exit || life.expectedExit) return;
  try {
    const session = await inspectorSession(life);
    await session.call('HeapProfiler.collectGarbage');
    const result = await session.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const mem = JSON.parse(result.result.value);
    const proc = procStatus(life.pid);
    const t = sinceStart();
    life.heapSamples.push({
      t: Number(t.toFixed(1)),
      age: Number((t - life.startedAt).toFixed(1)),
      heapUsedKiB: Math.round(mem.heapUsed / 1024),
      heapTotalKiB: Math.round(mem.heapTotal / 1024),
      externalKiB: Math.round(mem.external / 1024),
      arrayBuffersKiB: Math.round(mem.arrayBuffers / 1024),
      rssKiB: proc?.rssKiB ?? null,
      anonKiB: proc?.anonKiB ?? null,
    });
  } catch (err) {
    life.heapErrors = (life.heapErrors ?? 0) + 1;
    if (life.heapErrors === 1) warnings.push(`${slot.name} (pid ${life.pid}): heap probe failed: ${err.message}`);
  }
}

let restartInProgress = null;

async function restart(n, slot, signal) {
  const life = slot.life;
  const record = {
    n,
    node: slot.name,
    signal,
    t: sinceStart(),
    pidBefore: life.pid,
    exit: null,
    exitOk: false,
    fileOk: false,
    file: null,
    pidAfter: null,
    listening: null,
    idOk: false,
    cycleOk: false,
    driftOk: false,
    resumed: false,
    relinked: false,
    downMs: null,
    relinkMs: null,
    error: null,
  };
  restarts.push(record);
  restartTimes.push(record.t);
  say(`restart #${n}: ${signal} to ${slot.name} (pid ${life.pid}, cycle ~${life.samples.at(-1)?.cycle ?? '?'})`);
  life.expectedExit = true;
  await closeInspector(life);
  const killedAt = Date.now();
  life.child.kill(signal);
  const exit = await awaitExit(slot, life, EXIT_TIMEOUT_MS);
  record.exit = exit;
  record.exitOk = signal === 'SIGTERM' ? exit.code === 0 && !exit.timedOut : exit.signal === 'SIGKILL';
  if (!record.exitOk) fail(`restart #${n}: ${slot.name} did not exit as expected on ${signal}: ${JSON.stringify(exit)} ${life.stderr.trim().split('\n').slice(-2).join(' | ')}`);

  const check = checkStateFile(slot, `after ${signal} (restart #${n})`);
  record.fileOk = check.ok;
  record.file = { cycle: check.cycle, drift: check.drift, id: check.id, files: check.files };

  try {
    const next = spawnNode(slot, othersOf(slot));
    record.pidAfter = next.pid;
    const listening = await next.listened;
    record.downMs = Date.now() - killedAt;
    record.listening = { id: listening.id, cycle: listening.cycle, drift: listening.drift };
    record.idOk = listening.id === slot.id;
    record.cycleOk = check.ok && typeof listening.cycle === 'number' && listening.cycle >= check.cycle;
    record.driftOk = check.ok && Array.isArray(listening.drift) && listening.drift.length === 2 && listening.drift.every((v, i) => v === check.drift[i]);
    record.resumed = record.idOk && record.cycleOk && record.driftOk;
    if (!record.resumed) {
      fail(
        `restart #${n}: ${slot.name} did not resume: id ${listening.id}${record.idOk ? '' : ` (expected ${slot.id})`}, ` +
          `cycle ${listening.cycle} vs file ${check.cycle}, drift ${JSON.stringify(listening.drift)} vs file ${JSON.stringify(check.drift)}`,
      );
    }
    const relinkStart = Date.now();
    const mesh = await waitForMesh(slot, OPT.relinkTimeout * 1000);
    record.relinked = mesh.ok;
    record.relinkMs = Date.now() - relinkStart;
    if (!mesh.ok) fail(`restart #${n}: ${slot.name} did not relink to every other node within ${OPT.relinkTimeout} s${mesh.error ? ` (${mesh.error})` : ''}`);
    say(
      `restart #${n}: ${slot.name} back as pid ${next.pid} after ${record.downMs} ms, cycle ${listening.cycle} (file ${check.cycle}), ` +
        `${record.resumed ? 'resumed' : 'NOT RESUMED'}, ${mesh.ok ? `relinked in ${record.relinkMs} ms` : 'NOT RELINKED'}`,
    );
  } catch (err) {
    record.error = err.message;
    fail(`restart #${n}: ${slot.name} did not start again: ${err.message}`);
  }
}

// ---------------------------------------------------------------- sampling

async function sampleRound() {
  const t = sinceStart();
  const drifts = [];
  await Promise.all(
    slots.map(async (slot) => {
      const life = slot.life;
      if (!life || !life.listening || life.exit || life.expectedExit) return;
      const proc = procStatus(life.pid);
      let status = null;
      try {
        status = await getStatus(slot.port);
      } catch {
        life.sampleErrors++;
      }
      if (!proc || life.exit || life.expectedExit) return;
      const sample = {
        t: Number(t.toFixed(1)),
        age: Number((t - life.startedAt).toFixed(1)),
        rssKiB: proc.rssKiB,
        anonKiB: proc.anonKiB,
        fds: proc.fds,
        threads: proc.threads,
        cycle: status?.cycle ?? null,
        cps: status ? Number(status.cyclesPerSecond.toFixed(2)) : null,
        linked: status ? status.peers.filter((p) => p.connected).length : null,
        fresh: status ? status.peers.filter((p) => p.connected && p.fresh).length : null,
        peerEntries: status?.peers.length ?? null,
        dialTargets: status?.dialTargets.length ?? null,
      };
      life.samples.push(sample);
      if (status) drifts.push({ node: slot.name, drift: status.state.drift });
      if (status && status.peers.length > slots.length - 1 && !slot.warnedPeers) {
        slot.warnedPeers = true;
        warnings.push(`${slot.name} listed ${status.peers.length} peer entries with ${slots.length - 1} other nodes at +${fmt(t, 0)} s`);
      }
    }),
  );
  // The live files too: written atomically, so a reader must never see a bad one.
  for (const slot of slots) if (slot.life?.listening && !slot.life.exit && !slot.life.expectedExit) checkStateFile(slot, 'while running');
  let spread = null;
  for (let i = 0; i < drifts.length; i++) {
    for (let j = i + 1; j < drifts.length; j++) {
      const d = Math.hypot(drifts[i].drift[0] - drifts[j].drift[0], drifts[i].drift[1] - drifts[j].drift[1]);
      spread = Math.max(spread ?? 0, d);
    }
  }
  const lastKill = restartTimes.length > 0 ? restartTimes.at(-1) : 0;
  rounds.push({ t: Number(t.toFixed(1)), up: drifts.length, spread: spread === null ? null : Number(spread.toFixed(4)), sinceRestart: Number((t - lastKill).toFixed(1)) });
  return { t, spread, up: drifts.length };
}

let samplingStopped = false;
async function samplingLoop() {
  let k = 1;
  let lastLog = 0;
  while (!samplingStopped) {
    await sleepUntil(t0 + k * OPT.sampleEvery * 1000);
    k++;
    if (samplingStopped) break;
    const round = await sampleRound();
    if (OPT.heap && (k - 1) % Math.max(1, Math.round(60 / OPT.sampleEvery)) === 0) {
      for (const slot of slots) await heapProbe(slot);
    }
    if (round.t - lastLog >= 60) {
      lastLog = round.t;
      const parts = slots.map((s) => {
        const x = s.life?.samples.at(-1);
        return x ? `${s.name} rss ${fmt(x.rssKiB / 1024)} MiB fds ${x.fds} thr ${x.threads} cycle ${x.cycle} linked ${x.linked}/${x.fresh}` : `${s.name} -`;
      });
      say(`sample: spread ${fmt(round.spread, 3)}; ${parts.join('; ')}`);
    }
  }
}

// ---------------------------------------------------------------- report

function lifeReport(slot, life) {
  const warm = life.samples.filter((s) => s.age >= OPT.warmup && s.rssKiB !== null);
  const first = warm[0] ?? null;
  const last = warm.at(-1) ?? null;
  const rssSlope = slope(warm.map((s) => [s.age / 60, s.rssKiB])); // KiB per minute
  // RssAnon is the heap and malloc part of RSS; the rest is mapped files (code paged in) and shared memory.
  const anonSlope = warm.every((s) => s.anonKiB !== null) ? slope(warm.map((s) => [s.age / 60, s.anonKiB])) : null;
  const fdSlope = slope(warm.map((s) => [s.age / 3600, s.fds])); // fds per hour
  const heapWarm = life.heapSamples.filter((s) => s.age >= OPT.warmup);
  const heapSlope = (key) => {
    const v = slope(heapWarm.map((s) => [s.age / 60, s[key]]));
    return v === null ? null : Number(v.toFixed(2));
  };
  const heap = OPT.heap
    ? {
        samples: heapWarm.length,
        errors: life.heapErrors ?? 0,
        first: heapWarm[0] ?? null,
        last: heapWarm.at(-1) ?? null,
        heapUsedSlopeKiBPerMin: heapSlope('heapUsedKiB'),
        externalSlopeKiBPerMin: heapSlope('externalKiB'),
        rssAfterGcSlopeKiBPerMin: heapSlope('rssKiB'),
        anonAfterGcSlopeKiBPerMin: heapSlope('anonKiB'),
        points: heapWarm.map((s) => [s.age, s.heapUsedKiB, s.heapTotalKiB, s.externalKiB, s.arrayBuffersKiB, s.rssKiB, s.anonKiB]),
      }
    : null;
  return {
    node: slot.name,
    life: life.index,
    pid: life.pid,
    startedAt: Number(life.startedAt.toFixed(1)),
    endedAt: life.endedAt === null ? null : Number(life.endedAt.toFixed(1)),
    exit: life.exit,
    samples: life.samples.length,
    warmSamples: warm.length,
    warmSpanMin: first && last ? Number(((last.age - first.age) / 60).toFixed(2)) : 0,
    first: first && { age: first.age, rssKiB: first.rssKiB, fds: first.fds, threads: first.threads },
    last: last && { age: last.age, rssKiB: last.rssKiB, fds: last.fds, threads: last.threads },
    rssPeakKiB: life.samples.reduce((m, s) => Math.max(m, s.rssKiB ?? 0), 0),
    fdsMax: life.samples.reduce((m, s) => Math.max(m, s.fds ?? 0), 0),
    rssSlopeKiBPerMin: rssSlope === null ? null : Number(rssSlope.toFixed(2)),
    anonSlopeKiBPerMin: anonSlope === null ? null : Number(anonSlope.toFixed(2)),
    fdSlopePerHour: fdSlope === null ? null : Number(fdSlope.toFixed(2)),
    sampleErrors: life.sampleErrors,
    logLevels: life.logLevels,
    notable: life.notable,
    /** [age s, RSS KiB, fds, RssAnon KiB] of every warm sample. */
    points: warm.map((s) => [s.age, s.rssKiB, s.fds, s.anonKiB]),
    /** --heap: after a forced full GC, once a minute; points are [age s, heapUsed, heapTotal, external, arrayBuffers, RSS, RssAnon] in KiB. */
    heap,
  };
}

/** Plain-text table: the first column (every column with leftAll) left-aligned, numbers right-aligned. */
function table(header, rows, { leftAll = false } = {}) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || leftAll ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** What was built: the checkout's commit, whether main/ had uncommitted changes, and when dist/ was built (taken at start). */
function buildInfo() {
  // tsc -b rewrites only the files that changed: the newest one says when dist/ was last built.
  const distMain = join(ROOT, 'dist/main');
  const newest = readdirSync(distMain, { recursive: true })
    .filter((f) => String(f).endsWith('.js'))
    .reduce((m, f) => Math.max(m, statSync(join(distMain, String(f))).mtimeMs), 0);
  const builtAt = new Date(newest).toISOString();
  try {
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'main'], { encoding: 'utf8' }).trim().length > 0;
    return { head, mainDirty: dirty, distBuiltAt: builtAt };
  } catch {
    return { head: null, mainDirty: null, distBuiltAt: builtAt };
  }
}
let build = null;

function report(finalStops) {
  const lives = slots.flatMap((slot) => slot.lives.map((life) => lifeReport(slot, life)));
  const perNode = slots.map((slot) => {
    const mine = lives.filter((l) => l.node === slot.name);
    const groups = slot.lives.map((life) => life.samples.filter((s) => s.age >= OPT.warmup && s.rssKiB !== null));
    const rss = pooledSlope(groups.map((g) => g.map((s) => [s.age / 60, s.rssKiB])));
    const fds = pooledSlope(groups.map((g) => g.map((s) => [s.age / 3600, s.fds])));
    const firstLife = mine.find((l) => l.first) ?? null;
    const lastLife = [...mine].reverse().find((l) => l.last) ?? null;
    return {
      node: slot.name,
      id: slot.id,
      lifetimes: slot.lives.length,
      restarts: restarts.filter((r) => r.node === slot.name).length,
      firstAfterWarmup: firstLife?.first ?? null,
      lastSample: lastLife?.last ?? null,
      pooledRssSlopeKiBPerMin: rss === null ? null : Number(rss.toFixed(2)),
      pooledFdSlopePerHour: fds === null ? null : Number(fds.toFixed(2)),
    };
  });
  const allGroups = slots.flatMap((slot) => slot.lives.map((life) => life.samples.filter((s) => s.age >= OPT.warmup && s.rssKiB !== null)));
  const overallRss = pooledSlope(allGroups.map((g) => g.map((s) => [s.age / 60, s.rssKiB])));
  const overallFds = pooledSlope(allGroups.map((g) => g.map((s) => [s.age / 3600, s.fds])));

  const quiet = rounds.filter((r) => r.spread !== null && r.t >= SPREAD_QUIET_S && !restartTimes.some((k) => r.t >= k && r.t < k + SPREAD_QUIET_S));
  const spreads = quiet.map((r) => r.spread);
  const spreadAll = rounds.filter((r) => r.spread !== null).map((r) => r.spread);

  const afterExit = fileChecks.filter((c) => c.when !== 'while running');
  const live = fileChecks.filter((c) => c.when === 'while running');
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)), node: process.version, platform: `${os.type()} ${os.release()}` },
    build,
    options: { ...OPT, out: undefined },
    elapsedMin: Number((sinceStart() / 60).toFixed(2)),
    restarts: {
      total: restarts.length,
      resumed: restarts.filter((r) => r.resumed).length,
      relinked: restarts.filter((r) => r.relinked).length,
      exitOk: restarts.filter((r) => r.exitOk).length,
      bySignal: { SIGKILL: restarts.filter((r) => r.signal === 'SIGKILL').length, SIGTERM: restarts.filter((r) => r.signal === 'SIGTERM').length },
      relinkMsMax: restarts.reduce((m, r) => Math.max(m, r.relinkMs ?? 0), 0),
      downMsMax: restarts.reduce((m, r) => Math.max(m, r.downMs ?? 0), 0),
      list: restarts,
    },
    stateFiles: {
      checks: fileChecks.length,
      valid: fileChecks.filter((c) => c.ok).length,
      afterExit: { checks: afterExit.length, valid: afterExit.filter((c) => c.ok).length },
      whileRunning: { checks: live.length, valid: live.filter((c) => c.ok).length },
      leftoverTempFilesSeenAfterExit: afterExit.filter((c) => c.files.some((f) => f.includes('.tmp-'))).length,
      modes: [...new Set(fileChecks.map((c) => c.mode).filter(Boolean))],
      invalid: fileChecks.filter((c) => !c.ok),
    },
    finalStop: finalStops,
    spread: {
      quietRounds: quiet.length,
      maxQuiet: spreads.length ? Math.max(...spreads) : null,
      medianQuiet: quantile(spreads, 0.5),
      p95Quiet: quantile(spreads, 0.95),
      maxAny: spreadAll.length ? Math.max(...spreadAll) : null,
    },
    growth: {
      warmupS: OPT.warmup,
      overallPooledRssSlopeKiBPerMin: overallRss === null ? null : Number(overallRss.toFixed(2)),
      overallPooledFdSlopePerHour: overallFds === null ? null : Number(overallFds.toFixed(2)),
      perNode,
      lifetimes: lives,
    },
    rounds,
    warnings,
    failures,
    ok: failures.length === 0,
  };
}

function printReport(r) {
  const lines = [];
  lines.push('');
  lines.push(`LVS soak: ${r.options.nodes} nodes, ${r.elapsedMin} min, a restart every ${r.options.restartEvery} s, ${r.machine.cpus} cores, ${r.date}`);
  lines.push('');
  lines.push('Per process lifetime (growth figures use samples at least ' + `${r.growth.warmupS} s after that process started):`);
  lines.push(
    table(
      ['node', 'life', 'pid', 'from s', 'to s', 'warm min', 'RSS first MiB', 'RSS last MiB', 'RSS KiB/min', 'anon KiB/min', 'fds first', 'fds last', 'fds/h', 'thr first', 'thr last', 'warn', 'err'],
      r.growth.lifetimes.map((l) => [
        l.node,
        l.life,
        l.pid,
        fmt(l.startedAt, 0),
        l.endedAt === null ? '-' : fmt(l.endedAt, 0),
        fmt(l.warmSpanMin, 1),
        l.first ? fmt(l.first.rssKiB / 1024) : '-',
        l.last ? fmt(l.last.rssKiB / 1024) : '-',
        fmt(l.rssSlopeKiBPerMin, 1),
        fmt(l.anonSlopeKiBPerMin, 1),
        l.first?.fds ?? '-',
        l.last?.fds ?? '-',
        fmt(l.fdSlopePerHour, 1),
        l.first?.threads ?? '-',
        l.last?.threads ?? '-',
        l.logLevels.warn,
        l.logLevels.error,
      ]),
    ),
  );
  lines.push('');
  lines.push('Per node (pooled slope: one least-squares slope across its lifetimes, each lifetime with its own level):');
  lines.push(
    table(
      ['node', 'restarts', 'RSS first MiB', 'RSS last MiB', 'RSS KiB/min', 'fds first', 'fds last', 'fds/h'],
      r.growth.perNode.map((n) => [
        n.node,
        n.restarts,
        n.firstAfterWarmup ? fmt(n.firstAfterWarmup.rssKiB / 1024) : '-',
        n.lastSample ? fmt(n.lastSample.rssKiB / 1024) : '-',
        fmt(n.pooledRssSlopeKiBPerMin, 1),
        n.firstAfterWarmup?.fds ?? '-',
        n.lastSample?.fds ?? '-',
        fmt(n.pooledFdSlopePerHour, 1),
      ]),
    ),
  );
  lines.push(`all nodes: RSS ${fmt(r.growth.overallPooledRssSlopeKiBPerMin, 1)} KiB/min, fds ${fmt(r.growth.overallPooledFdSlopePerHour, 1)}/h`);
  if (r.options.heap) {
    lines.push('');
    lines.push('After a forced full GC, once a minute (--heap):');
    lines.push(
      table(
        ['node', 'life', 'probes', 'heapUsed first MiB', 'heapUsed last MiB', 'heapUsed KiB/min', 'external KiB/min', 'RSS after GC KiB/min', 'anon after GC KiB/min'],
        r.growth.lifetimes
          .filter((l) => l.heap)
          .map((l) => [
            l.node,
            l.life,
            l.heap.samples,
            l.heap.first ? fmt(l.heap.first.heapUsedKiB / 1024, 2) : '-',
            l.heap.last ? fmt(l.heap.last.heapUsedKiB / 1024, 2) : '-',
            fmt(l.heap.heapUsedSlopeKiBPerMin, 1),
            fmt(l.heap.externalSlopeKiBPerMin, 1),
            fmt(l.heap.rssAfterGcSlopeKiBPerMin, 1),
            fmt(l.heap.anonAfterGcSlopeKiBPerMin, 1),
          ]),
      ),
    );
  }
  lines.push('');
  lines.push(
    table(
      ['check', 'result'],
      [
        ['restarts resumed (same id, cycle >= file, drift = file)', `${r.restarts.resumed}/${r.restarts.total}`],
        ['restarts relinked to every other node', `${r.restarts.relinked}/${r.restarts.total} (slowest ${r.restarts.relinkMsMax} ms)`],
        ['kills that exited as expected (SIGTERM: code 0)', `${r.restarts.exitOk}/${r.restarts.total} (${r.restarts.bySignal.SIGKILL} SIGKILL, ${r.restarts.bySignal.SIGTERM} SIGTERM)`],
        ['state-file checks valid (after exit)', `${r.stateFiles.afterExit.valid}/${r.stateFiles.afterExit.checks}`],
        ['state-file checks valid (while running)', `${r.stateFiles.whileRunning.valid}/${r.stateFiles.whileRunning.checks}`],
        ['state-file checks valid (all)', `${r.stateFiles.valid}/${r.stateFiles.checks}`],
        ['final SIGTERM exits with 0', `${r.finalStop.filter((s) => s.ok).length}/${r.finalStop.length}`],
        [`max spread outside ${SPREAD_QUIET_S} s after a restart`, `${fmt(r.spread.maxQuiet, 3)} (median ${fmt(r.spread.medianQuiet, 3)}, p95 ${fmt(r.spread.p95Quiet, 3)}, ${r.spread.quietRounds} samples)`],
        ['max spread at any sample', fmt(r.spread.maxAny, 3)],
      ],
      { leftAll: true },
    ),
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push('');
  lines.push(r.ok ? 'PASS: every check passed' : `FAIL (${r.failures.length}): ${r.failures.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------- main

async function main() {
  build = buildInfo();
  workDir = mkdtempSync(join(os.tmpdir(), 'lvs-soak-'));
  // A private copy of the build, so a rebuild in the checkout during the run changes nothing here.
  const app = join(workDir, 'app');
  mkdirSync(app);
  cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  cliPath = join(app, 'dist/main/headless/cli.js');
  schema = await import(pathToFileURL(join(app, 'dist/main/store/schema.js')).href);

  const taken = new Set();
  const startDrifts = [[5, 1], [-2, -3], [0, 4], [-4, 2], [3, -4], [1, 1], [-1, -1], [2, 3]];
  for (let i = 0; i < OPT.nodes; i++) {
    const port = await freePort(taken);
    taken.add(port);
    const dataDir = join(workDir, `node-${i}`);
    mkdirSync(dataDir, { mode: 0o700 });
    slots.push({ name: `soak-${i}`, index: i, port, dataDir, drift: startDrifts[i % startDrifts.length], id: null, lives: [], life: null });
  }
  say(`soak: ${OPT.nodes} nodes, ${OPT.minutes} min, a restart every ${OPT.restartEvery} s; ports ${slots.map((s) => s.port).join(', ')}; work dir ${workDir}`);

  for (const slot of slots) spawnNode(slot, othersOf(slot));
  for (const slot of slots) {
    const listening = await slot.life.listened;
    slot.id = listening.id;
    say(`${slot.name} pid ${slot.life.pid} id ${slot.id} on 127.0.0.1:${slot.port}`);
  }
  for (const slot of slots) {
    const mesh = await waitForMesh(slot, OPT.relinkTimeout * 1000);
    if (!mesh.ok) fail(`${slot.name} did not link to every other node at start within ${OPT.relinkTimeout} s${mesh.error ? ` (${mesh.error})` : ''}`);
  }
  say(`mesh linked (${fmt(sinceStart())} s after start)`);

  const sampling = samplingLoop();
  const end = t0 + DURATION_MS;
  for (let k = 1; ; k++) {
    const at = t0 + k * OPT.restartEvery * 1000;
    if (at >= end) break;
    await sleepUntil(at);
    const slot = slots[(k - 1) % slots.length];
    restartInProgress = restart(k, slot, k % 2 === 1 ? 'SIGKILL' : 'SIGTERM');
    await restartInProgress;
    restartInProgress = null;
  }
  await sleepUntil(end);
  // One last round so the last samples are fresh, then stop sampling.
  samplingStopped = true;
  await sampling.catch(() => {});
  await sampleRound();

  finishing = true;
  say('stopping every node with SIGTERM');
  const finalStops = await Promise.all(
    slots.map(async (slot) => {
      const life = slot.life;
      life.expectedExit = true;
      await closeInspector(life);
      life.child.kill('SIGTERM');
      const exit = await awaitExit(slot, life, EXIT_TIMEOUT_MS);
      const ok = exit.code === 0 && !exit.timedOut;
      if (!ok) fail(`${slot.name} (pid ${life.pid}) exited with ${JSON.stringify(exit)} on the final SIGTERM: ${life.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      const check = checkStateFile(slot, 'after the final SIGTERM');
      if (check.ok && check.id !== slot.id) fail(`${slot.name}: the final state file has id ${check.id}, expected ${slot.id}`);
      return { node: slot.name, pid: life.pid, exit, ok, fileOk: check.ok, cycle: check.cycle };
    }),
  );

  const result = report(finalStops);
  const targets = OPT.write ? [OPT.out, join(ROOT, COMMITTED_SOAK_RESULTS)] : [OPT.out];
  for (const target of targets) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${JSON.stringify(result, null, 1)}\n`);
  }
  printReport(result);
  process.stdout.write(`results written to ${targets.join(' and ')}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`soak: ${err.stack ?? err.message}\n`);
    if (failures.length > 0) process.stderr.write(`FAIL (${failures.length}): ${failures.join('; ')}\n`);
    cleanup();
    process.exit(1);
  },
);
