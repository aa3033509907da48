/**
 * The drift simulator: N nodes on a CSR graph, no network. Each cycle is one
 * synchronous round (every node steps from the drifts of the previous round,
 * like DriftNodes that all run a cycle and then exchange their diffs), through
 * the same driftDiffInto the node uses. Entropy per node comes from the same
 * sfc32 stream as seededRandom(seed_i), kept in typed arrays, so a node built
 * with `random: seededRandom(seed_i)` draws the very same samples.
 * Pure, allocation-free in the hot loop.
 */
import { driftDiffInto, MIN_ENTROPY_NORM, type DriftParams } from '../model/drift.js';
import { metropolisWeight, pullParams, type Weighting } from '../model/weights.js';
import { degree, type Graph } from './graph.js';

export interface SimulatorOptions {
  graph: Graph;
  params: DriftParams;
  weighting?: Weighting;
  /** Entropy seed of node i; default 1000 + i (test/helpers/memory-cluster.ts uses the same). */
  seedOf?: (i: number) => number;
  /** Initial drifts as [x0, y0, x1, y1, ...]; default all zero. */
  initial?: ArrayLike<number>;
}

/** The four sfc32 words of seededRandom(seed), after its splitmix32 seeding. */
export function sfc32State(seed: number): [number, number, number, number] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return [next() | 0, next() | 0, next() | 0, next() | 0];
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
  }

  get xy(): Float64Array {
    return this.cur;
  }

  /** Runs `cycles` synchronous rounds. */
  run(cycles: number): void {
    const metropolis = this.weighting === 'metropolis';
    const p = pullParams(this.params, this.weighting);
    for (let c = 0; c < cycles; c++) {
      if (metropolis) this.roundMetropolis(p);
      else this.roundSeed(p);
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
