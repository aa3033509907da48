/**
 * The drift simulator: N nodes on a CSR graph, no network. Each cycle is one
 * synchronous round (every node steps from the drifts of the previous round,
 * like DriftNodes that all run a cycle and then exchange their diffs), through
 * the same driftDiffInto the node uses. Entropy per node comes from the same
 * sfc32 stream as seededRandom(seed_i), kept in typed arrays, so a node built
 * with `random: seededRandom(seed_i)` draws the very same samples.
 * Stubborn nodes (a model of Byzantine peers) keep a pinned drift and report
 * it to their neighbours every cycle.
 * Pure, allocation-free in the hot loop.
 */
import { driftDiffInto, MIN_ENTROPY_NORM, type DriftParams, type Vec2 } from '../model/drift.js';
import { metropolisWeight, pullParams, type Weighting } from '../model/weights.js';
import { sfc32State } from '../model/prng.js';
import { wmsrAxisPull, wmsrTrim } from '../model/wmsr.js';
import { degree, type Graph } from './graph.js';

/** A node whose drift is pinned at `at`: it never moves and its neighbours see `at` every cycle. */
export interface StubbornNode {
  readonly node: number;
  readonly at: Vec2;
}

export interface SimulatorOptions {
  graph: Graph;
  params: DriftParams;
  weighting?: Weighting;
  /** Entropy seed of node i; default 1000 + i (test/helpers/memory-cluster.ts uses the same). */
  seedOf?: (i: number) => number;
  /** Initial drifts as [x0, y0, x1, y1, ...]; default all zero. */
  initial?: ArrayLike<number>;
  /** Nodes pinned at a value (Byzantine peers that report a fixed drift); default none. */
  stubborn?: readonly StubbornNode[];
  /** W-MSR only: F for every node instead of wmsrTrim(degree). */
  trim?: number;
}

export class Simulator {
  readonly graph: Graph;
  readonly n: number;
  readonly weighting: Weighting;
  params: DriftParams;
  cycle = 0;
  /** Current drifts, interleaved [x0, y0, x1, y1, ...]. Replaced (swapped) every cycle: read it through `xy`. */
  private cur: Float64Array;
  private next: Float64Array;
  /** Per-edge weights (Metropolis only), aligned with graph.adj. */
  private readonly weights: Float64Array;
  /** sfc32 state, 4 words per node. */
  private readonly rng: Int32Array;
  /** A plain [number, number] like the node's, so driftDiffInto stays monomorphic when both run in one process. */
  private readonly diff: [number, number] = [0, 0];
  /** Stubborn nodes and their pinned drifts, interleaved [x, y, ...]. */
  private readonly stubbornNodes: Int32Array;
  private readonly stubbornAt: Float64Array;
  /** Honest (not stubborn) node indices. */
  readonly honest: Int32Array;
  /** W-MSR: F per node, and scratch for one node's neighbour values and selections. */
  private readonly trims: Int32Array;
  private readonly nbrX: Float64Array;
  private readonly nbrY: Float64Array;
  private readonly hi: Float64Array;
  private readonly lo: Float64Array;

  constructor(options: SimulatorOptions) {
    const g = options.graph;
    this.graph = g;
    this.n = g.n;
    this.params = options.params;
    this.weighting = options.weighting ?? 'seed';
    this.cur = new Float64Array(2 * g.n);
    this.next = new Float64Array(2 * g.n);
    if (options.initial) {
      if (options.initial.length !== 2 * g.n) throw new RangeError('initial must hold 2n numbers');
      this.cur.set(options.initial);
    }
    this.weights = new Float64Array(g.adj.length);
    for (let i = 0; i < g.n; i++) {
      for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) this.weights[e] = metropolisWeight(degree(g, i), degree(g, g.adj[e]!));
    }
    const seedOf = options.seedOf ?? ((i: number) => 1000 + i);
    this.rng = new Int32Array(4 * g.n);
    for (let i = 0; i < g.n; i++) this.rng.set(sfc32State(seedOf(i)), 4 * i);

    const stubborn = options.stubborn ?? [];
    const isStubborn = new Uint8Array(g.n);
    this.stubbornNodes = new Int32Array(stubborn.length);
    this.stubbornAt = new Float64Array(2 * stubborn.length);
    stubborn.forEach((s, k) => {
      if (!Number.isInteger(s.node) || s.node < 0 || s.node >= g.n) throw new RangeError(`stubborn node ${s.node} outside 0..${g.n - 1}`);
      if (!Number.isFinite(s.at[0]) || !Number.isFinite(s.at[1])) throw new RangeError(`stubborn node ${s.node}: value must be finite`);
      isStubborn[s.node] = 1;
      this.stubbornNodes[k] = s.node;
      this.stubbornAt[2 * k] = s.at[0];
      this.stubbornAt[2 * k + 1] = s.at[1];
    });
    this.honest = Int32Array.from({ length: g.n }, (_, i) => i).filter((i) => !isStubborn[i]);
    this.pinStubborn(this.cur);

    if (options.trim !== undefined && !(Number.isInteger(options.trim) && options.trim >= 0)) throw new RangeError('trim must be a non-negative integer');
    let maxDegree = 0;
    this.trims = new Int32Array(g.n);
    for (let i = 0; i < g.n; i++) {
      const d = degree(g, i);
      maxDegree = Math.max(maxDegree, d);
      this.trims[i] = options.trim ?? wmsrTrim(d);
    }
    let maxTrim = 1;
    for (let i = 0; i < g.n; i++) maxTrim = Math.max(maxTrim, this.trims[i]!);
    this.nbrX = new Float64Array(maxDegree);
    this.nbrY = new Float64Array(maxDegree);
    this.hi = new Float64Array(maxTrim);
    this.lo = new Float64Array(maxTrim);
  }

  get xy(): Float64Array {
    return this.cur;
  }

  /** Runs `cycles` synchronous rounds. */
  run(cycles: number): void {
    const metropolis = this.weighting === 'metropolis';
    const wmsr = this.weighting === 'wmsr';
    const pinned = this.stubbornNodes.length > 0;
    const p = pullParams(this.params, this.weighting);
    for (let c = 0; c < cycles; c++) {
      if (metropolis) this.roundMetropolis(p);
      else if (wmsr) this.roundWmsr(p);
      else this.roundSeed(p);
      if (pinned) this.pinStubborn(this.next);
      const t = this.cur;
      this.cur = this.next;
      this.next = t;
      this.cycle++;
    }
  }

  private roundSeed(p: DriftParams): void {
    const { offsets, adj } = this.graph;
    const x = this.cur;
    const out = this.next;
    const diff = this.diff;
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const s = offsets[i]!;
      const e = offsets[i + 1]!;
      const xi = x[2 * i]!;
      const yi = x[2 * i + 1]!;
      let px = 0;
      let py = 0;
      if (e > s) {
        let sx = 0;
        let sy = 0;
        for (let k = s; k < e; k++) {
          const j = adj[k]! << 1;
          sx += x[j]!;
          sy += x[j + 1]!;
        }
        const d = e - s;
        px = sx / d - xi;
        py = sy / d - yi;
      }
      this.entropyAndStep(i, xi, yi, px, py, p, diff, out);
    }
  }

  private roundMetropolis(p: DriftParams): void {
    const { offsets, adj } = this.graph;
    const w = this.weights;
    const x = this.cur;
    const out = this.next;
    const diff = this.diff;
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const s = offsets[i]!;
      const e = offsets[i + 1]!;
      const xi = x[2 * i]!;
      const yi = x[2 * i + 1]!;
      let px = 0;
      let py = 0;
      for (let k = s; k < e; k++) {
        const j = adj[k]! << 1;
        const wk = w[k]!;
        px += wk * (x[j]! - xi);
        py += wk * (x[j + 1]! - yi);
      }
      this.entropyAndStep(i, xi, yi, px, py, p, diff, out);
    }
  }

  private roundWmsr(p: DriftParams): void {
    const { offsets, adj } = this.graph;
    const x = this.cur;
    const out = this.next;
    const diff = this.diff;
    const n = this.n;
    const nx = this.nbrX;
    const ny = this.nbrY;
    const hi = this.hi;
    const lo = this.lo;
    const trims = this.trims;
    for (let i = 0; i < n; i++) {
      const s = offsets[i]!;
      const d = offsets[i + 1]! - s;
      const xi = x[2 * i]!;
      const yi = x[2 * i + 1]!;
      for (let k = 0; k < d; k++) {
        const j = adj[s + k]! << 1;
        nx[k] = x[j]!;
        ny[k] = x[j + 1]!;
      }
      const f = trims[i]!;
      const px = wmsrAxisPull(nx, d, xi, f, hi, lo, null, 0);
      const py = wmsrAxisPull(ny, d, yi, f, hi, lo, null, 0);
      this.entropyAndStep(i, xi, yi, px, py, p, diff, out);
    }
  }

  private pinStubborn(xy: Float64Array): void {
    const nodes = this.stubbornNodes;
    const at = this.stubbornAt;
    for (let k = 0; k < nodes.length; k++) {
      const o = 2 * nodes[k]!;
      xy[o] = at[2 * k]!;
      xy[o + 1] = at[2 * k + 1]!;
    }
  }

  /** Draws node i's entropy exactly as sampleEntropy(seededRandom(seed_i)) would, steps, writes into out. */
  private entropyAndStep(i: number, xi: number, yi: number, px: number, py: number, p: DriftParams, diff: [number, number], out: Float64Array): void {
    const r = this.rng;
    const o = 4 * i;
    let a = r[o]!;
    let b = r[o + 1]!;
    let c = r[o + 2]!;
    let d = r[o + 3]!;
    let ux = 0;
    let uy = 0;
    for (;;) {
      let t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      ux = ((t >>> 0) / 4294967296) * 2 - 1;
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      uy = ((t >>> 0) / 4294967296) * 2 - 1;
      if (ux * ux + uy * uy >= MIN_ENTROPY_NORM * MIN_ENTROPY_NORM) break; // as sampleEntropy
    }
    r[o] = a;
    r[o + 1] = b;
    r[o + 2] = c;
    r[o + 3] = d;
    driftDiffInto(diff, xi, yi, px, py, ux, uy, p);
    out[2 * i] = xi + diff[0];
    out[2 * i + 1] = yi + diff[1];
  }

  /** RMS distance to the centroid (the same measure as model/drift.ts spread()). */
  spread(): number {
    return spreadOf(this.cur, this.n);
  }

  /** Spread of the honest (not stubborn) nodes only. */
  honestSpread(): number {
    const h = this.honest;
    const x = this.cur;
    const n = h.length;
    if (n < 2) return 0;
    const [cx, cy] = this.honestCentroid();
    let s = 0;
    for (let k = 0; k < n; k++) s += (x[2 * h[k]!]! - cx) ** 2 + (x[2 * h[k]! + 1]! - cy) ** 2;
    return Math.sqrt(s / n);
  }

  /** Centroid of the honest (not stubborn) nodes. */
  honestCentroid(): [number, number] {
    const h = this.honest;
    const x = this.cur;
    let cx = 0;
    let cy = 0;
    for (let k = 0; k < h.length; k++) {
      cx += x[2 * h[k]!]!;
      cy += x[2 * h[k]! + 1]!;
    }
    return h.length > 0 ? [cx / h.length, cy / h.length] : [0, 0];
  }

  centroid(): [number, number] {
    let cx = 0;
    let cy = 0;
    const x = this.cur;
    for (let i = 0; i < this.n; i++) {
      cx += x[2 * i]!;
      cy += x[2 * i + 1]!;
    }
    return [cx / this.n, cy / this.n];
  }
}

export function spreadOf(xy: ArrayLike<number>, n: number): number {
  if (n < 2) return 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    cx += xy[2 * i]!;
    cy += xy[2 * i + 1]!;
  }
  cx /= n;
  cy /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (xy[2 * i]! - cx) ** 2 + (xy[2 * i + 1]! - cy) ** 2;
  return Math.sqrt(s / n);
}
