/**
 * The fast simulator engine: the same model and the same numbers as the
 * reference Simulator (simulator.ts), run by the kernel (kernel.ts) over a
 * memory-lean state of typed arrays. The state can live in
 * SharedArrayBuffers, so worker threads step slices of it in place
 * (main/sim-workers/parallel.ts); FastSimulator runs it on the calling
 * thread.
 *
 * Per node, beyond the graph: the drifts twice (this round and the next,
 * 2 x 16 bytes), the sfc32 state (16 bytes), and only where the run needs
 * them 1/(1 + d) for Metropolis (8), F for W-MSR (1) and a stubborn flag
 * (1): 48 to 57 bytes (bytesPerNode).
 *
 * Two kernels run the rounds: WebAssembly with SIMD (wasm.ts, kernel.wat;
 * the default) and JavaScript (kernel.ts; the fallback, and the baseline
 * the benchmark measures it against).
 *
 * Pure: no Node, DOM or Electron import.
 */
import type { DriftParams } from '../model/drift.js';
import { metropolisInverse, pullParams, type Weighting } from '../model/weights.js';
import { wmsrTrim } from '../model/wmsr.js';
import type { Graph } from './graph.js';
import { kernelScratch, METROPOLIS, round, SEED, WMSR, type KernelArrays, type KernelScratch, type WeightingCode } from './kernel.js';
import { sfc32State } from '../model/prng.js';
import type { SimulatorOptions } from './simulator.js';
import { instantiateKernel, placeInWasmMemory, wasmAvailable, wasmRound, type Engine, type WasmKernel } from './wasm.js';

/** The fast engines' options: the reference Simulator's, and which kernel runs the rounds. */
export interface FastSimulatorOptions extends SimulatorOptions {
  /** Default: 'wasm' where the runtime has WebAssembly SIMD (Node.js 20 has), else 'js'. Both give the same drifts. */
  engine?: Engine;
}

/** The engine an options object asks for, validated; the default where it names none. */
export function chooseEngine(engine: unknown): Engine {
  if (engine === undefined) return wasmAvailable() ? 'wasm' : 'js';
  if (engine !== 'wasm' && engine !== 'js') throw new RangeError('engine must be "wasm" or "js"');
  if (engine === 'wasm' && !wasmAvailable()) throw new RangeError('engine "wasm" needs WebAssembly SIMD, which this runtime lacks');
  return engine;
}

/** Where a state's arrays are allocated: ArrayBuffer for one thread, SharedArrayBuffer for several. */
export type Allocate = (bytes: number) => ArrayBuffer | SharedArrayBuffer;

export const allocateLocal: Allocate = (bytes) => new ArrayBuffer(bytes);

/** Most a W-MSR trim can be here (F is kept in a byte per node). */
export const MAX_SIM_TRIM = 255;

/** Everything a round reads and writes: typed arrays only, so it can be handed to worker threads as it is. */
export interface SimState {
  readonly n: number;
  readonly code: WeightingCode;
  readonly offsets: Int32Array;
  readonly adj: Int32Array;
  /** The two drift buffers, interleaved [x0, y0, ...]: cycle c reads xy[c % 2] and writes xy[(c + 1) % 2]. */
  readonly xyA: Float64Array;
  readonly xyB: Float64Array;
  readonly rng: Int32Array;
  readonly inverse: Float64Array | null;
  readonly trim: Uint8Array | null;
  readonly pinned: Uint8Array | null;
  readonly maxDegree: number;
  readonly maxTrim: number;
  /** Nodes that are not stubborn. */
  readonly honestCount: number;
}

export function weightingCode(weighting: Weighting): WeightingCode {
  return weighting === 'metropolis' ? METROPOLIS : weighting === 'wmsr' ? WMSR : SEED;
}

export function kernelArrays(s: SimState): KernelArrays {
  return { offsets: s.offsets, adj: s.adj, rng: s.rng, inverse: s.inverse, trim: s.trim, pinned: s.pinned };
}

/**
 * Builds the state of a run, validated as the reference Simulator
 * validates its options. With `shareGraph`, the graph is copied into
 * buffers from `allocate` too (for worker threads); otherwise its arrays
 * are used as they are.
 */
export function createSimState(options: SimulatorOptions, allocate: Allocate = allocateLocal, shareGraph = false): SimState {
  const g: Graph = options.graph;
  const n = g.n;
  const weighting = options.weighting ?? 'seed';
  const code = weightingCode(weighting);
  if (options.initial && options.initial.length !== 2 * n) throw new RangeError('initial must hold 2n numbers');
  if (options.trim !== undefined && !(Number.isInteger(options.trim) && options.trim >= 0 && options.trim <= MAX_SIM_TRIM)) {
    throw new RangeError(`trim must be an integer from 0 to ${MAX_SIM_TRIM}`);
  }
  const f64 = (len: number): Float64Array => new Float64Array(allocate(8 * len));
  const offsets = shareGraph ? copyInt32(g.offsets, allocate) : g.offsets;
  const adj = shareGraph ? copyInt32(g.adj, allocate) : g.adj;
  const xyA = f64(2 * n);
  const xyB = f64(2 * n);
  if (options.initial) for (let k = 0; k < 2 * n; k++) xyA[k] = options.initial[k]!;
  const rng = new Int32Array(allocate(16 * n));
  const seedOf = options.seedOf ?? ((i: number) => 1000 + i);
  for (let i = 0; i < n; i++) rng.set(sfc32State(seedOf(i)), 4 * i);

  let maxDegree = 0;
  for (let i = 0; i < n; i++) maxDegree = Math.max(maxDegree, g.offsets[i + 1]! - g.offsets[i]!);
  let inverse: Float64Array | null = null;
  if (code === METROPOLIS) {
    inverse = f64(n);
    for (let i = 0; i < n; i++) inverse[i] = metropolisInverse(g.offsets[i + 1]! - g.offsets[i]!);
  }
  let trim: Uint8Array | null = null;
  let maxTrim = 1;
  if (code === WMSR) {
    trim = new Uint8Array(allocate(n));
    for (let i = 0; i < n; i++) {
      trim[i] = options.trim ?? wmsrTrim(g.offsets[i + 1]! - g.offsets[i]!);
      maxTrim = Math.max(maxTrim, trim[i]!);
    }
  }

  const stubborn = options.stubborn ?? [];
  let pinned: Uint8Array | null = null;
  let honestCount = n;
  if (stubborn.length > 0) {
    pinned = new Uint8Array(allocate(n));
    for (const s of stubborn) {
      if (!Number.isInteger(s.node) || s.node < 0 || s.node >= n) throw new RangeError(`stubborn node ${s.node} outside 0..${n - 1}`);
      if (!Number.isFinite(s.at[0]) || !Number.isFinite(s.at[1])) throw new RangeError(`stubborn node ${s.node}: value must be finite`);
      if (pinned[s.node] === 0) honestCount--;
      pinned[s.node] = 1;
      // Both buffers hold the pinned value; the kernel never writes a pinned node.
      xyA[2 * s.node] = xyB[2 * s.node] = s.at[0];
      xyA[2 * s.node + 1] = xyB[2 * s.node + 1] = s.at[1];
    }
  }
  return { n, code, offsets, adj, xyA, xyB, rng, inverse, trim, pinned, maxDegree, maxTrim, honestCount };
}

function copyInt32(a: Int32Array, allocate: Allocate): Int32Array {
  const out = new Int32Array(allocate(4 * Math.max(1, a.length)), 0, a.length);
  out.set(a);
  return out;
}

/** Bytes per node the state holds beyond the graph (offsets and adj are not counted). */
export function bytesPerNode(s: SimState): number {
  const bytes = s.xyA.byteLength + s.xyB.byteLength + s.rng.byteLength + (s.inverse?.byteLength ?? 0) + (s.trim?.byteLength ?? 0) + (s.pinned?.byteLength ?? 0);
  return s.n > 0 ? bytes / s.n : 0;
}

/** The drifts after `cycle` rounds. */
export function currentDrifts(s: SimState, cycle: number): Float64Array {
  return cycle % 2 === 0 ? s.xyA : s.xyB;
}

/** Summary statistics of a state's drifts: spread and centroid of all nodes and of the honest (not stubborn) ones. */
export interface DriftStats {
  /** RMS distance to the centroid, all nodes (model/drift.ts spread()). */
  readonly spread: number;
  readonly centroid: [number, number];
  readonly honestSpread: number;
  readonly honestCentroid: [number, number];
}

/** Two passes over the drifts (centroid, then the spread around it), all nodes and the honest ones at once. */
export function driftStats(xy: Float64Array, n: number, pinned: Uint8Array | null): DriftStats {
  let cx = 0;
  let cy = 0;
  let hx = 0;
  let hy = 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!;
    const y = xy[2 * i + 1]!;
    cx += x;
    cy += y;
    if (pinned === null || pinned[i] === 0) {
      hx += x;
      hy += y;
      h++;
    }
  }
  cx = n > 0 ? cx / n : 0;
  cy = n > 0 ? cy / n : 0;
  hx = h > 0 ? hx / h : 0;
  hy = h > 0 ? hy / h : 0;
  let s = 0;
  let hs = 0;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!;
    const y = xy[2 * i + 1]!;
    s += (x - cx) ** 2 + (y - cy) ** 2;
    if (pinned === null || pinned[i] === 0) hs += (x - hx) ** 2 + (y - hy) ** 2;
  }
  return {
    spread: n >= 2 ? Math.sqrt(s / n) : 0,
    centroid: [cx, cy],
    honestSpread: h >= 2 ? Math.sqrt(hs / h) : 0,
    honestCentroid: [hx, hy],
  };
}

/** The fast engine on the calling thread. Same options, same drifts as Simulator. */
export class FastSimulator {
  readonly state: SimState;
  readonly n: number;
  readonly weighting: Weighting;
  readonly engine: Engine;
  params: DriftParams;
  cycle = 0;
  private readonly arrays: KernelArrays;
  private readonly scratch: KernelScratch;
  private readonly kernel: WasmKernel | null;
  private readonly pullAt: number;

  constructor(options: FastSimulatorOptions) {
    this.engine = chooseEngine(options.engine);
    if (this.engine === 'wasm') {
      const placed = placeInWasmMemory(createSimState(options), false);
      this.state = placed.state;
      this.kernel = instantiateKernel(placed.memory, false);
      this.pullAt = placed.pullAt[0]!;
    } else {
      this.state = createSimState(options);
      this.kernel = null;
      this.pullAt = 0;
    }
    this.n = this.state.n;
    this.weighting = options.weighting ?? 'seed';
    this.params = options.params;
    this.arrays = kernelArrays(this.state);
    this.scratch = kernelScratch(this.state.maxDegree, this.state.maxTrim);
  }

  /** Current drifts, interleaved [x0, y0, ...] (one of the two buffers: read it again after run). */
  get xy(): Float64Array {
    return currentDrifts(this.state, this.cycle);
  }

  run(cycles: number): void {
    const s = this.state;
    const p = pullParams(this.params, this.weighting);
    for (let c = 0; c < cycles; c++) {
      const x = this.cycle % 2 === 0 ? s.xyA : s.xyB;
      const out = this.cycle % 2 === 0 ? s.xyB : s.xyA;
      if (this.kernel !== null) wasmRound(this.kernel, s, this.arrays, x, out, 0, s.n, p, this.scratch, this.pullAt);
      else round(s.code, this.arrays, x, out, 0, s.n, p, this.scratch);
      this.cycle++;
    }
  }

  stats(): DriftStats {
    return driftStats(this.xy, this.n, this.state.pinned);
  }

  spread(): number {
    return this.stats().spread;
  }

  bytesPerNode(): number {
    return bytesPerNode(this.state);
  }
}
