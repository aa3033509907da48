/**
 * The drift model (docs/drift-model.md). Every run is seeded, so
 * each number below is reproducible; every bound is derived in a comment next
 * to it, so a change in the model's maths shows up as a failure here.
 */
import { describe, expect, it } from 'vitest';
import {
  agreement,
  DEFAULT_DRIFT_PARAMS,
  distance,
  driftDiffInto,
  driftStep,
  MIN_ENTROPY_NORM,
  peerPull,
  sampleEntropy,
  spread,
  type DriftParams,
  type Vec2,
} from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';

const A0: Vec2 = [5, 1];
const B0: Vec2 = [-2, -3];
const D0 = distance(A0, B0); // sqrt(65) ≈ 8.062

/** One synchronous cycle of two nodes that see each other's exact drift. */
function pairStep(a: Vec2, b: Vec2, ua: Vec2, ub: Vec2, p: DriftParams): [Vec2, Vec2] {
  return [driftStep(a, [b], ua, p).drift, driftStep(b, [a], ub, p).drift];
}

describe('two nodes without entropy or gravity (alpha = gamma = 0, beta = 0.1)', () => {
  const p: DriftParams = { alpha: 0, beta: 0.1, gamma: 0 };
  // A - B evolves as (A - B) * (1 - 2*beta): each node moves beta of the gap.
  const rate = 1 - 2 * p.beta;
  const u: Vec2 = [1, 0]; // any non-zero u; alpha = 0 ignores it

  it('their distance shrinks by exactly 1 - 2*beta per cycle and the midpoint stays put', () => {
    let a = A0;
    let b = B0;
    for (let t = 0; t < 30; t++) {
      const before = distance(a, b);
      [a, b] = pairStep(a, b, u, u, p);
      expect(Math.abs(distance(a, b) / before - rate)).toBeLessThan(1e-12 * rate);
      expect(a[0] + b[0]).toBeCloseTo(A0[0] + B0[0], 12);
      expect(a[1] + b[1]).toBeCloseTo(A0[1] + B0[1], 12);
    }
  });

  it('from [5,1] vs [-2,-3] the distance first drops below 0.5 at ceil(ln(0.5/d0)/ln(1-2*beta))', () => {
    const predicted = Math.ceil(Math.log(0.5 / D0) / Math.log(rate));
    expect(predicted).toBe(13); // the number the docs quote
    let a = A0;
    let b = B0;
    let t = 0;
    while (distance(a, b) >= 0.5) {
      [a, b] = pairStep(a, b, u, u, p);
      t++;
    }
    expect(t).toBe(predicted);
  });
});

describe('noise floor of two nodes (alpha 0.05, beta 0.1, gamma 0.001)', () => {
  it('the per-axis std of A - B and the mean distance match the exact stationary prediction', () => {
    const p = DEFAULT_DRIFT_PARAMS;
    // Exact: d = A - B obeys d' = rho*d + alpha*(e_A - e_B), rho = 1 - 2*beta - gamma.
    // e = u/|u| with u uniform in [-1,1]^2 has E[e_x] = 0 and E[e_x^2] = 1/2 exactly
    // (x<->y symmetry and e_x^2 + e_y^2 = 1), so per axis Var(e_A - e_B) = 2 * 1/2 = 1
    // and the stationary per-axis std is
    //     sigma = alpha * sqrt(2 * 1/2) / sqrt(1 - rho^2) = alpha / sqrt(1 - (1 - 2*beta - gamma)^2)
    // = 0.08315 (the same formula with gamma dropped gives 0.08333).
    const rho = 1 - 2 * p.beta - p.gamma;
    const sigma = p.alpha / Math.sqrt(1 - rho * rho);
    expect(sigma).toBeCloseTo(0.08315, 4);
    // |d| is close to Rayleigh (d's axes are uncorrelated, near-Gaussian): E|d| ≈ sigma*sqrt(pi/2) ≈ 0.104.
    const meanDistPred = sigma * Math.sqrt(Math.PI / 2);

    const rnd = seededRandom(2);
    const x = new Float64Array([A0[0], A0[1], B0[0], B0[1]]);
    const da = new Float64Array(2);
    const db = new Float64Array(2);
    const burnIn = 1000; // rho^1000 * 8 is 0 in double precision
    const n = 200_000;
    let sxx = 0;
    let syy = 0;
    let sd = 0;
    for (let t = 0; t < burnIn + n; t++) {
      const [ax, ay, bx, by] = [x[0]!, x[1]!, x[2]!, x[3]!];
      driftDiffInto(da, ax, ay, bx - ax, by - ay, rnd() * 2 - 1, rnd() * 2 - 1, p);
      driftDiffInto(db, bx, by, ax - bx, ay - by, rnd() * 2 - 1, rnd() * 2 - 1, p);
      x[0] = ax + da[0]!;
      x[1] = ay + da[1]!;
      x[2] = bx + db[0]!;
      x[3] = by + db[1]!;
      if (t >= burnIn) {
        const dx = x[0]! - x[2]!;
        const dy = x[1]! - x[3]!;
        sxx += dx * dx;
        syy += dy * dy;
        sd += Math.hypot(dx, dy);
      }
    }
    const stdX = Math.sqrt(sxx / n);
    const stdY = Math.sqrt(syy / n);
    const meanDist = sd / n;
    expect(Math.abs(stdX / sigma - 1)).toBeLessThan(0.15);
    expect(Math.abs(stdY / sigma - 1)).toBeLessThan(0.15);
    expect(Math.abs(meanDist / meanDistPred - 1)).toBeLessThan(0.15);
    expect(meanDist).toBeGreaterThan(0.09);
    expect(meanDist).toBeLessThan(0.12);
  });

  it('the entropy direction has per-axis variance 1/2 (the fact the floor formula rests on)', () => {
    const rnd = seededRandom(5);
    const n = 100_000;
    let sx = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const [ux, uy] = sampleEntropy(rnd);
      const r = Math.hypot(ux, uy);
      sx += ux / r;
      sxx += (ux / r) ** 2;
      syy += (uy / r) ** 2;
    }
    // e_x^2 lies in [0,1], so its std is at most 1/2 and the standard error of the mean <= 0.0016.
    expect(Math.abs(sxx / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(syy / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(sx / n)).toBeLessThan(0.01);
  });
});

/**
 * Centroid of n all-to-all nodes: the pulls sum to zero, so the mean m obeys
 * m' = (1 - gamma)*m + alpha*mean_i(e_i), a per-axis AR(1) with innovation
 * variance alpha^2 * (1/2) / n.
 */
function centroidWander(n: number, cycles: number, p: DriftParams, seed: number): { maxAbsMean: number; startAbsMean: number } {
  const rnd = seededRandom(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const nx = new Float64Array(n);
  const ny = new Float64Array(n);
  const d = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    x[i] = rnd() * 2 - 1;
    y[i] = rnd() * 2 - 1;
  }
  let maxAbsMean = 0;
  let startAbsMean = 0;
  for (let t = 0; ; t++) {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sx += x[i]!;
      sy += y[i]!;
    }
    const m = Math.max(Math.abs(sx / n), Math.abs(sy / n));
    if (t === 0) startAbsMean = m;
    if (m > maxAbsMean) maxAbsMean = m;
    if (t === cycles) return { maxAbsMean, startAbsMean };
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const yi = y[i]!;
      // P = mean over the other n-1 nodes of (x_j - x_i)
      driftDiffInto(d, xi, yi, (sx - xi) / (n - 1) - xi, (sy - yi) / (n - 1) - yi, rnd() * 2 - 1, rnd() * 2 - 1, p);
      nx[i] = xi + d[0]!;
      ny[i] = yi + d[1]!;
    }
    x.set(nx);
    y.set(ny);
  }
}

describe('gravity keeps the network mean bounded', () => {
  it('10 nodes all-to-all, 1e6 cycles: gamma = 0.001 bounds the centroid; gamma = 0 lets it wander', () => {
    const n = 10;
    const cycles = 1_000_000;
    const { alpha, beta, gamma } = DEFAULT_DRIFT_PARAMS;
    // Stationary per-axis std of the centroid: alpha*sqrt(1/(2n)) / sqrt(1 - (1-gamma)^2) = 0.250.
    const sigma = (alpha * Math.sqrt(1 / (2 * n))) / Math.sqrt(1 - (1 - gamma) ** 2);
    expect(sigma).toBeCloseTo(0.25, 2);

    const withGravity = centroidWander(n, cycles, { alpha, beta, gamma }, 3);
    // The start's mean (|m0| <= 1) decays as (1-gamma)^t, so |mean| <= |m0| + 6 sigma.
    expect(withGravity.maxAbsMean).toBeLessThan(withGravity.startAbsMean + 6 * sigma);

    const noGravity = centroidWander(n, cycles, { alpha, beta, gamma: 0 }, 3);
    // gamma = 0: a random walk with per-axis std alpha*sqrt(1/(2n))*sqrt(t) = 11.2 at 1e6 cycles.
    expect(noGravity.maxAbsMean).toBeGreaterThan(5 * withGravity.maxAbsMean);
    expect(noGravity.maxAbsMean).toBeGreaterThan(6 * sigma);
  }, 60_000);
});

/**
 * The note's literal formula: E = [random(), random()] in [0,1)^2,
 * D_i = alpha*normalize(E_i) + beta*avg(peers' last D), x_i += D_i.
 * With two nodes, A - B changes only by alpha*(e_A - e_B) - beta*(D_A - D_B)_prev:
 * no term depends on A - B, so nothing pulls the nodes together.
 */
function literalPair(random: () => number, cycles: number, onCycle?: (t: number, a: Vec2, b: Vec2) => void): [Vec2, Vec2] {
  const { alpha, beta } = DEFAULT_DRIFT_PARAMS;
  let a: Vec2 = A0;
  let b: Vec2 = B0;
  let lastA: Vec2 = [0, 0];
  let lastB: Vec2 = [0, 0];
  for (let t = 1; t <= cycles; t++) {
    const ea = [random(), random()] as const;
    const eb = [random(), random()] as const;
    const na = Math.hypot(ea[0], ea[1]);
    const nb = Math.hypot(eb[0], eb[1]);
    const da: Vec2 = [(alpha * ea[0]) / na + beta * lastB[0], (alpha * ea[1]) / na + beta * lastB[1]];
    const db: Vec2 = [(alpha * eb[0]) / nb + beta * lastA[0], (alpha * eb[1]) / nb + beta * lastA[1]];
    a = [a[0] + da[0], a[1] + da[1]];
    b = [b[0] + db[0], b[1] + db[1]];
    lastA = da;
    lastB = db;
    onCycle?.(t, a, b);
  }
  return [a, b];
}

describe('why we differ from the note', () => {
  const { alpha, beta, gamma } = DEFAULT_DRIFT_PARAMS;
  // E[normalize(E)_x] for E uniform in [0,1)^2 = integral of (sqrt(1+y^2) - y) dy over [0,1]
  // = (sqrt(2) + asinh(1) - 1)/2 ≈ 0.6478, and E[e_x^2] = 1/2, so Var(e_x) = 1/2 - mu^2 ≈ 0.0804.
  const mu = (Math.SQRT2 + Math.asinh(1) - 1) / 2;
  const varE = 0.5 - mu * mu;
  // Per-axis std of (A - B)(t) - (A - B)(0): the increment alpha*(e_A - e_B) - beta*(previous increment)
  // sums to a random walk with long-run step std alpha*sqrt(2*varE)/(1 + beta).
  const walkStd = (t: number) => ((alpha * Math.sqrt(2 * varE)) / (1 + beta)) * Math.sqrt(t);

  it('the literal reading (avg of peers\' last D, E in [0,1)^2) has no pull between nodes and a +x+y bias: it never converges and runs away; our P = mean(r_j - x) converges', () => {
    const seen = new Map<number, { d: number; m: Vec2 }>();
    literalPair(seededRandom(1), 10_000, (t, a, b) => {
      if (t === 10 || t === 13 || t === 100 || t === 10_000) {
        seen.set(t, { d: distance(a, b), m: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] });
      }
    });
    // Distance stays at its start (≈ 8.06), up to the random walk of the entropy difference
    // (|change| <= 6*sqrt(2)*walkStd(t)).
    for (const t of [10, 100]) {
      expect(Math.abs(seen.get(t)!.d - D0)).toBeLessThan(6 * Math.SQRT2 * walkStd(t));
    }
    // Where our model has crossed 0.5 (cycle 13), the literal reading has not moved.
    expect(seen.get(13)!.d).toBeGreaterThan(D0 - 6 * Math.SQRT2 * walkStd(13));
    expect(seen.get(13)!.d).toBeGreaterThan(7.5);
    // Runaway: E[D] -> alpha*mu/(1-beta) per axis, so after T cycles the mean has moved by
    // alpha*mu/(1-beta) * (T - beta*(1-beta^T)/(1-beta)) ≈ 359.9 per axis, with per-axis
    // std alpha*sqrt(varE/2)/(1-beta)*sqrt(T) ≈ 1.1.
    const T = 10_000;
    const shift = ((alpha * mu) / (1 - beta)) * (T - (beta * (1 - beta ** T)) / (1 - beta));
    const shiftStd = ((alpha * Math.sqrt(varE / 2)) / (1 - beta)) * Math.sqrt(T);
    const m = seen.get(T)!.m;
    expect(Math.abs(m[0] - ((A0[0] + B0[0]) / 2 + shift))).toBeLessThan(6 * shiftStd);
    expect(Math.abs(m[1] - ((A0[1] + B0[1]) / 2 + shift))).toBeLessThan(6 * shiftStd);
    expect(Math.min(m[0], m[1])).toBeGreaterThan(350);

    // Ours from the same start, with the same defaults and entropy: below 0.5 within 20
    // cycles (0.799^20 * 8.06 = 0.09, plus a floor of rms 0.118), and the mean stays near 0.
    const rnd = seededRandom(1);
    let a: Vec2 = A0;
    let b: Vec2 = B0;
    let crossed = -1;
    for (let t = 1; t <= T; t++) {
      [a, b] = pairStep(a, b, sampleEntropy(rnd), sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
      if (crossed < 0 && distance(a, b) < 0.5) crossed = t;
    }
    expect(crossed).toBeGreaterThan(0);
    expect(crossed).toBeLessThanOrEqual(20);
    // Two-node centroid: per-axis stationary std (alpha/2)/sqrt(1-(1-gamma)^2) ≈ 0.56; the
    // start's mean [1.5, -1] has decayed by 0.999^10000 ≈ 5e-5.
    const centroidStd = alpha / 2 / Math.sqrt(1 - (1 - gamma) ** 2);
    expect(Math.abs((a[0] + b[0]) / 2)).toBeLessThan(6 * centroidStd);
    expect(Math.abs((a[1] + b[1]) / 2)).toBeLessThan(6 * centroidStd);
    expect(distance(a, b)).toBeLessThan(0.5);
  });

  it('averaged over 200 seeds, the literal reading keeps A - B at [7, 4]; ours takes it to 0', () => {
    const seeds = 200;
    const T = 1000;
    const lit: [number, number] = [0, 0];
    const ours: [number, number] = [0, 0];
    for (let s = 0; s < seeds; s++) {
      const [a, b] = literalPair(seededRandom(1000 + s), T);
      lit[0] += (a[0] - b[0]) / seeds;
      lit[1] += (a[1] - b[1]) / seeds;
      const rnd = seededRandom(1000 + s);
      let x: Vec2 = A0;
      let y: Vec2 = B0;
      for (let t = 0; t < T; t++) [x, y] = pairStep(x, y, sampleEntropy(rnd), sampleEntropy(rnd), DEFAULT_DRIFT_PARAMS);
      ours[0] += (x[0] - y[0]) / seeds;
      ours[1] += (x[1] - y[1]) / seeds;
    }
    // Standard error of the literal mean: walkStd(T)/sqrt(seeds) ≈ 0.041 per axis.
    const se = walkStd(T) / Math.sqrt(seeds);
    expect(Math.abs(lit[0] - 7)).toBeLessThan(6 * se);
    expect(Math.abs(lit[1] - 4)).toBeLessThan(6 * se);
    // Ours: the mean of A - B is 0.799^1000 * [7,4] ≈ 0; standard error 0.083/sqrt(seeds) ≈ 0.006.
    const seOurs = alpha / Math.sqrt(1 - (1 - 2 * beta - gamma) ** 2) / Math.sqrt(seeds);
    expect(Math.abs(ours[0])).toBeLessThan(6 * seOurs);
    expect(Math.abs(ours[1])).toBeLessThan(6 * seOurs);
  });
});

describe('readouts and entropy', () => {
  it('agreement (vu) is 1 alone and falls as 1/(1 + distance to the peers\' mean)', () => {
    const x: Vec2 = [2, -1];
    expect(agreement(x, [])).toBe(1);
    expect(agreement(x, [x])).toBe(1);
    expect(agreement(x, [[3, -1], [1, -1]])).toBe(1); // peers' mean is x itself
    let prev = 1;
    for (const d of [0.01, 0.1, 1, 5, 100]) {
      const v = agreement(x, [[x[0] + d * 0.6, x[1] - d * 0.8]]);
      expect(v).toBeCloseTo(1 / (1 + d), 12);
      expect(v).toBeLessThan(prev);
      prev = v;
    }
  });

  it('spread is 0 for identical points and the RMS distance to the centroid otherwise', () => {
    expect(spread([[3, 4], [3, 4], [3, 4]])).toBe(0);
    expect(spread([[3, 4]])).toBe(0);
    expect(spread([])).toBe(0);
    expect(spread([[1, 0], [-1, 0]])).toBeCloseTo(1, 12);
    expect(spread([[0, 0], [0, 0], [0, 0], [4, 0]])).toBeCloseTo(Math.sqrt(3), 12); // centroid [1,0]: (1+1+1+9)/4
  });

  it('sampleEntropy redraws a sample at (or within 1e-9 of) the origin and never returns one shorter than MIN_ENTROPY_NORM', () => {
    // 0.5 maps to exactly 0; three exact-origin draws, then one ~1e-12 from the origin, then [0.5, -0.5].
    const tiny = 0.5 + 2 ** -41; // u = 2^-40 ≈ 9e-13 per axis
    const script = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, tiny, tiny, 0.75, 0.25];
    let calls = 0;
    const random = () => {
      const v = script[calls++];
      if (v === undefined) throw new Error('sampleEntropy drew more than the script holds');
      return v;
    };
    const u = sampleEntropy(random);
    expect(Math.hypot(u[0], u[1])).toBeGreaterThanOrEqual(MIN_ENTROPY_NORM);
    expect(u).toEqual([0.5, -0.5]);
    expect(calls).toBe(script.length);

    const rnd = seededRandom(9);
    for (let i = 0; i < 10_000; i++) {
      const [ux, uy] = sampleEntropy(rnd);
      expect(Math.hypot(ux, uy)).toBeGreaterThanOrEqual(MIN_ENTROPY_NORM);
      expect(ux >= -1 && ux < 1 && uy >= -1 && uy < 1).toBe(true);
    }
  });
});

describe('driftStep', () => {
  const p: DriftParams = { alpha: 0.05, beta: 0.5, gamma: 0.01 }; // large beta: a stray pull would show
  const x: Vec2 = [3, -4];
  const u: Vec2 = [0.3, 0.4]; // |u| = 0.5, e = [0.6, 0.8]

  it('with no peers is pure entropy plus gravity', () => {
    const step = driftStep(x, [], u, p);
    const expected: Vec2 = [p.alpha * 0.6 - p.gamma * x[0], p.alpha * 0.8 - p.gamma * x[1]];
    expect(step.diff[0]).toBeCloseTo(expected[0], 14);
    expect(step.diff[1]).toBeCloseTo(expected[1], 14);
    expect(step.drift[0]).toBeCloseTo(x[0] + expected[0], 14);
    expect(step.drift[1]).toBeCloseTo(x[1] + expected[1], 14);
    // The entropy only contributes its direction: scaling u changes nothing.
    const scaled = driftStep(x, [], [u[0] * 7, u[1] * 7], p);
    expect(scaled.diff[0]).toBeCloseTo(step.diff[0], 14);
    expect(scaled.diff[1]).toBeCloseTo(step.diff[1], 14);
  });

  it('peers that coincide with x give zero pull', () => {
    expect(peerPull(x, [x, x, [x[0], x[1]]])).toEqual([0, 0]);
    const alone = driftStep(x, [], u, p);
    const together = driftStep(x, [x, x], u, p);
    expect(together.diff).toEqual(alone.diff);
    expect(together.drift).toEqual(alone.drift);
  });

  it('pulls beta of the way toward the peers\' mean', () => {
    const peers: Vec2[] = [[5, -4], [3, 0]]; // mean [4, -2], P = [1, 2]
    expect(peerPull(x, peers)).toEqual([1, 2]);
    const alone = driftStep(x, [], u, p);
    const pulled = driftStep(x, peers, u, p);
    expect(pulled.diff[0] - alone.diff[0]).toBeCloseTo(p.beta * 1, 14);
    expect(pulled.diff[1] - alone.diff[1]).toBeCloseTo(p.beta * 2, 14);
  });
});
