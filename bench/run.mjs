// npm run bench [-- --quick] [-- --write]: the scale-and-speed benchmark (issue 5). Prints a table and
// writes results.json, results-meta.json, results.md (BENCHMARKS.md's table) and SVG plots to out/bench/
// (ignored by git); --write also updates the committed copies and BENCHMARKS.md (bench/output.mjs).
import { spawnSync } from 'node:child_process';
import { linkSetupRows } from './link-setup.mjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { driftStep, sampleEntropy, spread } from '../dist/main/model/drift.js';
import { seededRandom } from '../dist/main/model/prng.js';
import { completeGraph, edgesOf, fromEdges, randomRegularGraph, topology } from '../dist/main/sim/graph.js';
import { Simulator } from '../dist/main/sim/simulator.js';
import { encodeMessage, parseFrame, parseFrameGeneral } from '../dist/main/protocol/messages.js';
import { predictedCycles, slem } from '../dist/main/sim/spectrum.js';
import { Cluster } from './cluster.mjs';
import { histogramSvg, load, logPlotSvg, percentile, Results, fmt } from './lib.mjs';
import { BenchOutput, OUT_DIR } from './output.mjs';
import { rawBaseline } from './raw.mjs';
import { robustRows } from './robust.mjs';
import { simScaleRows } from './sim-scale.mjs';
import { scaleRows } from './scale.mjs';

const USAGE = `usage: npm run bench -- [--quick] [--write]
  --quick   the reduced set (~3 min): N = 2, 20; 1M-cycle long run; simulator study up to N = 10^4
  --write   also update the committed results: bench/results*.json, bench/results.md, docs/bench-*.svg
            and BENCHMARKS.md's generated section (without it a run writes to ${OUT_DIR}/bench/ only)`;

let args;
try {
  ({ values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, write: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }));
} catch (err) {
  console.error(`bench: ${err.message.replace(/\s*\n\s*/g, ' ')} (--help lists the options)`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = args.quick;
const output = new BenchOutput({ write: args.write });
try {
  output.checkBenchmarksMd();
} catch (err) {
  console.error(`bench: ${err.message}`);
  process.exit(2);
}
const results = new Results();
const startedAt = new Date();
const loads = { start: load() };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
console.log(`lvs-node bench (${quick ? 'quick' : 'full'}), ${cpus().length} cores, load average ${loads.start.join(' ')}`);

function initialRandom(seed) {
  const random = seededRandom(seed);
  return () => [random() * 20 - 10, random() * 20 - 10];
}

// ------------------------------------------------------------------ 1. convergence, networked
const plotSeries = [];
async function convergence(n, weights, cycleMs) {
  const k = Math.min(6, n - 1);
  const g = n <= 2 ? completeGraph(n) : topology('regular', n, k, n);
  const cluster = await new Cluster().start({ n, params: { alpha: 0, beta: 0.1, gamma: 0 }, weights, cycleMs, initial: initialRandom(n) });
  try {
    await cluster.link(edgesOf(g));
    await cluster.settle();
    const formed = fromEdges(n, cluster.formedEdges());
    const rho = slem(formed, { alpha: 0, beta: 0.1, gamma: 0 }, weights).rho;
    const predicted = predictedCycles(rho);
    const s0 = spread(cluster.drifts());
    const series = [[0, s0]];
    let measured = null;
    // Rounds: round c is complete when every node has run c cycles; the spread is read then.
    const cycles = cluster.nodes.map(() => 0);
    let round = 0;
    const done = new Promise((resolve) => {
      cluster.nodes.forEach(({ node }, i) => node.events.on('cycle', (e) => {
        cycles[i] = e.cycle;
        const complete = Math.min(...cycles);
        if (complete <= round) return;
        round = complete;
        const s = spread(cluster.drifts());
        series.push([round, s]);
        if (measured === null && s <= s0 / 1000) {
          measured = round;
          resolve();
        }
        if (round > 5 * predicted + 50) resolve();
      }));
    });
    cluster.startAll();
    // Every round takes about cycleMs; a run that stops making rounds is reported, not waited for forever.
    const limitMs = (5 * predicted + 60) * cycleMs * 4 + 10_000;
    let guard;
    const stalled = new Promise((resolve) => {
      guard = setTimeout(() => resolve('stalled'), limitMs);
    });
    if ((await Promise.race([done, stalled])) === 'stalled') {
      console.log(`  N=${n} ${weights}: stalled at round ${round} after ${limitMs} ms; cycles per node: ${cycles.join(',')}`);
    }
    clearTimeout(guard);
    const ratio = measured === null ? Infinity : measured / Math.max(1, predicted);
    results.add(1, `convergence N=${n} ${weights}: measured/predicted cycles to 1/1000 spread`, 'ratio', ratio, '<= 1.2', {
      measured, predicted, rho, links: formed.adj.length / 2, baseline: predicted, baselineName: 'predicted cycles (SLEM of formed graph)',
    });
    plotSeries.push({ n, weights, series, predicted: series.map(([c]) => [c, s0 * rho ** c]) });
  } finally {
    await cluster.stop();
  }
}

const convNs = quick ? [2, 20] : [2, 20, 50, 100];
for (const n of convNs) for (const w of ['seed', 'metropolis']) await convergence(n, w, 50);
{
  const big = plotSeries.filter((p) => p.n === convNs[convNs.length - 1]);
  const colors = { seed: '#1f77b4', metropolis: '#d62728' };
  output.file('bench-convergence.svg', logPlotSvg(
    `Spread vs cycle, ${big[0]?.n} real nodes, 6-regular, alpha = gamma = 0`, 'round (cycles completed by every node)', 'spread (RMS distance to centroid)',
    big.flatMap((p) => [
      { label: `${p.weights}: measured`, color: colors[p.weights], points: p.series },
      { label: `${p.weights}: predicted s0 * rho^t`, color: colors[p.weights], dash: true, points: p.predicted.filter(([, y]) => y > 1e-6) },
    ]),
  ));
}

// ------------------------------------------------------------------ 3a. raw baseline (latency and setup)
console.log('raw node-datachannel baseline');
const raw = await rawBaseline({ pairs: quick ? 8 : 20, count: quick ? 100 : 300, hz: 10 });

// ------------------------------------------------------------------ 3b. SDM latency at N=2, 10 Hz
async function latencyRun(n, seconds) {
  const cluster = await new Cluster().start({ n, params: { alpha: 0.05, beta: 0.1, gamma: 0.001 }, cycleMs: 100 });
  try {
    await cluster.link(edgesOf(n <= 2 ? completeGraph(n) : randomRegularGraph(n, 6, 3)));
    await cluster.settle();
    await cluster.startAll(100);
    await sleep(1000);
    cluster.recordLatency = true;
    await sleep(seconds * 1000);
    cluster.recordLatency = false;
    return { latencies: cluster.latencies, dialMs: cluster.dialMs };
  } finally {
    await cluster.stop();
  }
}
console.log('SDM latency, N=2');
const lat2 = await latencyRun(2, quick ? 10 : 30);
const rawP50 = percentile(raw.latencies, 0.5);
const rawP99 = percentile(raw.latencies, 0.99);
results.add(3, 'SDM one-way latency p50, N=2, 10 Hz', 'ms', percentile(lat2.latencies, 0.5), '< 1', { samples: lat2.latencies.length, baseline: rawP50, baselineName: 'raw node-datachannel one-way p50' });
results.add(3, 'SDM one-way latency p99, N=2, 10 Hz', 'ms', percentile(lat2.latencies, 0.99), '< 5', { samples: lat2.latencies.length, baseline: rawP99, baselineName: 'raw node-datachannel one-way p99' });
results.add(3, 'SDM latency overhead over raw, p50, N=2', 'ratio', percentile(lat2.latencies, 0.5) / rawP50, '<= 2', { baseline: rawP50, baselineName: 'raw one-way p50 (ms)' });

// ------------------------------------------------------------------ 4. connection setup, 20-node full mesh
async function meshSetup() {
console.log('connection setup, 20-node full mesh');
  const cluster = await new Cluster().start({ n: 20, params: { alpha: 0.05, beta: 0.1, gamma: 0.001 }, cycleMs: 100 });
  try {
    const wall = await cluster.link(edgesOf(completeGraph(20)), 190);
    const links = cluster.formedEdges().length;
    const meshDial = cluster.dialMs;
    results.add(4, '20-node full mesh fully linked (190 dials in parallel, one process)', 's', wall / 1000, '< 5', { links, dialP50Ms: percentile(meshDial, 0.5), dialP99Ms: percentile(meshDial, 0.99) });
    // The proof of identity's part of each setup, in the same dials: DataChannel up -> both proofs checked.
    const proof = cluster.proofMs();
    results.add(9, 'proof of identity per link p50 (channel up to proven, both ends)', 'ms', percentile(proof, 0.5), null, { samples: proof.length, baseline: percentile(meshDial, 0.5), baselineName: 'whole dial p50 in the same mesh, proof included (ms)' });
    results.add(9, 'proof of identity per link p99', 'ms', percentile(proof, 0.99), null, { baseline: percentile(meshDial, 0.99), baselineName: 'whole dial p99 in the same mesh, proof included (ms)' });
    results.add(9, 'dial p50 without the proof (same dials, proof time taken out)', 'ms', percentile(meshDial, 0.5) - percentile(proof, 0.5), null, { baseline: percentile(meshDial, 0.5), baselineName: 'dial p50 with the proof (ms)' });
  } finally {
    await cluster.stop();
  }
}

// ------------------------------------------------------------------ 5 + 2 + 3c. cost at 10 Hz, k=6; steady spread; SDM latency at N
/** Runs bench/cost.mjs in a fresh process (its RSS is then the nodes' own) and returns its JSON. */
function costProcess(mode, n, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-bench-'));
  try {
    const out = join(dir, 'cost.json');
    const run = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./cost.mjs', import.meta.url)), '--mode', mode, '--n', String(n), '--seconds', String(seconds), '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`bench/cost.mjs --mode ${mode} exited with ${run.status ?? run.signal}`);
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

{
  const n = quick ? 20 : 100;
  const seconds = quick ? 15 : 30;
  console.log(`cost, steady spread and latency: ${n} nodes, 6-regular, 10 Hz (fresh process), and the bare transport on the same graph`);
  const node = costProcess('node', n, seconds);
  const rawCost = costProcess('raw', n, seconds);
  results.add(5, `event-loop lag p99 during the ${n}-node run`, 'ms', node.lagP99Ms, null);
  results.add(5, `CPU, ${n} nodes k=6 at 10 Hz, one process`, '% of one core', node.cpu, quick ? null : '<= 50', {
    messagesPerSecond: Math.round(node.messagesPerSecond), load: load(),
    baseline: rawCost.cpu, baselineName: `bare node-datachannel, same graph and frame rate, one process (${Math.round(rawCost.messagesPerSecond)} msg/s)`,
  });
  results.add(5, `CPU overhead over the bare transport, ${n} nodes`, 'ratio', node.cpu / rawCost.cpu, null, { baseline: rawCost.cpu, baselineName: 'bare node-datachannel CPU (% of one core)' });
  results.add(5, `RSS, ${n} nodes k=6 at 10 Hz (process of their own)`, 'MB', node.rss / 1e6, quick ? null : '<= 300', {
    baseline: node.rssBefore / 1e6, baselineName: 'RSS of that process before the nodes started (MB)', rawRssMB: rawCost.rss / 1e6,
  });
  results.add(5, 'CPU per idle connection (linked, not cycling)', '% of one core', node.idleCpu / node.links, null, { links: node.links });
  results.add(5, 'RSS per connection', 'kB', (node.rssLinked - node.rssBefore) / 1e3 / node.links, null, { links: node.links, note: 'RSS after linking minus before the nodes were created (both after gc), divided by links; includes each node\'s HTTP server and transport' });
  results.add(2, `steady spread with entropy, ${n} nodes k=6, seed rule: measured/predicted (XBK)`, 'ratio', node.measuredSpread / node.predictedSpread, '0.8..1.2', {
    measured: node.measuredSpread, predicted: node.predictedSpread, samples: node.spreadSamples, baseline: node.predictedSpread, baselineName: 'predicted RMS spread (synchronous W)',
  });
  const lat = node.latencies;
  const meshP50 = percentile(rawCost.latencies, 0.5);
  results.add(3, `SDM one-way latency p50, N=${n}, 10 Hz`, 'ms', percentile(lat, 0.5), '< 1', { samples: lat.length, baseline: meshP50, baselineName: `bare node-datachannel one-way p50, same ${n}-node mesh and timing`, rawPairP50: rawP50 });
  results.add(3, `SDM one-way latency p99, N=${n}, 10 Hz`, 'ms', percentile(lat, 0.99), '< 5', { samples: lat.length, baseline: percentile(rawCost.latencies, 0.99), baselineName: `bare node-datachannel one-way p99, same ${n}-node mesh and timing`, rawPairP99: rawP99 });
  results.add(3, `SDM latency overhead over raw, p50, N=${n}`, 'ratio', percentile(lat, 0.5) / meshP50, '<= 2', { baseline: meshP50, baselineName: `bare mesh one-way p50 (ms), same ${n}-node graph and timing` });
  output.file('bench-latency.svg', histogramSvg('SDM one-way latency (sent -> applied at the peer) vs raw node-datachannel', [
    { label: `raw node-datachannel (${raw.latencies.length})`, values: raw.latencies },
    { label: `node, N=2 (${lat2.latencies.length})`, values: lat2.latencies },
    { label: `node, N=${n} k=6 (${lat.length})`, values: lat },
    { label: `bare mesh, N=${n} k=6 (${rawCost.latencies.length})`, values: rawCost.latencies },
  ]));
}

await meshSetup();

// ------------------------------------------------------------------ 4. link setup against the bare library (bench/link-setup.mjs)
await linkSetupRows(results);

// ------------------------------------------------------------------ 14. 250 nodes over processes, next to the bare transport
if (quick) console.log('row 14 (250 nodes over processes): full run only, or node bench/scale.mjs');
else output.file('bench-scale.svg', scaleRows(results).svg);

// ------------------------------------------------------------------ 5b. per-frame JavaScript cost
{
  // What one inbound cycle frame costs in JavaScript: parseFrame (the sdm fast path) and parseFrameGeneral
  // (JSON.parse, finite-number scan, zod: every other frame) vs JSON.parse alone.
  const frame = encodeMessage({ type: 'sdm', v: 2, seq: 123456, diff: [0.012345678901234567, -0.0034567890123456], e: [0.4123456789012345, -0.7712345678901234] });
  const perFrameUs = (f) => {
    const reps = 200_000;
    const t = performance.now();
    for (let i = 0; i < reps; i++) f();
    return ((performance.now() - t) * 1000) / reps;
  };
  const best = (f) => Math.min(perFrameUs(f), perFrameUs(f), perFrameUs(f));
  const parse = best(() => { if (!parseFrame(frame).ok) throw new Error('bench frame rejected'); });
  const bare = best(() => JSON.parse(frame));
  const general = best(() => { if (!parseFrameGeneral(frame).ok) throw new Error('bench frame rejected'); });
  results.add(5, 'parse + validate one sdm frame (parseFrame, fast path)', 'µs', parse, null, { baseline: bare, baselineName: 'JSON.parse alone (µs)', frameBytes: frame.length });
  results.add(5, 'parse + validate one sdm frame the general way (parseFrameGeneral: JSON.parse, zod)', 'µs', general, null, { baseline: parse, baselineName: 'parseFrame fast path (µs)' });
}

// ------------------------------------------------------------------ 6. simulator throughput
console.log('simulator throughput, N=10,000, k=6');
{
  const n = 10_000;
  const g = randomRegularGraph(n, 6, 1);
  const params = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
  const cycles = quick ? 200 : 1000;
  const rate = (weighting) => {
    const sim = new Simulator({ graph: g, params, weighting });
    sim.run(20);
    const t = performance.now();
    sim.run(cycles);
    return (n * cycles) / ((performance.now() - t) / 1000);
  };
  // The naive loop: arrays of [x, y], a peers array per node per cycle, driftStep and a closure PRNG.
  const naive = () => {
    const nbrs = Array.from({ length: n }, (_, i) => Array.from(g.adj.subarray(g.offsets[i], g.offsets[i + 1])));
    let xs = Array.from({ length: n }, () => [0, 0]);
    const rngs = Array.from({ length: n }, (_, i) => seededRandom(1000 + i));
    const step = () => {
      const next = new Array(n);
      for (let i = 0; i < n; i++) next[i] = driftStep(xs[i], nbrs[i].map((j) => xs[j]), sampleEntropy(rngs[i]), params).drift;
      xs = next;
    };
    for (let c = 0; c < 5; c++) step();
    const naiveCycles = Math.max(20, cycles / 5);
    const t = performance.now();
    for (let c = 0; c < naiveCycles; c++) step();
    return (n * naiveCycles) / ((performance.now() - t) / 1000);
  };
  // Best of 3 for each (the same treatment for the baseline): other processes share these 2 cores.
  const best = (f) => Math.max(f(), f(), f());
  const seedRate = best(() => rate('seed'));
  const mhRate = best(() => rate('metropolis'));
  const naiveRate = best(naive);
  results.add(6, 'simulator node-cycles/s, N=10,000 k=6, seed rule', 'node-cycles/s', seedRate, '>= 25000000', { baseline: naiveRate, baselineName: 'naive loop (arrays, driftStep, closures)', load: load() });
  results.add(6, 'simulator node-cycles/s, N=10,000 k=6, metropolis', 'node-cycles/s', mhRate, '>= 25000000', { baseline: naiveRate, baselineName: 'naive loop (arrays, driftStep, closures)' });
}

// ------------------------------------------------------------------ 7. long-run stability
{
  const total = quick ? 1_000_000 : 10_000_000;
  console.log(`long run: 10 nodes all-to-all, ${total} cycles`);
  const wander = (gamma) => {
    const sim = new Simulator({ graph: completeGraph(10), params: { alpha: 0.05, beta: 0.1, gamma }, seedOf: (i) => 3000 + i });
    let worst = 0;
    const chunk = 1000;
    for (let c = 0; c < total; c += chunk) {
      sim.run(chunk);
      const [cx, cy] = sim.centroid();
      worst = Math.max(worst, Math.abs(cx), Math.abs(cy));
    }
    return worst;
  };
  const sigma = 0.05 * Math.sqrt(1 / 20) / Math.sqrt(1 - (1 - 0.001) ** 2);
  const bounded = wander(0.001);
  const free = wander(0);
  results.add(7, `max |centroid| per axis over ${total} cycles, 10 nodes, gamma = 0.001`, 'drift units', bounded, `<= ${(6 * sigma).toFixed(3)}`, { sigma, note: 'target: 6 sigma of the stationary AR(1) mean' });
  results.add(7, `max |centroid| per axis over ${total} cycles, 10 nodes, gamma = 0`, 'drift units', free, `> ${(6 * sigma).toFixed(3)}`, { note: 'without gravity the mean random-walks past the gamma > 0 bound' });
}

// ------------------------------------------------------------------ 8. robust step (W-MSR) and trust, simulator
robustRows(results, { quick });

// ------------------------------------------------------------------ 10-13. the simulator at scale (bench/sim-scale.mjs; alone: node bench/sim-scale.mjs)
await simScaleRows(results, { quick, output });

loads.end = load();
const meta = { mode: quick ? 'quick' : 'full', date: startedAt.toISOString(), cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverage: loads, seconds: (Date.now() - startedAt.getTime()) / 1000 };
output.file('results.json', JSON.stringify(results.rows.map(({ row, ...r }) => ({ row, ...r })), null, 2) + '\n');
output.file('results-meta.json', JSON.stringify(meta, null, 2) + '\n');
const table = ['| row | measurement | value | unit | target | met | baseline (same run) |', '| --- | --- | --- | --- | --- | --- | --- |'];
for (const r of results.rows) {
  table.push(`| ${r.row} | ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.target ?? '—'} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} | ${r.baseline !== undefined ? `${fmt(r.baseline)} (${r.baselineName})` : ''} |`);
}
const resultsMd = `Run: ${meta.mode}, ${meta.date}, ${meta.cores} cores (${meta.cpu}), Node ${meta.node}, load average ${loads.start.join(' ')} at start / ${loads.end.join(' ')} at end, ${meta.seconds.toFixed(0)} s.\n\n${table.join('\n')}\n`;
output.file('results.md', resultsMd);
output.benchmarksMd(resultsMd);
console.log(`\n${table.join('\n')}\n\nload average: start ${loads.start.join(' ')}, end ${loads.end.join(' ')}; ${meta.seconds.toFixed(0)} s; wrote ${output.written.join(', ')}`);
process.exit(0);
