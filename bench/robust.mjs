// The robust drift step (W-MSR) and the trust score, measured in the simulator and the pure model:
// convergence cost against plain averaging and the spectral prediction, the honest spread with a
// stubborn peer at [1e5, 1e5], and how fast trust is lost and earned. Row 8 of BENCHMARKS.md.
//
//   node bench/robust.mjs [--quick]     (after npm run build): prints the rows, writes nothing
//   import { robustRows } from './robust.mjs'; robustRows(results, { quick })   (from bench/run.mjs)
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../dist/main/model/prng.js';
import { fromLists, randomRegularGraph } from '../dist/main/sim/graph.js';
import { Simulator } from '../dist/main/sim/simulator.js';
import { predictedCycles, slem } from '../dist/main/sim/spectrum.js';
import { RejectBurst, TrustScore } from '../dist/main/model/trust.js';
import { TRUST_DROP_MIN, TRUST_PULL_MIN } from '../dist/main/model/limits.js';
import { fmt, load, Results } from './lib.mjs';

const ROW = 8;
const NOISY = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
const QUIET = { alpha: 0, beta: 0.1, gamma: 0 };
const ATTACKER_AT = [1e5, 1e5];

function initialDrifts(n, seed) {
  const random = seededRandom(seed);
  return Array.from({ length: 2 * n }, () => random() * 20 - 10);
}

/** g plus one node (index g.n) linked to each node of `to`. */
function withAttacker(g, to) {
  const lists = Array.from({ length: g.n }, (_, i) => Array.from(g.adj.subarray(g.offsets[i], g.offsets[i + 1])));
  lists.push([...to]);
  for (const i of to) lists[i].push(g.n);
  return fromLists(lists);
}

/** k distinct node indices of 0..n-1, seeded. */
function randomNodes(n, k, seed) {
  const random = seededRandom(seed);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, k).sort((a, b) => a - b);
}

/** Cycles until the spread is at most s0 / 1000 (alpha = gamma = 0), or null past the limit. */
function cyclesTo1000th(g, weighting, initial, limit) {
  const sim = new Simulator({ graph: g, params: QUIET, weighting, initial });
  const s0 = sim.spread();
  for (let c = 1; c <= limit; c++) {
    sim.run(1);
    if (sim.spread() <= s0 / 1000) return c;
  }
  return null;
}

/** RMS honest spread and the largest |honest centroid| per axis, after a burn-in. */
function steady(g, weighting, stubborn, burnIn, samples) {
  const sim = new Simulator({ graph: g, params: NOISY, weighting, stubborn, seedOf: (i) => 5000 + i });
  sim.run(burnIn);
  let s2 = 0;
  let centroid = 0;
  for (let t = 0; t < samples; t++) {
    sim.run(1);
    s2 += sim.honestSpread() ** 2;
    const [cx, cy] = sim.honestCentroid();
    centroid = Math.max(centroid, Math.abs(cx), Math.abs(cy));
  }
  return { spread: Math.sqrt(s2 / samples), centroid };
}

/** First simulated time (ms) a score fed `each` every 100 ms cycle falls below `below`, from `score` at `fromMs`. */
function timeBelow(score, fromMs, each, below, limitMs = 60 * 60_000) {
  for (let t = fromMs; t <= fromMs + limitMs; t += 100) {
    for (const kind of each) score.observe(kind, t);
    if (score.value(t) < below) return t - fromMs;
  }
  return Infinity;
}

function warmScore(minutes) {
  const s = new TrustScore(0);
  for (let t = 0; t < minutes * 60_000; t += 100) s.observe('fresh-message', t);
  return s;
}

/** Adds the W-MSR and trust rows to `results` (a bench/lib.mjs Results). */
export function robustRows(results, { quick = false } = {}) {
  console.log('robust step (W-MSR) and trust, simulator');
  const graphSeeds = quick ? [1, 2] : [1, 2, 3, 4, 5];

  // (a) Convergence cost: cycles to 1/1000 of the starting spread, alpha = gamma = 0, the same
  // random 6-regular graphs and starting drifts for both rules, next to the seed rule's SLEM prediction.
  for (const n of [20, 100]) {
    const runs = graphSeeds.map((seed) => {
      const g = randomRegularGraph(n, 6, 100 * n + seed);
      const initial = initialDrifts(n, seed);
      const predicted = predictedCycles(slem(g, QUIET, 'seed').rho);
      return { predicted, seed: cyclesTo1000th(g, 'seed', initial, 20 * predicted), wmsr: cyclesTo1000th(g, 'wmsr', initial, 20 * predicted) };
    });
    const mean = (k) => runs.reduce((s, r) => s + (r[k] ?? Infinity), 0) / runs.length;
    const detail = { graphs: runs.length, perGraph: runs };
    const label = `convergence N=${n} k=6 (mean of ${runs.length} graphs)`;
    results.add(ROW, `${label}: W-MSR cycles to 1/1000 spread`, 'cycles', mean('wmsr'), null, {
      ...detail, baseline: mean('seed'), baselineName: 'plain averaging (seed rule), same graphs and start',
    });
    results.add(ROW, `${label}: plain averaging cycles to 1/1000 spread`, 'cycles', mean('seed'), null, {
      ...detail, baseline: mean('predicted'), baselineName: 'predicted by the SLEM of the seed rule',
    });
    results.add(ROW, `${label}: W-MSR / plain averaging cycles`, 'ratio', mean('wmsr') / mean('seed'), null, detail);
  }

  // (b) Steady spread of the honest nodes with one stubborn peer at [1e5, 1e5].
  const burnIn = 3000;
  const samples = quick ? 5000 : 20_000;
  for (const n of quick ? [20] : [20, 100]) {
    const g = randomRegularGraph(n, 6, 7 * n);
    const calm = steady(g, 'seed', [], burnIn, samples);
    const calmWmsr = steady(g, 'wmsr', [], burnIn, samples);
    results.add(ROW, `steady honest spread N=${n} k=6, no attacker, W-MSR`, 'drift units', calmWmsr.spread, null, {
      centroid: calmWmsr.centroid, baseline: calm.spread, baselineName: 'no attacker, plain averaging',
    });
    const attacks = [
      ['linked to every honest node', Array.from({ length: n }, (_, i) => i)],
      ['linked to 6 random nodes', randomNodes(n, 6, n)],
    ];
    for (const [how, to] of attacks) {
      const ga = withAttacker(g, to);
      const stubborn = [{ node: n, at: ATTACKER_AT }];
      const robust = steady(ga, 'wmsr', stubborn, burnIn, samples);
      const plain = steady(ga, 'seed', stubborn, burnIn, samples);
      results.add(ROW, `steady honest spread N=${n}, stubborn peer at [1e5, 1e5] ${how}, W-MSR / no-attacker spread`, 'ratio', robust.spread / calm.spread, '<= 1.5', {
        spread: robust.spread, centroid: robust.centroid, baseline: calm.spread, baselineName: 'no-attacker honest spread, plain averaging (drift units)',
      });
      results.add(ROW, `max |honest centroid| N=${n}, stubborn peer ${how}, W-MSR`, 'drift units', robust.centroid, '< 10', {
        baseline: calmWmsr.centroid, baselineName: 'no attacker, W-MSR',
      });
      results.add(ROW, `max |honest centroid| N=${n}, stubborn peer ${how}, plain averaging (captured)`, 'drift units', plain.centroid, '> 1000', {
        spread: plain.spread, baseline: calm.centroid, baselineName: 'no attacker, plain averaging',
      });
    }
  }

  // (c) Simulator throughput of the W-MSR round next to the seed rule's (row 6 measures the seed and Metropolis loops).
  if (!quick) {
    const n = 10_000;
    const g = randomRegularGraph(n, 6, 1);
    const rate = (weighting) => {
      const sim = new Simulator({ graph: g, params: NOISY, weighting });
      sim.run(20);
      const t = performance.now();
      sim.run(300);
      return (n * 300) / ((performance.now() - t) / 1000);
    };
    const best = (f) => Math.max(f(), f(), f());
    const wmsrRate = best(() => rate('wmsr'));
    const seedRate = best(() => rate('seed'));
    results.add(ROW, 'simulator node-cycles/s, N=10,000 k=6, W-MSR', 'node-cycles/s', wmsrRate, null, { baseline: seedRate, baselineName: 'seed rule, same run', load: load() });
  }

  // (d) Trust (pure model, simulated clock, 100 ms cycles): how fast it is lost and earned.
  const honestAfter = warmScore(30).value(30 * 60_000);
  results.add(ROW, 'trust of an honest peer after 30 min at 10 messages/s', 'score', honestAfter, '>= 0.95', { thresholds: { pull: TRUST_PULL_MIN, drop: TRUST_DROP_MIN } });
  results.add(ROW, 'trust: a newcomer lying on every cycle stops pulling after', 's', timeBelow(new TrustScore(0), 0, ['outlier'], TRUST_PULL_MIN) / 1000, '<= 60', { threshold: TRUST_PULL_MIN });
  results.add(ROW, 'trust: a newcomer lying on every cycle is dropped after', 's', timeBelow(new TrustScore(0), 0, ['outlier'], TRUST_DROP_MIN) / 1000, '<= 120', { threshold: TRUST_DROP_MIN });
  results.add(ROW, 'trust: a peer trusted for 30 min, then lying on every cycle, stops pulling after', 's', timeBelow(warmScore(30), 30 * 60_000, ['outlier'], TRUST_PULL_MIN) / 1000, null, { threshold: TRUST_PULL_MIN });
  results.add(ROW, 'trust: a peer trusted for 30 min, then lying on every cycle, is dropped after', 's', timeBelow(warmScore(30), 30 * 60_000, ['outlier'], TRUST_DROP_MIN) / 1000, '<= 600', { threshold: TRUST_DROP_MIN });
  {
    const liar = new TrustScore(0);
    for (let t = 0; t < 10 * 60_000; t += 100) liar.observe('outlier', t);
    const start = 10 * 60_000;
    const at = {};
    for (let t = start; t <= start + 10 * 60_000; t += 100) {
      liar.observe('fresh-message', t);
      const v = liar.value(t);
      if (at.pull === undefined && v >= TRUST_PULL_MIN) at.pull = (t - start) / 1000;
      if (at.high === undefined && v >= 0.9) at.high = (t - start) / 1000;
    }
    results.add(ROW, 'trust: a liar of 10 min turned honest pulls again after', 's', at.pull ?? Infinity, null, { threshold: TRUST_PULL_MIN });
    results.add(ROW, 'trust: a liar of 10 min turned honest is back at 0.9 after', 's', at.high ?? Infinity, null);
  }
  {
    const burst = new RejectBurst();
    let tripped = Infinity;
    for (let k = 0; k < 10_000; k++) if (burst.record(k * 0.1)) { tripped = k * 0.1; break; }
    results.add(ROW, 'reject burst: 10,000 invalid frames/s trip it after', 'ms', tripped, '<= 1000', {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const results = new Results();
  robustRows(results, { quick });
  const table = ['| row | measurement | value | unit | target | met | baseline (same run) |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of results.rows) {
    table.push(`| ${r.row} | ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.target ?? '—'} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} | ${r.baseline !== undefined ? `${fmt(r.baseline)} (${r.baselineName})` : ''} |`);
  }
  console.log(`\n${table.join('\n')}\n\n${((Date.now() - started) / 1000).toFixed(0)} s, load average ${load().join(' ')}`);
  process.exit(results.rows.every((r) => r.met !== false) ? 0 : 1);
}
