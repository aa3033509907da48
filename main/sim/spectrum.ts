/**
 * The one-cycle matrix W of the drift model on a graph, its second-largest
 * eigenvalue modulus (SLEM, the per-cycle shrink factor of disagreement),
 * the cycles it predicts, and the steady spread with entropy. Pure.
 *
 *   seed rule:   W = (1 - beta - gamma) I + beta D^{-1} A   (rows of isolated nodes: (1 - gamma) I)
 *   metropolis:  W = W_MH - gamma I,  W_MH_ij = 1/(1 + max(d_i, d_j)), self weight 1 - sum
 *
 * The seed rule's W is not symmetric, but it is similar to the symmetric
 * S = D^{1/2} W D^{-1/2} = (1 - beta - gamma) I + beta D^{-1/2} A D^{-1/2},
 * so the spectra agree; Metropolis' W is symmetric already. The consensus
 * eigenvector of S (sqrt(d) for the seed rule, 1 for Metropolis; eigenvalue
 * 1 - gamma) is projected out and power iteration on S^2 finds the SLEM.
 *
 * W-MSR ('wmsr') drops values by rank each cycle, so it has no W; the seed
 * rule's numbers are its reference (it is the seed rule whenever nothing is
 * dropped), and the benchmark measures it in the simulator.
 */
import type { DriftParams } from '../model/drift.js';
import { seededRandom } from '../model/prng.js';
import { metropolisWeight, type LinearWeighting } from '../model/weights.js';
import { degree, type Graph } from './graph.js';

/** A symmetric matrix in the graph's CSR pattern plus a diagonal. */
interface SymOp {
  readonly diag: Float64Array;
  readonly off: Float64Array;
  /** Unit consensus vector to project out. */
  readonly top: Float64Array;
}

function symmetricOperator(g: Graph, p: DriftParams, weighting: LinearWeighting): SymOp {
  const n = g.n;
  const diag = new Float64Array(n);
  const off = new Float64Array(g.adj.length);
  const top = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const di = degree(g, i);
    if (weighting === 'metropolis') {
      let sum = 0;
      for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) {
        const w = metropolisWeight(di, degree(g, g.adj[e]!));
        off[e] = w;
        sum += w;
      }
      diag[i] = 1 - sum - p.gamma;
      top[i] = 1;
    } else {
      diag[i] = di > 0 ? 1 - p.beta - p.gamma : 1 - p.gamma;
      for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) off[e] = p.beta / Math.sqrt(di * degree(g, g.adj[e]!));
      top[i] = Math.sqrt(di);
    }
  }
  let norm = 0;
  for (let i = 0; i < n; i++) norm += top[i]! * top[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < n; i++) top[i]! /= norm;
  return { diag, off, top };
}

function apply(g: Graph, op: SymOp, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < g.n; i++) {
    let s = op.diag[i]! * v[i]!;
    for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) s += op.off[e]! * v[g.adj[e]!]!;
    out[i] = s;
  }
}

function deflate(v: Float64Array, top: Float64Array): void {
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += v[i]! * top[i]!;
  for (let i = 0; i < v.length; i++) v[i]! -= dot * top[i]!;
}

function normalise(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  s = Math.sqrt(s);
  if (s > 0) for (let i = 0; i < v.length; i++) v[i]! /= s;
  return s;
}

export interface SlemResult {
  /** Second-largest eigenvalue modulus of W (the shrink factor of disagreement per cycle). */
  readonly rho: number;
  readonly iterations: number;
  /** |S^2 v - rho^2 v| at the end; small means converged. */
  readonly residual: number;
}

/** SLEM of the drift model's W on `g` by power iteration on the deflated S^2. */
export function slem(g: Graph, p: DriftParams, weighting: LinearWeighting = 'seed', options: { maxIterations?: number; tolerance?: number; seed?: number } = {}): SlemResult {
  const n = g.n;
  if (n < 2) return { rho: 0, iterations: 0, residual: 0 };
  const maxIterations = options.maxIterations ?? 200_000;
  const tolerance = options.tolerance ?? 1e-12;
  const op = symmetricOperator(g, p, weighting);
  const random = seededRandom(options.seed ?? 7);
  let v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = random() - 0.5;
  deflate(v, op.top);
  normalise(v);
  let w = new Float64Array(n);
  const tmp = new Float64Array(n);
  let lambda2 = 0;
  let residual = Infinity;
  let it = 0;
  for (; it < maxIterations; it++) {
    apply(g, op, v, tmp);
    apply(g, op, tmp, w);
    deflate(w, op.top);
    // Rayleigh quotient of S^2 at unit v: v.S^2 v = |S v|^2.
    let rq = 0;
    for (let i = 0; i < n; i++) rq += v[i]! * w[i]!;
    lambda2 = rq;
    let r = 0;
    for (let i = 0; i < n; i++) r += (w[i]! - rq * v[i]!) ** 2;
    residual = Math.sqrt(r);
    const len = normalise(w);
    const t = v;
    v = w;
    w = t;
    if (len === 0 || residual < tolerance) {
      it++;
      break;
    }
  }
  return { rho: Math.sqrt(Math.max(0, lambda2)), iterations: it, residual };
}

/** Cycles to shrink disagreement by `factor` at rate rho: ceil(ln(factor) / ln(1/rho)). */
export function predictedCycles(rho: number, factor = 1000): number {
  if (rho <= 0) return 1;
  if (rho >= 1) return Infinity;
  return Math.ceil(Math.log(factor) / Math.log(1 / rho));
}

/** W x for drifts of one axis (the real, possibly non-symmetric, W). */
export function applyW(g: Graph, p: DriftParams, weighting: LinearWeighting, x: Float64Array, out: Float64Array): void {
  for (let i = 0; i < g.n; i++) {
    const s = g.offsets[i]!;
    const e = g.offsets[i + 1]!;
    const d = e - s;
    const xi = x[i]!;
    let pull = 0;
    if (weighting === 'metropolis') {
      for (let k = s; k < e; k++) pull += metropolisWeight(d, degree(g, g.adj[k]!)) * (x[g.adj[k]!]! - xi);
    } else if (d > 0) {
      let sum = 0;
      for (let k = s; k < e; k++) sum += x[g.adj[k]!]!;
      pull = p.beta * (sum / d - xi);
    }
    out[i] = xi + pull - p.gamma * xi;
  }
}

/**
 * Predicted steady spread with entropy (Xiao, Boyd & Kim, "Distributed average
 * consensus with least-mean-square deviation", 2007, generalised to any W):
 * x' = W x + alpha e with e a unit vector per node (per-axis variance 1/2,
 * independent), so E[spread^2] = (alpha^2 / n) sum_t ||P W^t||_F^2 with
 * P = I - 11^T/n. Returns the RMS spread sqrt(E[spread^2]). O(n * nnz * cycles): for n <= a few hundred.
 */
export function steadySpread(g: Graph, p: DriftParams, weighting: LinearWeighting = 'seed', options: { maxCycles?: number; relTolerance?: number } = {}): number {
  const n = g.n;
  if (n < 2) return 0;
  const maxCycles = options.maxCycles ?? 100_000;
  const relTolerance = options.relTolerance ?? 1e-10;
  // Columns of W^t, propagated as rows of (W^t)^T... simpler: propagate M_t = W^t e_j for every j.
  let cols = new Float64Array(n * n);
  for (let j = 0; j < n; j++) cols[j * n + j] = 1;
  let next = new Float64Array(n * n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let total = 0;
  for (let t = 0; t < maxCycles; t++) {
    let term = 0;
    for (let j = 0; j < n; j++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += cols[j * n + i]!;
      mean /= n;
      for (let i = 0; i < n; i++) term += (cols[j * n + i]! - mean) ** 2;
    }
    total += term;
    if (term <= relTolerance * total && t > 10) break;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) x[i] = cols[j * n + i]!;
      applyW(g, p, weighting, x, y);
      for (let i = 0; i < n; i++) next[j * n + i] = y[i]!;
    }
    const s = cols;
    cols = next;
    next = s;
  }
  return Math.sqrt(((p.alpha * p.alpha) / n) * total);
}

/**
 * SLEM by Lanczos on the deflated symmetric S (see the top of this file),
 * for graphs too large for power iteration: power iteration needs ever
 * more rounds as n grows (the eigenvalues near the SLEM crowd together),
 * Lanczos finds the extreme one of that crowd in a few hundred products
 * with S at any n. Three vectors of n numbers, no reorthogonalisation (the
 * extreme Ritz values converge regardless; lost orthogonality only adds
 * copies of them). The Ritz values come from the tridiagonal matrix by
 * bisection (Sturm sequence counts). Stops when the estimate moved less
 * than `tolerance` over the last 10 steps.
 */
export function slemLanczos(g: Graph, p: DriftParams, weighting: LinearWeighting = 'seed', options: { maxIterations?: number; tolerance?: number; seed?: number } = {}): SlemResult {
  const n = g.n;
  if (n < 2) return { rho: 0, iterations: 0, residual: 0 };
  const maxIterations = Math.min(options.maxIterations ?? 3000, n - 1);
  const tolerance = options.tolerance ?? 1e-10;
  const op = compactOperator(g, p, weighting);
  const random = seededRandom(options.seed ?? 7);
  let prev = new Float64Array(n);
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = random() - 0.5;
  deflate(v, op.top);
  normalise(v);
  const alphas: number[] = [];
  const betas: number[] = [];
  let beta = 0;
  let rho = 0;
  let lastCheck = Infinity;
  let moved = Infinity;
  let it = 0;
  for (; it < maxIterations; it++) {
    applyCompact(g, op, v, w);
    deflate(w, op.top);
    let a = 0;
    for (let i = 0; i < n; i++) a += w[i]! * v[i]!;
    let norm2 = 0;
    for (let i = 0; i < n; i++) {
      const r = w[i]! - a * v[i]! - beta * prev[i]!;
      w[i] = r;
      norm2 += r * r;
    }
    alphas.push(a);
    beta = Math.sqrt(norm2);
    if ((it + 1) % 10 === 0 || beta < 1e-14) {
      const [lo, hi] = tridiagonalExtremes(alphas, betas);
      rho = Math.max(Math.abs(lo), Math.abs(hi));
      moved = Math.abs(rho - lastCheck);
      lastCheck = rho;
      if (moved < tolerance || beta < 1e-14) {
        it++;
        break;
      }
    }
    betas.push(beta);
    for (let i = 0; i < n; i++) w[i]! /= beta;
    const t = prev;
    prev = v;
    v = w;
    w = t;
  }
  if (it === maxIterations) {
    const [lo, hi] = tridiagonalExtremes(alphas, betas.slice(0, alphas.length - 1));
    rho = Math.max(Math.abs(lo), Math.abs(hi));
  }
  return { rho, iterations: it, residual: moved };
}

/**
 * S with its off-diagonal from one number per node (no array per edge, so
 * a product reads 8 bytes less per edge): seed rule S_ij = c_i c_j with
 * c_i = sqrt(beta / d_i); Metropolis S_ij = min(c_i, c_j) with c_i = 1 / (1 + d_i).
 */
interface CompactOp {
  readonly metropolis: boolean;
  readonly diag: Float64Array;
  readonly c: Float64Array;
  readonly top: Float64Array;
}

function compactOperator(g: Graph, p: DriftParams, weighting: LinearWeighting): CompactOp {
  const n = g.n;
  const metropolis = weighting === 'metropolis';
  const diag = new Float64Array(n);
  const c = new Float64Array(n);
  const top = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = degree(g, i);
    c[i] = metropolis ? 1 / (1 + d) : d > 0 ? Math.sqrt(p.beta / d) : 0;
    top[i] = metropolis ? 1 : Math.sqrt(d);
  }
  for (let i = 0; i < n; i++) {
    if (metropolis) {
      let sum = 0;
      for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) sum += Math.min(c[i]!, c[g.adj[e]!]!);
      diag[i] = 1 - sum - p.gamma;
    } else {
      diag[i] = degree(g, i) > 0 ? 1 - p.beta - p.gamma : 1 - p.gamma;
    }
  }
  normalise(top);
  return { metropolis, diag, c, top };
}

function applyCompact(g: Graph, op: CompactOp, v: Float64Array, out: Float64Array): void {
  const { offsets, adj } = g;
  const { diag, c } = op;
  if (op.metropolis) {
    for (let i = 0; i < g.n; i++) {
      const ci = c[i]!;
      let s = 0;
      for (let e = offsets[i]!; e < offsets[i + 1]!; e++) {
        const j = adj[e]!;
        const cj = c[j]!;
        s += (cj < ci ? cj : ci) * v[j]!;
      }
      out[i] = diag[i]! * v[i]! + s;
    }
  } else {
    for (let i = 0; i < g.n; i++) {
      let s = 0;
      for (let e = offsets[i]!; e < offsets[i + 1]!; e++) {
        const j = adj[e]!;
        s += c[j]! * v[j]!;
      }
      out[i] = diag[i]! * v[i]! + c[i]! * s;
    }
  }
}

/** Smallest and largest eigenvalue of the symmetric tridiagonal matrix (diagonal a, off-diagonal b), by bisection. */
export function tridiagonalExtremes(a: readonly number[], b: readonly number[]): [number, number] {
  const m = a.length;
  // Gershgorin bounds.
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < m; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]!) : 0) + (i < m - 1 ? Math.abs(b[i]!) : 0);
    lo = Math.min(lo, a[i]! - r);
    hi = Math.max(hi, a[i]! + r);
  }
  /** Eigenvalues below x: sign changes of the Sturm sequence. */
  const below = (x: number): number => {
    let count = 0;
    let d = 1;
    for (let i = 0; i < m; i++) {
      const off = i > 0 ? b[i - 1]! * b[i - 1]! : 0;
      d = a[i]! - x - (i > 0 ? off / d : 0);
      if (d === 0) d = -1e-300;
      if (d < 0) count++;
    }
    return count;
  };
  const kth = (k: number): number => {
    let l = lo;
    let h = hi;
    for (let s = 0; s < 200 && h - l > 1e-15 * Math.max(1, Math.abs(l), Math.abs(h)); s++) {
      const mid = (l + h) / 2;
      if (below(mid) > k) h = mid;
      else l = mid;
    }
    return (l + h) / 2;
  };
  return [kth(0), kth(m - 1)];
}

/**
 * The steady spread with entropy (as steadySpread) for graphs of any size:
 * ||P W^t||_F^2 = E ||P W^t z||^2 for z of independent +-1 entries
 * (Hutchinson's trace estimator), so the sum over t is that of `probes`
 * vectors driven through W, O(nnz) a cycle; the relative error is about
 * sqrt(2 / (n * probes)). The sum stops when a cycle adds less than
 * `relTolerance` of it; the rest, decaying by rho^2 a cycle at most, is
 * added as a geometric tail.
 */
export function steadySpreadEstimate(g: Graph, p: DriftParams, weighting: LinearWeighting = 'seed', options: { probes?: number; seed?: number; maxCycles?: number; relTolerance?: number; rho?: number } = {}): number {
  const n = g.n;
  if (n < 2) return 0;
  const probes = options.probes ?? Math.max(1, Math.ceil(2e5 / n));
  const maxCycles = options.maxCycles ?? 100_000;
  const relTolerance = options.relTolerance ?? 1e-6;
  const random = seededRandom(options.seed ?? 11);
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < probes; k++) {
    for (let i = 0; i < n; i++) v[i] = random() < 0.5 ? -1 : 1;
    let sum = 0;
    let term = 0;
    for (let t = 0; t < maxCycles; t++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += v[i]!;
      mean /= n;
      term = 0;
      for (let i = 0; i < n; i++) term += (v[i]! - mean) ** 2;
      sum += term;
      if (term <= relTolerance * sum && t > 10) break;
      applyW(g, p, weighting, v, w);
      const s = v;
      v = w;
      w = s;
    }
    const rho = options.rho;
    if (rho !== undefined && rho < 1) sum += (term * rho * rho) / (1 - rho * rho);
    total += sum;
  }
  return Math.sqrt(((p.alpha * p.alpha) / n) * (total / probes));
}
