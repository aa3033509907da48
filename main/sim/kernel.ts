/**
 * The per-node stepping kernel of the fast simulator: one synchronous round
 * for the nodes from..to-1, reading the previous drifts `x` and writing the
 * new ones into `out` (both interleaved [x0, y0, x1, y1, ...]). The single
 * thread engine (fast.ts) runs it over all nodes, the worker engine
 * (main/sim-workers/) over one slice per thread, on arrays shared between
 * the threads: a node's new drift depends only on the previous round, so
 * any split gives the same numbers, bit for bit.
 *
 * The arithmetic is the node's, in the same order: the mean of the peers'
 * values minus our own (peerPull), metropolisWeight, wmsrAxisPull, and
 * driftDiffInto on the entropy sample of seededRandom(seed_i) (sfc32, its
 * state in `rng`, 4 words a node). So the drifts equal the reference
 * Simulator's and a DriftNode's exactly (test/sim-fast.test.ts). What is
 * faster is only how it gets there:
 * - the peers are summed in straight runs of 8, 4, 2 and 1 (V8 runs a loop
 *   over 6-8 neighbours much slower than the same adds written out), left
 *   to right as peerPull adds;
 * - a division by a power-of-two degree is the multiplication by its exact
 *   reciprocal (the same double);
 * - Metropolis weights are min(1/(1+d_i), 1/(1+d_j)) from one number per
 *   node, not one weight per edge (metropolisInverse, the same double);
 * - a round runs in blocks of BLOCK nodes: first every pull of the block
 *   (a short loop of independent loads, so many cache misses are in
 *   flight at once: at N = 10^6 the drifts do not fit in the cache), then
 *   every node's entropy and step;
 * - stubborn nodes are skipped, their drift stays what both buffers hold.
 *
 * Pure, allocation-free.
 */
import { driftDiffInto, MIN_ENTROPY_NORM, type DriftParams } from '../model/drift.js';
import { wmsrAxisPull } from '../model/wmsr.js';

/** The arrays a round reads and writes besides the drifts. Typed arrays, possibly over SharedArrayBuffers. */
export interface KernelArrays {
  /** CSR graph: the neighbours of i are adj[offsets[i] .. offsets[i+1]). */
  readonly offsets: Int32Array;
  readonly adj: Int32Array;
  /** sfc32 state, 4 words per node (advanced here). */
  readonly rng: Int32Array;
  /** Metropolis only: metropolisInverse(d_i) = 1 / (1 + d_i) per node. */
  readonly inverse: Float64Array | null;
  /** W-MSR only: F per node. */
  readonly trim: Uint8Array | null;
  /** 1 for a stubborn node (never stepped: its drift stays what both buffers hold); null when there is none. */
  readonly pinned: Uint8Array | null;
}

/** Nodes per block: their pulls are gathered first, then they are stepped. */
export const BLOCK = 256;

/**
 * Up to this many numbers in a drift buffer (2n; 64 K nodes, 1 MB, about
 * half this machine's L2 cache) the seed rule runs in one pass: with
 * every neighbour in the cache the blocks only add work.
 */
export const FUSED_MAX_DRIFTS = 2 * 65_536;

/** One thread's scratch: the pulls of a block, and for W-MSR one node's neighbour values and trimmed extremes. */
export interface KernelScratch {
  /** [px, py] of the block's nodes, 2 * BLOCK. */
  readonly pull: Float64Array;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly hi: Float64Array;
  readonly lo: Float64Array;
  /** driftDiffInto's output: a plain [number, number], like the node's. */
  readonly diff: [number, number];
}

export function kernelScratch(maxDegree: number, maxTrim: number): KernelScratch {
  return {
    pull: new Float64Array(2 * BLOCK),
    xs: new Float64Array(Math.max(1, maxDegree)),
    ys: new Float64Array(Math.max(1, maxDegree)),
    hi: new Float64Array(Math.max(1, maxTrim)),
    lo: new Float64Array(Math.max(1, maxTrim)),
    diff: [0, 0],
  };
}

/** Weighting codes of a round (numbers, so they cross to worker threads as they are). */
export const SEED = 0;
export const METROPOLIS = 1;
export const WMSR = 2;
export type WeightingCode = typeof SEED | typeof METROPOLIS | typeof WMSR;

const MIN_NORM_SQUARED = MIN_ENTROPY_NORM * MIN_ENTROPY_NORM;
/** 2^-32: (t >>> 0) * this equals (t >>> 0) / 4294967296 exactly (a power of two). */
const INV_2_32 = 1 / 4294967296;

/** 1/d for d = 1, 2, 4, ..., 64 (exact), 0 at every other index up to 64. */
const POW2_RECIPROCAL = (() => {
  const t = new Float64Array(65);
  for (let d = 1; d <= 64; d *= 2) t[d] = 1 / d;
  return t;
})();

/** sum / d, bit for bit; a multiplication when d is a power of two up to 64 (then 1/d is exact). */
export function divideByDegree(sum: number, d: number): number {
  const r = d <= 64 ? POW2_RECIPROCAL[d]! : 0;
  return r !== 0 ? sum * r : sum / d;
}

/**
 * One synchronous round for nodes from..to-1: x -> out. `p` is
 * pullParams(params, weighting) (Metropolis pulls with weight 1).
 */
export function round(code: WeightingCode, k: KernelArrays, x: Float64Array, out: Float64Array, from: number, to: number, p: DriftParams, scratch: KernelScratch): void {
  if (code === SEED && x.length <= FUSED_MAX_DRIFTS) {
    seedRoundFused(k, x, out, from, to, p, scratch);
    return;
  }
  for (let b = from; b < to; b += BLOCK) {
    const e = Math.min(to, b + BLOCK);
    if (code === SEED) seedPulls(k, x, b, e, scratch.pull);
    else if (code === METROPOLIS) metropolisPulls(k, x, b, e, scratch.pull);
    else wmsrPulls(k, x, b, e, scratch);
    steps(k, x, out, b, e, p, scratch.pull, scratch.diff);
  }
}

/** Seed rule: pull[2(i - from)..] = mean of the peers' drifts - own (peerPull); [0, 0] without peers. */
export function seedPulls(k: KernelArrays, x: Float64Array, from: number, to: number, pull: Float64Array): void {
  const pinned = k.pinned;
  for (let i = from; i < to; i++) {
    if (pinned !== null && pinned[i] !== 0) continue;
    seedPullOf(k.offsets, k.adj, x, i, pull, 2 * (i - from));
  }
}

/** Node i's seed-rule pull into pull[o], pull[o + 1]. */
function seedPullOf(offsets: Int32Array, adj: Int32Array, x: Float64Array, i: number, pull: Float64Array, o: number): void {
  let s = offsets[i]!;
  const e = offsets[i + 1]!;
  const d = e - s;
  if (d === 0) {
    pull[o] = 0;
    pull[o + 1] = 0;
    return;
  }
  // 0 + a + b + ... left to right, as peerPull's loop adds.
  let sx = 0;
  let sy = 0;
  while (e - s >= 16) {
    const j0 = adj[s]! << 1;
    const j1 = adj[s + 1]! << 1;
    const j2 = adj[s + 2]! << 1;
    const j3 = adj[s + 3]! << 1;
    const j4 = adj[s + 4]! << 1;
    const j5 = adj[s + 5]! << 1;
    const j6 = adj[s + 6]! << 1;
    const j7 = adj[s + 7]! << 1;
    sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]! + x[j4]! + x[j5]! + x[j6]! + x[j7]!;
    sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]! + x[j4 + 1]! + x[j5 + 1]! + x[j6 + 1]! + x[j7 + 1]!;
    s += 8;
  }
  const r = e - s;
  if ((r & 8) !== 0) {
    const j0 = adj[s]! << 1;
    const j1 = adj[s + 1]! << 1;
    const j2 = adj[s + 2]! << 1;
    const j3 = adj[s + 3]! << 1;
    const j4 = adj[s + 4]! << 1;
    const j5 = adj[s + 5]! << 1;
    const j6 = adj[s + 6]! << 1;
    const j7 = adj[s + 7]! << 1;
    sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]! + x[j4]! + x[j5]! + x[j6]! + x[j7]!;
    sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]! + x[j4 + 1]! + x[j5 + 1]! + x[j6 + 1]! + x[j7 + 1]!;
    s += 8;
  }
  if ((r & 4) !== 0) {
    const j0 = adj[s]! << 1;
    const j1 = adj[s + 1]! << 1;
    const j2 = adj[s + 2]! << 1;
    const j3 = adj[s + 3]! << 1;
    sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]!;
    sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]!;
    s += 4;
  }
  if ((r & 2) !== 0) {
    const j0 = adj[s]! << 1;
    const j1 = adj[s + 1]! << 1;
    sx = sx + x[j0]! + x[j1]!;
    sy = sy + x[j0 + 1]! + x[j1 + 1]!;
    s += 2;
  }
  if ((r & 1) !== 0) {
    const j0 = adj[s]! << 1;
    sx = sx + x[j0]!;
    sy = sy + x[j0 + 1]!;
  }
  pull[o] = divideByDegree(sx, d) - x[2 * i]!;
  pull[o + 1] = divideByDegree(sy, d) - x[2 * i + 1]!;
}

/**
 * The seed rule's round in one pass, pull, entropy and step node by node,
 * written out in one function (V8 runs it about 15 % faster than the
 * blocks while the drifts fit in the cache; with calls between the parts
 * it is slower than either). The same arithmetic as seedPullOf and stepOne.
 */
export function seedRoundFused(k: KernelArrays, x: Float64Array, out: Float64Array, from: number, to: number, p: DriftParams, scratch: KernelScratch): void {
  const offsets = k.offsets;
  const adj = k.adj;
  const rng = k.rng;
  const pinned = k.pinned;
  const diff = scratch.diff;
  for (let i = from; i < to; i++) {
    if (pinned !== null && pinned[i] !== 0) continue;
    let s = offsets[i]!;
    const e = offsets[i + 1]!;
    const deg = e - s;
    const xi = x[2 * i]!;
    const yi = x[2 * i + 1]!;
    let px = 0;
    let py = 0;
    if (deg > 0) {
      let sx = 0;
      let sy = 0;
      while (e - s >= 16) {
        const j0 = adj[s]! << 1;
        const j1 = adj[s + 1]! << 1;
        const j2 = adj[s + 2]! << 1;
        const j3 = adj[s + 3]! << 1;
        const j4 = adj[s + 4]! << 1;
        const j5 = adj[s + 5]! << 1;
        const j6 = adj[s + 6]! << 1;
        const j7 = adj[s + 7]! << 1;
        sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]! + x[j4]! + x[j5]! + x[j6]! + x[j7]!;
        sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]! + x[j4 + 1]! + x[j5 + 1]! + x[j6 + 1]! + x[j7 + 1]!;
        s += 8;
      }
      const r = e - s;
      if ((r & 8) !== 0) {
        const j0 = adj[s]! << 1;
        const j1 = adj[s + 1]! << 1;
        const j2 = adj[s + 2]! << 1;
        const j3 = adj[s + 3]! << 1;
        const j4 = adj[s + 4]! << 1;
        const j5 = adj[s + 5]! << 1;
        const j6 = adj[s + 6]! << 1;
        const j7 = adj[s + 7]! << 1;
        sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]! + x[j4]! + x[j5]! + x[j6]! + x[j7]!;
        sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]! + x[j4 + 1]! + x[j5 + 1]! + x[j6 + 1]! + x[j7 + 1]!;
        s += 8;
      }
      if ((r & 4) !== 0) {
        const j0 = adj[s]! << 1;
        const j1 = adj[s + 1]! << 1;
        const j2 = adj[s + 2]! << 1;
        const j3 = adj[s + 3]! << 1;
        sx = sx + x[j0]! + x[j1]! + x[j2]! + x[j3]!;
        sy = sy + x[j0 + 1]! + x[j1 + 1]! + x[j2 + 1]! + x[j3 + 1]!;
        s += 4;
      }
      if ((r & 2) !== 0) {
        const j0 = adj[s]! << 1;
        const j1 = adj[s + 1]! << 1;
        sx = sx + x[j0]! + x[j1]!;
        sy = sy + x[j0 + 1]! + x[j1 + 1]!;
        s += 2;
      }
      if ((r & 1) !== 0) {
        const j0 = adj[s]! << 1;
        sx = sx + x[j0]!;
        sy = sy + x[j0 + 1]!;
      }
      px = divideByDegree(sx, deg) - xi;
      py = divideByDegree(sy, deg) - yi;
    }
    const o = 4 * i;
    let a = rng[o]!;
    let b = rng[o + 1]!;
    let c = rng[o + 2]!;
    let d = rng[o + 3]!;
    let ux = 0;
    let uy = 0;
    for (;;) {
      let t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      ux = (t >>> 0) * INV_2_32 * 2 - 1;
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      uy = (t >>> 0) * INV_2_32 * 2 - 1;
      if (ux * ux + uy * uy >= MIN_NORM_SQUARED) break;
    }
    rng[o] = a;
    rng[o + 1] = b;
    rng[o + 2] = c;
    rng[o + 3] = d;
    driftDiffInto(diff, xi, yi, px, py, ux, uy, p);
    out[2 * i] = xi + diff[0];
    out[2 * i + 1] = yi + diff[1];
  }
}

/**
 * Metropolis: pull = sum_j w_ij (r_j - x) with w_ij = metropolisWeight(d_i,
 * d_j) = 1 / (1 + max(d_i, d_j)), here the smaller of the two inverses.
 */
export function metropolisPulls(k: KernelArrays, x: Float64Array, from: number, to: number, pull: Float64Array): void {
  const offsets = k.offsets;
  const adj = k.adj;
  const pinned = k.pinned;
  const inv = k.inverse!;
  for (let i = from; i < to; i++) {
    if (pinned !== null && pinned[i] !== 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const xi = x[2 * i]!;
    const yi = x[2 * i + 1]!;
    const own = inv[i]!;
    let px = 0;
    let py = 0;
    for (let q = s; q < e; q++) {
      const jn = adj[q]!;
      const other = inv[jn]!;
      const w = other < own ? other : own;
      const j = jn << 1;
      px += w * (x[j]! - xi);
      py += w * (x[j + 1]! - yi);
    }
    const o = 2 * (i - from);
    pull[o] = px;
    pull[o + 1] = py;
  }
}

/** W-MSR: the seed rule's mean after wmsrAxisPull trimmed F = trim[i] values per side, per axis. */
export function wmsrPulls(k: KernelArrays, x: Float64Array, from: number, to: number, scratch: KernelScratch): void {
  const offsets = k.offsets;
  const adj = k.adj;
  const pinned = k.pinned;
  const trim = k.trim!;
  const { xs, ys, hi, lo, pull } = scratch;
  for (let i = from; i < to; i++) {
    if (pinned !== null && pinned[i] !== 0) continue;
    const s = offsets[i]!;
    const d = offsets[i + 1]! - s;
    for (let q = 0; q < d; q++) {
      const j = adj[s + q]! << 1;
      xs[q] = x[j]!;
      ys[q] = x[j + 1]!;
    }
    const f = trim[i]!;
    const o = 2 * (i - from);
    pull[o] = wmsrAxisPull(xs, d, x[2 * i]!, f, hi, lo, null, 0);
    pull[o + 1] = wmsrAxisPull(ys, d, x[2 * i + 1]!, f, hi, lo, null, 0);
  }
}

/** Entropy and step of every node of the block, with the pulls gathered for it. */
export function steps(k: KernelArrays, x: Float64Array, out: Float64Array, from: number, to: number, p: DriftParams, pull: Float64Array, diff: [number, number]): void {
  const rng = k.rng;
  const pinned = k.pinned;
  for (let i = from; i < to; i++) {
    if (pinned !== null && pinned[i] !== 0) continue;
    const q = 2 * (i - from);
    stepOne(rng, x, out, i, p, pull[q]!, pull[q + 1]!, diff);
  }
}

/**
 * Node i's entropy as sampleEntropy(seededRandom(seed_i)) draws it (two
 * sfc32 outputs, again while |u| < MIN_ENTROPY_NORM), D by driftDiffInto
 * with the pull, and x + D into out.
 */
function stepOne(rng: Int32Array, x: Float64Array, out: Float64Array, i: number, p: DriftParams, px: number, py: number, diff: [number, number]): void {
  const o = 4 * i;
  let a = rng[o]!;
  let b = rng[o + 1]!;
  let c = rng[o + 2]!;
  let d = rng[o + 3]!;
  let ux = 0;
  let uy = 0;
  for (;;) {
    // sfc32, as prng.ts seededRandom.
    let t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    ux = (t >>> 0) * INV_2_32 * 2 - 1;
    t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    uy = (t >>> 0) * INV_2_32 * 2 - 1;
    if (ux * ux + uy * uy >= MIN_NORM_SQUARED) break;
  }
  rng[o] = a;
  rng[o + 1] = b;
  rng[o + 2] = c;
  rng[o + 3] = d;
  const xi = x[2 * i]!;
  const yi = x[2 * i + 1]!;
  driftDiffInto(diff, xi, yi, px, py, ux, uy, p);
  out[2 * i] = xi + diff[0];
  out[2 * i + 1] = yi + diff[1];
}
