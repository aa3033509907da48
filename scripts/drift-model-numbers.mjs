#!/usr/bin/env node
// Prints the numbers docs/drift-model.md cites. Deterministic (seeded).
// Needs the compiled model: run `tsc -b` first (npm run model-numbers does).
//
//   node scripts/drift-model-numbers.mjs            # centroid run: 1e6 cycles
//   node scripts/drift-model-numbers.mjs --cycles 1e7

import { driftDiffInto, driftStep, distance, sampleEntropy, spread, DEFAULT_DRIFT_PARAMS } from '../dist/main/model/drift.js';
import { seededRandom } from '../dist/main/model/prng.js';

const argIdx = process.argv.indexOf('--cycles');
const WANDER_CYCLES = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 1e6;

const { alpha, beta, gamma } = DEFAULT_DRIFT_PARAMS;
const A0 = [5, 1];
const B0 = [-2, -3];
const D0 = distance(A0, B0);
const f = (v, d = 4) => v.toFixed(d);
const vec = (v, d = 2) => `[${f(v[0], d)}, ${f(v[1], d)}]`;

console.log(`drift model numbers (alpha=${alpha}, beta=${beta}, gamma=${gamma}; start A=${vec(A0, 0)}, B=${vec(B0, 0)}, |A-B|=${f(D0)})`);

// ---------------------------------------------------------------------------
// 1. The note's literal reading: E = [random(), random()],
//    D_i = alpha*normalize(E_i) + beta*avg(peers' last D), x_i += D_i.
// ---------------------------------------------------------------------------
{
  const rnd = seededRandom(1);
  const a = [...A0];
  const b = [...B0];
  let lastA = [0, 0];
  let lastB = [0, 0];
  const marks = new Set([10, 13, 100, 1000, 10000]);
  const out = [];
  for (let t = 1; t <= 10000; t++) {
    const ea = [rnd(), rnd()];
    const eb = [rnd(), rnd()];
    const na = Math.hypot(ea[0], ea[1]);
    const nb = Math.hypot(eb[0], eb[1]);
    const da = [(alpha * ea[0]) / na + beta * lastB[0], (alpha * ea[1]) / na + beta * lastB[1]];
    const db = [(alpha * eb[0]) / nb + beta * lastA[0], (alpha * eb[1]) / nb + beta * lastA[1]];
    a[0] += da[0]; a[1] += da[1];
    b[0] += db[0]; b[1] += db[1];
    lastA = da;
    lastB = db;
    if (marks.has(t)) out.push({ t, d: distance(a, b), m: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] });
  }
  // E[normalize(E)_x] for E uniform in [0,1)^2 = (sqrt2 + asinh(1) - 1) / 2.
  const mu = (Math.SQRT2 + Math.asinh(1) - 1) / 2;
  const T = 10000;
  const predMeanShift = ((alpha * mu) / (1 - beta)) * (T - (beta * (1 - beta ** T)) / (1 - beta));
  // Per-axis std of d(T) - d0: alpha*sqrt(2*var_e)/(1+beta)*sqrt(T), var_e = 1/2 - mu^2.
  const varE = 0.5 - mu * mu;
  console.log('\n1. note, literal reading (seed 1):');
  for (const r of out) console.log(`   cycle ${String(r.t).padStart(5)}: distance ${f(r.d)}  mean ${vec(r.m)}`);
  console.log(`   predicted mean after ${T}: ${vec([(A0[0] + B0[0]) / 2 + predMeanShift, (A0[1] + B0[1]) / 2 + predMeanShift])}` +
    ` (+${f(predMeanShift, 2)} per axis, ±${f((alpha * Math.sqrt(varE / 2) / (1 - beta)) * Math.sqrt(T), 2)} 1-sigma)`);
  for (const t of [10, 100, 10000]) {
    console.log(`   distance after ${String(t).padStart(5)}: expected difference vector stays ${vec([A0[0] - B0[0], A0[1] - B0[1]], 0)}; ` +
      `per-axis random-walk std ${f(((alpha * Math.sqrt(2 * varE)) / (1 + beta)) * Math.sqrt(t), 3)}`);
  }
}

// Averaged over seeds, the literal reading keeps A - B where it started.
{
  const seeds = 200;
  const T = 1000;
  const lit = [0, 0];
  const ours = [0, 0];
  for (let s = 0; s < seeds; s++) {
    let rnd = seededRandom(1000 + s);
    const a = [...A0];
    const b = [...B0];
    let lastA = [0, 0];
    let lastB = [0, 0];
    for (let t = 0; t < T; t++) {
      const ea = [rnd(), rnd()];
      const eb = [rnd(), rnd()];
      const na = Math.hypot(ea[0], ea[1]);
      const nb = Math.hypot(eb[0], eb[1]);
      const da = [(alpha * ea[0]) / na + beta * lastB[0], (alpha * ea[1]) / na + beta * lastB[1]];
      const db = [(alpha * eb[0]) / nb + beta * lastA[0], (alpha * eb[1]) / nb + beta * lastA[1]];
      a[0] += da[0]; a[1] += da[1]; b[0] += db[0]; b[1] += db[1];
      lastA = da; lastB = db;
    }
    lit[0] += (a[0] - b[0]) / seeds; lit[1] += (a[1] - b[1]) / seeds;
    rnd = seededRandom(1000 + s);
    let x = [...A0];
    let y = [...B0];
    for (let t = 0; t < T; t++) {
      const sx = driftStep(x, [y], sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
      const sy = driftStep(y, [x], sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
      x = sx.drift; y = sy.drift;
    }
    ours[0] += (x[0] - y[0]) / seeds; ours[1] += (x[1] - y[1]) / seeds;
  }
  console.log(`   A-B after ${T} cycles, mean over ${seeds} seeds: literal ${vec(lit, 3)} (start [7, 4]); ours ${vec(ours, 3)}`);
}

// ---------------------------------------------------------------------------
// 2. Our model, same start: cycles to |A-B| < 0.5.
// ---------------------------------------------------------------------------
{
  const p0 = { alpha: 0, beta, gamma: 0 };
  const predicted = Math.ceil(Math.log(0.5 / D0) / Math.log(1 - 2 * beta));
  let a = [...A0];
  let b = [...B0];
  let t = 0;
  while (distance(a, b) >= 0.5) {
    const sa = driftStep(a, [b], [1, 0], p0);
    const sb = driftStep(b, [a], [1, 0], p0);
    a = sa.drift; b = sb.drift; t++;
  }
  // With entropy and gravity (defaults), seeded.
  const rnd = seededRandom(1);
  let a2 = [...A0];
  let b2 = [...B0];
  let t2 = -1;
  const at = [];
  for (let t = 1; t <= 10000; t++) {
    const sa = driftStep(a2, [b2], sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
    const sb = driftStep(b2, [a2], sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
    a2 = sa.drift; b2 = sb.drift;
    if (t2 < 0 && distance(a2, b2) < 0.5) t2 = t;
    if (t === 10 || t === 100 || t === 10000) at.push(`${t}: ${f(distance(a2, b2))}`);
  }
  console.log('\n2. our model, same start:');
  console.log(`   alpha=gamma=0: |A-B| < 0.5 first at cycle ${t} (ceil(ln(0.5/${f(D0)})/ln(${1 - 2 * beta})) = ${predicted})`);
  console.log(`   defaults, seed 1: |A-B| < 0.5 first at cycle ${t2}; distance after ${at.join(', ')}; ` +
    `mean after 10000 ${vec([(a2[0] + b2[0]) / 2, (a2[1] + b2[1]) / 2], 3)}`);
}

// ---------------------------------------------------------------------------
// 3. Noise floor of two nodes (defaults).
// ---------------------------------------------------------------------------
{
  const rho = 1 - 2 * beta - gamma;
  const predStd = alpha / Math.sqrt(1 - rho * rho);
  const approx = alpha / Math.sqrt(1 - (1 - 2 * beta) ** 2);
  const rnd = seededRandom(2);
  const x = new Float64Array([5, 1, -2, -3]);
  const da = new Float64Array(2);
  const db = new Float64Array(2);
  const burn = 1000;
  const N = 1_000_000;
  let s2x = 0, s2y = 0, sd = 0, sd2 = 0, svu = 0;
  for (let t = 0; t < burn + N; t++) {
    driftDiffInto(da, x[0], x[1], x[2] - x[0], x[3] - x[1], rnd() * 2 - 1, rnd() * 2 - 1, DEFAULT_DRIFT_PARAMS);
    driftDiffInto(db, x[2], x[3], x[0] - x[2], x[1] - x[3], rnd() * 2 - 1, rnd() * 2 - 1, DEFAULT_DRIFT_PARAMS);
    x[0] += da[0]; x[1] += da[1]; x[2] += db[0]; x[3] += db[1];
    if (t >= burn) {
      const dx = x[0] - x[2];
      const dy = x[1] - x[3];
      s2x += dx * dx; s2y += dy * dy;
      const d = Math.hypot(dx, dy);
      sd += d; sd2 += d * d; svu += 1 / (1 + d); // vu of either node: its one peer is the other
    }
  }
  console.log(`\n3. noise floor, two nodes (seed 2, ${N} cycles after ${burn} burn-in):`);
  console.log(`   per-axis std of A-B: measured x ${f(Math.sqrt(s2x / N))}, y ${f(Math.sqrt(s2y / N))}; ` +
    `predicted alpha/sqrt(1-(1-2beta-gamma)^2) = ${f(predStd)} (gamma=0 form ${f(approx)})`);
  console.log(`   distance: mean ${f(sd / N)} (Rayleigh approx ${f(predStd * Math.sqrt(Math.PI / 2))}), ` +
    `rms ${f(Math.sqrt(sd2 / N))} (exact ${f(predStd * Math.SQRT2)}); mean vu ${f(svu / N, 3)}`);
}

// ---------------------------------------------------------------------------
// 4. Centroid wander: 10 nodes all-to-all, gamma = 0.001 vs 0.
// ---------------------------------------------------------------------------
function centroidWander(n, cycles, params, seed) {
  const rnd = seededRandom(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const nx = new Float64Array(n);
  const ny = new Float64Array(n);
  const d = new Float64Array(2);
  for (let i = 0; i < n; i++) { x[i] = rnd() * 2 - 1; y[i] = rnd() * 2 - 1; }
  let max = 0;
  let m0 = 0;
  for (let t = 0; t <= cycles; t++) {
    let sx = 0, sy = 0;
    for (let i = 0; i < n; i++) { sx += x[i]; sy += y[i]; }
    const mx = Math.abs(sx / n);
    const my = Math.abs(sy / n);
    if (t === 0) m0 = Math.max(mx, my);
    if (mx > max) max = mx;
    if (my > max) max = my;
    if (t === cycles) return { max, final: [sx / n, sy / n], m0 };
    for (let i = 0; i < n; i++) {
      const px = (sx - x[i]) / (n - 1) - x[i];
      const py = (sy - y[i]) / (n - 1) - y[i];
      driftDiffInto(d, x[i], y[i], px, py, rnd() * 2 - 1, rnd() * 2 - 1, params);
      nx[i] = x[i] + d[0];
      ny[i] = y[i] + d[1];
    }
    x.set(nx);
    y.set(ny);
  }
}
{
  const n = 10;
  const sigma = alpha * Math.sqrt(1 / (2 * n)) / Math.sqrt(1 - (1 - gamma) ** 2);
  const walk = alpha * Math.sqrt(1 / (2 * n)) * Math.sqrt(WANDER_CYCLES);
  const t0 = performance.now();
  const g = centroidWander(n, WANDER_CYCLES, { alpha, beta, gamma }, 3);
  const z = centroidWander(n, WANDER_CYCLES, { alpha, beta, gamma: 0 }, 3);
  const ms = performance.now() - t0;
  console.log(`\n4. centroid of ${n} nodes, all-to-all, ${WANDER_CYCLES.toExponential(0)} cycles (seed 3, ${(ms / 1000).toFixed(1)} s for both runs):`);
  console.log(`   gamma=${gamma}: max |mean| per axis ${f(g.max, 3)} (start ${f(g.m0, 3)}; stationary std ${f(sigma, 4)}, 6 sigma = ${f(6 * sigma, 3)}); final ${vec(g.final, 3)}`);
  console.log(`   gamma=0    : max |mean| per axis ${f(z.max, 3)} (random walk, std after ${WANDER_CYCLES.toExponential(0)} cycles ${f(walk, 2)}); final ${vec(z.final, 3)}`);
  console.log(`   ratio ${f(z.max / g.max, 1)}x`);
}

// ---------------------------------------------------------------------------
// 5. Convergence rate on a graph: W = (1-beta-gamma) I + beta A_norm; without
//    entropy the spread shrinks per cycle by W's second-largest eigenvalue modulus.
// ---------------------------------------------------------------------------
{
  const n = 10;
  const p = { alpha: 0, beta, gamma };
  const graphs = {
    'complete K10': { nbrs: (i) => [...Array(n).keys()].filter((j) => j !== i), slem: Math.abs(1 - beta - gamma - beta / (n - 1)) },
    'ring C10    ': { nbrs: (i) => [(i + 1) % n, (i + n - 1) % n], slem: Math.abs(1 - beta - gamma + beta * Math.cos((2 * Math.PI) / n)) },
  };
  console.log(`\n5. spread decay per cycle, ${n} nodes, alpha=0 (measured over cycles 100..200 vs SLEM of W):`);
  for (const [name, g] of Object.entries(graphs)) {
    const rnd = seededRandom(4);
    let xs = Array.from({ length: n }, () => [rnd() * 10 - 5, rnd() * 10 - 5]);
    let s100 = 0;
    for (let t = 1; t <= 200; t++) {
      xs = xs.map((x, i) => driftStep(x, g.nbrs(i).map((j) => xs[j]), [1, 0], p).drift);
      if (t === 100) s100 = spread(xs);
    }
    const measured = (spread(xs) / s100) ** (1 / 100);
    const cycles = Math.ceil(Math.log(0.01) / Math.log(g.slem));
    console.log(`   ${name}: measured ${f(measured, 5)}, SLEM ${f(g.slem, 5)}; cycles to shrink disagreement 100x: ${cycles}`);
  }
}
