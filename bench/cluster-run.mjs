// npm run cluster -- [options]: N real nodes on 127.0.0.1 (discovery off) in one or several
// processes, on a chosen topology, run for a while and read back through their status API.
// Prints what formed (links, degrees, connectivity), the spread over time and how it compares
// with the model on the graph the nodes actually formed, and what the processes cost (CPU, RSS);
// --transport bare measures the bare transport on the same graph, processes and timing instead;
// --json writes the same as JSON.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { spread } from '../dist/main/model/drift.js';
import { edgesOf, fromEdges, isConnected, topology } from '../dist/main/sim/graph.js';
import { predictedCycles, slem, steadySpread } from '../dist/main/sim/spectrum.js';
import { encodeMessage } from '../dist/main/protocol/messages.js';
import { PROTOCOL_VERSION } from '../dist/main/model/limits.js';

const HELP = `Usage: npm run cluster -- [options]

Starts N real LVS nodes on 127.0.0.1 (LAN discovery off) spread over P worker
processes, links them on the chosen topology over real WebRTC, lets them run,
and reports what formed (links, degrees, connectivity), the spread of their
drifts over time against the drift model on the graph they actually formed,
and the CPU and memory of each process. With alpha or gamma above 0 the nodes
first run until their spread is near the floor the model predicts; the CPU
window starts then. The harness reads the nodes' status API only before and
after that window and samples their drifts over IPC during it, so its own
work is not counted as theirs. Exit code 0 if the nodes formed one connected
mesh (bare: every pair opened), 1 if not, 2 for a wrong option.

Options:
  --nodes N            nodes to start, 2-500 (default 20)
  --processes P        worker processes the nodes are spread over, 1-32 and at most N (default 1)
  --topology T         who dials whom (default regular):
                         full      every node to every other
                         ring      each node to its two neighbours
                         regular   a random K-regular graph (seeded, reproducible)
                         maxpeers  each node is told --known addresses and its own
                                   dialer and --max-peers cap pick its links, as on a LAN
  --k K                degree of the regular topology, 1 to N-1 (default min(6, N-1); N*K must be even)
  --max-peers M        each node's link cap with --topology maxpeers, 1-64 (default 8)
  --known K            addresses each node is told with --topology maxpeers, 1 to N-1 (default N-1)
  --seconds S          length of the measured window, which opens once the links have settled (no
                       change for 3 s; with maxpeers also one connected mesh; at most 60 s) and, with
                       alpha or gamma above 0, the spread is within 1.5x of the predicted floor (at
                       most 120 s), 1-3600 (default 20)
  --cycle-ms MS        drift cycle period, 50-200 (default 100)
  --weights W          peer weighting: seed (beta * mean), metropolis or wmsr (default seed: the
                       spectral prediction is for linear weightings)
  --alpha A            entropy weight, 0-1 (default 0.05)
  --beta B             peer pull weight, 0-0.5 (default 0.1)
  --gamma G            gravity toward the origin, 0-0.5 (default 0.001)
                       (with --alpha 0 --gamma 0 the report compares the cycles to reach
                       1/1000 of the starting spread with the model's prediction)
  --transport T        node (default): the app's nodes; bare: node-datachannel alone on the same
                       graph, processes and timer schedule, one frame per link end per cycle
                       (regular, ring or full topology), the baseline of the CPU and RSS figures
  --json FILE          also write the report, with every spread sample, to FILE as JSON
  -h, --help           show this help

Examples:
  npm run cluster -- --nodes 100 --processes 4 --topology maxpeers
  npm run cluster -- --nodes 30 --topology ring --alpha 0 --gamma 0 --seconds 60
`;

function fail(message) {
  console.error(`cluster: ${message} (--help lists the options)`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      nodes: { type: 'string', default: '20' },
      processes: { type: 'string', default: '1' },
      topology: { type: 'string', default: 'regular' },
      k: { type: 'string' },
      'max-peers': { type: 'string', default: '8' },
      known: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      'cycle-ms': { type: 'string', default: '100' },
      weights: { type: 'string', default: 'seed' },
      alpha: { type: 'string', default: '0.05' },
      beta: { type: 'string', default: '0.1' },
      gamma: { type: 'string', default: '0.001' },
      transport: { type: 'string', default: 'node' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  fail(err.message);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const int = (name, min, max) => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < min || v > max) fail(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(opts[name])}`);
  return v;
};
const num = (name, min, max) => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min || v > max) fail(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(opts[name])}`);
  return v;
};
const n = int('nodes', 2, 500);
const processes = int('processes', 1, Math.min(n, 32));
const k = opts.k === undefined ? Math.min(6, n - 1) : int('k', 1, n - 1);
const maxPeers = int('max-peers', 1, 64);
const seconds = num('seconds', 1, 3600);
const cycleMs = int('cycle-ms', 50, 200);
const params = { alpha: num('alpha', 0, 1), beta: num('beta', 0, 0.5), gamma: num('gamma', 0, 0.5) };
const topologyName = opts.topology;
if (!['full', 'ring', 'regular', 'maxpeers'].includes(topologyName)) fail(`--topology must be full, ring, regular or maxpeers, got ${JSON.stringify(topologyName)}`);
if (!['seed', 'metropolis', 'wmsr'].includes(opts.weights)) fail(`--weights must be seed, metropolis or wmsr, got ${JSON.stringify(opts.weights)}`);
const known = opts.known === undefined ? n - 1 : int('known', 1, n - 1);
if (!['node', 'bare'].includes(opts.transport)) fail(`--transport must be node or bare, got ${JSON.stringify(opts.transport)}`);
const bare = opts.transport === 'bare';
if (bare && topologyName === 'maxpeers') fail('--transport bare needs a fixed topology (regular, ring or full)');
if (topologyName === 'regular' && (n * k) % 2 !== 0) fail(`a ${k}-regular graph on ${n} nodes needs n*k even`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the worker processes
/** With alpha or gamma above 0, the CPU window opens once the spread is within this factor of the predicted floor... */
const WARMUP_FLOOR_FACTOR = 1.5;
/** ...or after this long, whichever comes first (the report says which). */
const WARMUP_MAX_MS = 120_000;
/** The bare transport runs this long before its window (its links are up; nothing converges). */
const BARE_WARMUP_MS = 3000;
/** A maxpeers mesh found split at the end of the window gets this long to heal (a dropped node redials) before it counts as split. */
const MAXPEERS_HEAL_MS = 30_000;
/** What one cycle frame of a node weighs (sdm with its entropy sample): the bare transport sends frames this long. */
const FRAME_BYTES = encodeMessage({ type: 'sdm', v: PROTOCOL_VERSION, seq: 12345, diff: [0.0012345678901234567, -0.0023456789012345678], e: [0.41234567890123456, -0.77123456789012345] }).length;

const workers = [];
let requestId = 0;
function call(w, cmd, body = {}) {
  const id = ++requestId;
  return new Promise((resolve, reject) => {
    w.pending.set(id, { resolve, reject });
    w.child.send({ id, cmd, ...body });
  });
}
/** Signaling of the bare transport's pairs, from one worker to the owner of the other end. */
let onSignal = () => {};
function startWorker(first, count) {
  const child = fork(new URL('./cluster-worker.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const w = { child, first, count, pending: new Map() };
  child.on('message', (m) => {
    if (m.event === 'signal') return onSignal(m);
    const p = w.pending.get(m.id);
    if (!p) return;
    w.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  });
  child.on('exit', (code) => {
    for (const p of w.pending.values()) p.reject(new Error(`worker exited with ${code}`));
    w.pending.clear();
  });
  return w;
}
/** A worker that said it stopped exits by itself (a profiler run with --cpu-prof writes its profile then); the rest are killed. */
const WORKER_EXIT_WAIT_MS = 10_000;
async function stopAll() {
  await Promise.allSettled(workers.map((w) => (w.child.connected ? call(w, 'stop') : null)));
  await Promise.all(workers.map((w) => (w.child.exitCode !== null || w.child.signalCode !== null ? null : new Promise((resolve) => {
    const timer = setTimeout(resolve, WORKER_EXIT_WAIT_MS);
    w.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  }))));
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
}
process.on('SIGINT', () => {
  for (const w of workers) w.child.kill('SIGKILL');
  process.exit(130);
});

async function status(port) {
  const res = await fetch(`http://127.0.0.1:${port}/api/status`);
  return res.json();
}

/** The spread of every node's drift and node 0's cycle, over IPC (one message per process). */
async function sample() {
  const parts = await Promise.all(workers.map((w) => call(w, 'drifts')));
  return { cycle: parts[0].cycles[0], spread: spread(parts.flatMap((p) => p.drifts)) };
}

try {
  const t0 = performance.now();
  const loadStart = loadavg();
  for (let p = 0; p < processes; p++) {
    const first = Math.floor((p * n) / processes);
    workers.push(startWorker(first, Math.floor(((p + 1) * n) / processes) - first));
  }
  const owner = (i) => workers.find((w) => i >= w.first && i < w.first + w.count);
  const nodes = bare
    ? (await Promise.all(workers.map((w) => call(w, 'bareStart', { n: w.count, cycleMs, frameBytes: FRAME_BYTES }))), [])
    : (await Promise.all(workers.map((w) =>
      call(w, 'start', { first: w.first, n: w.count, params, weights: opts.weights, cycleMs, maxPeers: topologyName === 'maxpeers' ? maxPeers : Math.max(8, n), spreadStart: 10 }),
    ))).flat();
  const address = (i) => `127.0.0.1:${nodes[i].port}`;
  console.log(`cluster: ${n} ${bare ? 'bare transport ends' : 'nodes'} in ${processes} process(es), topology ${topologyName}${topologyName === 'maxpeers' ? ` (maxPeers ${maxPeers}, each node told ${known} addresses)` : topologyName === 'ring' || topologyName === 'full' ? '' : ` (k ${k})`}, ${cycleMs} ms cycles${bare ? `, ${FRAME_BYTES}-byte frames` : `, ${opts.weights} weights, alpha ${params.alpha} beta ${params.beta} gamma ${params.gamma}`}`);

  // ---------------------------------------------------------------- linking
  let failures = [];
  let retries = [];
  let formedEdges = null;
  if (bare) {
    // One node-datachannel pair per edge, 4 set up at a time per process (the nodes' dials go 4 at a time too).
    const edges = edgesOf(topology(topologyName, n, k, 11));
    const bOpen = new Map();
    onSignal = (m) => {
      const i = edges[m.edge][m.side === 'a' ? 0 : 1];
      const w = owner(i);
      const opened = call(w, 'bareSignal', { edge: m.edge, side: m.side, local: i - w.first, signal: m.signal });
      opened.catch(() => {});
      if (m.side === 'b' && !bOpen.has(m.edge)) bOpen.set(m.edge, opened);
    };
    formedEdges = [];
    await Promise.all(workers.map(async (w) => {
      const mine = edges.flatMap((e, index) => (owner(e[0]) === w ? [index] : []));
      let next = 0;
      const one = async () => {
        while (next < mine.length) {
          const edge = mine[next++];
          try {
            await call(w, 'bareDial', { edge, local: edges[edge][0] - w.first });
            await bOpen.get(edge);
            formedEdges.push(edges[edge]);
          } catch (err) {
            failures.push(`${edges[edge].join(' -> ')}: ${err.message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, one));
    }));
  } else if (topologyName === 'maxpeers') {
    // Like discovery on a LAN: every node learns addresses and its own dialer and degree cap do the rest.
    await Promise.all(workers.map((w) => {
      const peers = [];
      for (let i = w.first; i < w.first + w.count; i++) {
        const others = nodes.map((_, j) => j).filter((j) => j !== i);
        for (let c = 0; c < known; c++) {
          const pick = (i * 7919 + c * 104729) % others.length;
          peers.push([i - w.first, address(others.splice(pick, 1)[0])]);
        }
      }
      return call(w, 'addPeers', { peers });
    }));
  } else {
    const g = topology(topologyName, n, k, 11);
    const byWorker = new Map(workers.map((w) => [w, []]));
    for (const [a, b] of edgesOf(g)) byWorker.get(owner(a)).push([a - owner(a).first, address(b)]);
    const outcomes = await Promise.all(workers.map((w) => call(w, 'dial', { dials: byWorker.get(w) })));
    failures = outcomes.flatMap((o) => o.failures);
    retries = outcomes.flatMap((o) => o.retries);
  }
  // Settled: the link count has not changed for 3 s (the degree cap keeps dropping and redialling for a while).
  const byId = new Map(nodes.map((x, i) => [x.id, i]));
  const formed = async () => {
    const all = await Promise.all(nodes.map((x) => status(x.port)));
    const edges = [];
    all.forEach((s, i) => {
      for (const p of s.peers) {
        const j = byId.get(p.id);
        if (p.connected && p.drift !== null && j !== undefined && j > i) edges.push([i, j]);
      }
    });
    return { all, edges };
  };
  if (!bare) {
    let last = -1;
    let stableSince = performance.now();
    const settleEnd = performance.now() + 60_000;
    while (performance.now() < settleEnd) {
      const { edges } = await formed();
      formedEdges = edges;
      if (edges.length !== last) {
        last = edges.length;
        stableSince = performance.now();
      } else if (performance.now() - stableSince > 3000 && (topologyName !== 'maxpeers' || isConnected(fromEdges(n, edges)))) {
        // Settled: no change for 3 s, and (maxpeers: the nodes pick their own links) one connected mesh.
        break;
      }
      await sleep(250);
    }
  }
  const linkedAt = (performance.now() - t0) / 1000;
  const exact = params.alpha === 0 && params.gamma === 0;
  const linkedGraph = fromEdges(n, formedEdges);
  // The floor the model predicts for the graph formed (the window waits for the nodes to reach it).
  const steady = !bare && !exact && isConnected(linkedGraph) ? steadySpread(linkedGraph, params, opts.weights) : null;

  // ---------------------------------------------------------------- running
  const samples = [];
  const runStart = performance.now();
  if (!bare && exact) samples.push({ t: 0, ...(await sample()) });
  await Promise.all(workers.map((w) => call(w, 'run')));
  let convergedAfter = null;
  if (bare) await sleep(BARE_WARMUP_MS);
  else if (!exact) {
    while (performance.now() - runStart < WARMUP_MAX_MS) {
      const s = await sample();
      if (steady !== null && s.spread <= WARMUP_FLOOR_FACTOR * steady) {
        convergedAfter = (performance.now() - runStart) / 1000;
        break;
      }
      await sleep(500);
    }
  }
  const framesIn = async () => (bare
    ? (await Promise.all(workers.map((w) => call(w, 'cpu')))).reduce((a, c) => a + c.received, 0)
    : (await Promise.all(nodes.map((x) => status(x.port)))).reduce((a, s) => a + s.messages.in, 0));
  const frames0 = await framesIn();
  const cpu0 = await Promise.all(workers.map((w) => call(w, 'cpu')));
  const windowStart = performance.now();
  const end = windowStart + seconds * 1000;
  while (performance.now() < end) {
    if (!bare) samples.push({ t: (performance.now() - (exact ? runStart : windowStart)) / 1000, ...(await sample()) });
    await sleep(500);
  }
  const cpu1 = await Promise.all(workers.map((w) => call(w, 'cpu')));
  const wall = performance.now() - windowStart;
  const frames1 = await framesIn();
  const loadEnd = loadavg();
  let { all, edges } = bare ? { all: null, edges: formedEdges } : await formed();
  // Nodes that pick their own links (maxpeers) keep re-shuffling them under the degree cap until their
  // links are established (ESTABLISHED_PEER_CYCLES), so a snapshot can catch the mesh split for a moment
  // while a dropped node redials: give it the time a redial takes to heal before calling it split.
  let healedAfter = null;
  if (topologyName === 'maxpeers' && !isConnected(fromEdges(n, edges))) {
    const healStart = performance.now();
    while (performance.now() - healStart < MAXPEERS_HEAL_MS) {
      await sleep(250);
      ({ all, edges } = await formed());
      if (isConnected(fromEdges(n, edges))) {
        healedAfter = (performance.now() - healStart) / 1000;
        break;
      }
    }
  }

  // ---------------------------------------------------------------- report
  const g = fromEdges(n, edges);
  const degrees = Array.from({ length: n }, (_, i) => g.offsets[i + 1] - g.offsets[i]);
  const rho = bare ? null : slem(g, params, opts.weights).rho;
  const s0 = samples[0]?.spread ?? NaN;
  const reached = samples.find((s) => s.spread <= s0 / 1000);
  const steadyMeasured = exact || bare ? null : Math.sqrt(samples.reduce((a, s) => a + s.spread ** 2, 0) / Math.max(1, samples.length));
  const cpuPerProcess = cpu1.map((c, i) => ((c.cpuMs - cpu0[i].cpuMs) / wall) * 100);
  const cpuTotal = cpuPerProcess.reduce((a, b) => a + b, 0);
  const rssTotal = cpu1.reduce((a, c) => a + c.rss, 0) / 1e6;
  const round = (v) => Math.round(v * 100) / 100;
  const report = {
    transport: opts.transport, nodes: n, processes, topology: topologyName, k, maxPeers, weights: opts.weights, cycleMs, params, frameBytes: bare ? FRAME_BYTES : null,
    linkedAfterSeconds: linkedAt, healedAfterSeconds: healedAfter, dialFailures: failures.length, dialFailureReasons: failures.slice(0, 10), dialRetries: retries.length, dialRetryReasons: retries.slice(0, 10),
    links: edges.length, degree: { min: Math.min(...degrees), mean: (2 * edges.length) / n, max: Math.max(...degrees) },
    connected: isConnected(g), rho,
    // Why a node ended with no link: what its dialer was waiting for.
    isolated: bare ? [] : degrees.flatMap((d, i) => (d > 0 ? [] : [{
      node: i,
      dialTargets: all[i].dialTargets.map((t) => ({ address: t.address, lastError: t.lastError, dialInMs: t.nextDialAt === null ? null : Math.round(t.nextDialAt - Date.now()) })),
    }])),
    predictedCyclesTo1000: exact && !bare ? predictedCycles(rho) : null,
    measuredCyclesTo1000: exact && !bare ? (reached ? reached.cycle : null) : null,
    spreadStart: s0, spreadEnd: samples.at(-1)?.spread ?? NaN,
    steadySpreadMeasured: steadyMeasured, steadySpreadPredicted: steady,
    /** Seconds from the start of the cycles to the CPU window; null convergedAfterSeconds: the spread never came within WARMUP_FLOOR_FACTOR of the floor. */
    warmupSeconds: (windowStart - runStart) / 1000, convergedAfterSeconds: convergedAfter, windowSeconds: wall / 1000,
    cyclesPerSecond: bare ? null : all.map((s) => s.cyclesPerSecond).reduce((a, b) => a + b, 0) / n,
    framesPerSecond: ((frames1 - frames0) / wall) * 1000,
    rejects: bare ? null : all.reduce((a, s) => a + Object.values(s.rejects).reduce((x, y) => x + y, 0), 0),
    cpuPercentPerProcess: cpuPerProcess, cpuPercentTotal: cpuTotal, cpuPercentPerNode: cpuTotal / n,
    rssMBPerProcess: cpu1.map((c) => c.rss / 1e6), rssMBTotal: rssTotal, rssMBPerNode: rssTotal / n,
    rssBeforeMBPerProcess: cpu1.map((c) => c.rssBefore / 1e6),
    loadAverage: { start: loadStart.map(round), end: loadEnd.map(round) },
    samples,
  };
  const f = (v, d = 3) => (v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(d)) : String(v));
  if (samples.length > 0) {
    console.log(`\n  t (s)   cycle   spread${exact ? '' : '   (the CPU window)'}`);
    for (const s of samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || i === samples.length - 1)) {
      console.log(`  ${s.t.toFixed(1).padStart(5)}  ${String(s.cycle).padStart(6)}   ${s.spread.toExponential(3)}`);
    }
  }
  console.log(`
  linked (settled) after     ${f(report.linkedAfterSeconds, 1)} s${failures.length ? ` (${failures.length} dial(s) failed)` : ''}${retries.length ? ` (${retries.length} dial(s) tried again)` : ''}
  links formed               ${report.links} (degree min ${report.degree.min}, mean ${f(report.degree.mean, 2)}, max ${report.degree.max}); connected: ${report.connected ? 'yes' : 'NO'}${report.healedAfterSeconds !== null ? ` (split at the end of the window, one mesh again ${f(report.healedAfterSeconds, 1)} s later)` : ''}`);
  if (!bare) {
    console.log(`  SLEM of W (formed graph)   ${f(rho, 4)}
  cycles to 1/1000 spread    ${exact ? `measured ${f(report.measuredCyclesTo1000)} vs predicted ${f(report.predictedCyclesTo1000)} (sampled every 500 ms)` : '— (alpha and gamma must be 0)'}
  steady spread              ${exact ? '—' : `measured ${f(steadyMeasured, 4)} (RMS over the CPU window) vs predicted ${f(steady, 4)}; window opened ${f(report.warmupSeconds, 1)} s after the start${convergedAfter === null ? ` (the spread did not come within ${WARMUP_FLOOR_FACTOR}x of the floor)` : ''}`}
  cycles per second (mean)   ${f(report.cyclesPerSecond, 2)}
  frames rejected            ${report.rejects}`);
  }
  console.log(`  frames received per s      ${f(report.framesPerSecond, 0)}
  CPU per process            ${cpuPerProcess.map((c) => `${c.toFixed(1)} %`).join(', ')} of one core
  CPU in total               ${cpuTotal.toFixed(1)} % of one core (${(cpuTotal / n).toFixed(3)} % per node)
  RSS per process            ${report.rssMBPerProcess.map((r) => `${r.toFixed(0)} MB`).join(', ')} (before the ${bare ? 'pairs' : 'nodes'}: ${report.rssBeforeMBPerProcess.map((r) => r.toFixed(0)).join(', ')} MB)
  RSS in total               ${rssTotal.toFixed(0)} MB (${(rssTotal / n).toFixed(2)} MB per node)
  load average               ${report.loadAverage.start.join(' ')} at the start, ${report.loadAverage.end.join(' ')} at the end`);
  for (const reason of retries.slice(0, 10)) console.log(`  dial tried again: ${reason}`);
  for (const reason of failures.slice(0, 10)) console.log(`  dial failed: ${reason}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  await stopAll();
  process.exit(report.connected && (!bare || failures.length === 0) ? 0 : 1);
} catch (err) {
  console.error(`cluster: ${err.message}`);
  await stopAll();
  process.exit(1);
}
