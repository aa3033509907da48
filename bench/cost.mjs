// The cost row of the bench (issue 5, row 5) in a process of its own, so that its RSS is the
// nodes' and not what earlier rows left in the bench process. run.mjs starts it twice:
//   node --expose-gc bench/cost.mjs --mode node --n 100 --seconds 30 --out FILE
//     N real nodes (bench/cluster.mjs) on a random 6-regular graph at 10 Hz: CPU, RSS, idle CPU,
//     event-loop lag, SDM one-way latency and the steady spread (rows 2, 3, 5);
//   node --expose-gc bench/cost.mjs --mode raw --n 100 --seconds 30 --out FILE
//     the same graph and frame rate on bare node-datachannel (bench/raw.mjs rawMeshCost): the
//     transport's own cost, the baseline of the CPU row.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { spread } from '../dist/main/model/drift.js';
import { edgesOf, fromEdges, randomRegularGraph } from '../dist/main/sim/graph.js';
import { steadySpread } from '../dist/main/sim/spectrum.js';
import { Cluster } from './cluster.mjs';
import { rawMeshCost } from './raw.mjs';

const { values: opts } = parseArgs({
  options: {
    mode: { type: 'string' },
    n: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    out: { type: 'string' },
  },
});
const n = Number(opts.n);
const seconds = Number(opts.seconds);
if (!['node', 'raw'].includes(opts.mode) || !Number.isInteger(n) || n < 7 || !(seconds > 0) || !opts.out) {
  console.error('usage: node --expose-gc bench/cost.mjs --mode node|raw --n N (>= 7) --seconds S --out FILE');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const graph = randomRegularGraph(n, 6, 11);
global.gc?.();
const rssBefore = process.memoryUsage().rss;

async function nodeRun() {
  const params = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
  const cluster = await new Cluster().start({ n, params, cycleMs: 100 });
  try {
    // Per-link setup, 4 dials at a time (the 190-at-once mesh of row 4 measures contention, not a link).
    await cluster.link(edgesOf(graph), 4);
    await cluster.settle();
    const formedEdges = cluster.formedEdges();
    // Idle: linked, no cycles.
    await sleep(1000);
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    await sleep(3000);
    let c = process.cpuUsage(c0);
    const idleCpu = ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
    global.gc?.();
    const rssLinked = process.memoryUsage().rss;
    await cluster.startAll(100);
    await sleep(5000);
    const predictedSpread = steadySpread(fromEdges(n, formedEdges), params, 'seed');
    // Window 1: CPU, event-loop lag and the steady spread, with the latency probe off (its
    // per-frame bookkeeping is the bench's cost, not the nodes').
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const m0 = cluster.messages();
    c0 = process.cpuUsage();
    t0 = performance.now();
    let s2 = 0;
    let samples = 0;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      await sleep(100);
      s2 += spread(cluster.drifts()) ** 2;
      samples++;
    }
    c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    lag.disable();
    const rss = process.memoryUsage().rss;
    const messagesPerSecond = ((cluster.messages() - m0) / wall) * 1000;
    // Window 2: SDM one-way latency.
    cluster.recordLatency = true;
    await sleep(Math.min(seconds, 15) * 1000);
    cluster.recordLatency = false;
    return {
      links: formedEdges.length,
      cpu: ((c.user + c.system) / 1000 / wall) * 100,
      rss,
      rssBefore,
      rssLinked,
      idleCpu,
      lagP99Ms: lag.percentile(99) / 1e6,
      messagesPerSecond,
      latencies: cluster.latencies,
      dialMs: cluster.dialMs,
      measuredSpread: Math.sqrt(s2 / samples),
      predictedSpread,
      spreadSamples: samples,
    };
  } finally {
    await cluster.stop();
  }
}

const result = opts.mode === 'node' ? await nodeRun() : { ...(await rawMeshCost({ n, edges: edgesOf(graph), seconds, latencySeconds: Math.min(seconds, 15) })), rssBefore };
writeFileSync(opts.out, JSON.stringify(result));
process.exit(0);
