/**
 * The WebAssembly engine of the fast simulator: the kernel of kernel.wat
 * (SIMD, one f64x2 per drift) stepping a state that lives in its linear
 * memory. The same numbers as kernel.ts and the reference Simulator, bit
 * for bit (test/sim-fast.test.ts, test/sim-wasm.test.ts); over twice the
 * reference's speed on one core (BENCHMARKS.md row 10).
 *
 * The seed rule and Metropolis run in WebAssembly. W-MSR's pulls (a
 * selection of the F largest and smallest values per axis, wmsrAxisPull)
 * run in the JavaScript kernel over the same arrays: its time is the
 * selection's, which SIMD lanes do not shorten.
 *
 * For worker threads the memory is shared (a SharedArrayBuffer): every
 * thread instantiates the module over the same memory and steps its own
 * slice (main/sim-workers/).
 *
 * Pure: WebAssembly is a global of Node.js and of browsers alike; the few
 * of its types used here are declared below.
 */
import { MIN_ENTROPY_NORM, type DriftParams } from '../model/drift.js';
import type { SimState } from './fast.js';
import { KERNEL_WASM_LOCAL, KERNEL_WASM_SHARED } from './kernel-wasm.js';
import { BLOCK, FUSED_MAX_DRIFTS, METROPOLIS, round, SEED, type KernelArrays, type KernelScratch } from './kernel.js';

/** The engines of the fast simulator: the WebAssembly kernel or the JavaScript one. */
export type Engine = 'wasm' | 'js';

/** The part of the WebAssembly API used here (not in the ES2022 lib types). */
export interface KernelMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: KernelMemory } }) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => KernelMemory;
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Bytes per page of WebAssembly memory. */
const PAGE = 65_536;
/** Most pages a 32-bit memory can have (4 GiB). */
export const MAX_KERNEL_PAGES = 65_536;
/** Every array starts on a multiple of this (a v128 load of a drift is aligned); address 0 stays unused, so 0 means "no array". */
const ALIGN = 16;

const MIN_NORM_SQUARED = MIN_ENTROPY_NORM * MIN_ENTROPY_NORM;

let available: boolean | undefined;

/** True when this runtime runs WebAssembly with SIMD (Node.js >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4). */
export function wasmAvailable(): boolean {
  return (available ??= wasmApi !== undefined && wasmApi.validate(KERNEL_WASM_LOCAL));
}

const modules: { local?: WasmModule; shared?: WasmModule } = {};

function kernelModule(shared: boolean): WasmModule {
  if (!wasmApi) throw new Error('this runtime has no WebAssembly');
  if (shared) return (modules.shared ??= new wasmApi.Module(KERNEL_WASM_SHARED));
  return (modules.local ??= new wasmApi.Module(KERNEL_WASM_LOCAL));
}

type SeedRound = (x: number, out: number, from: number, to: number, offsets: number, adj: number, rng: number, pinned: number, alpha: number, beta: number, gamma: number, minNorm2: number) => void;
type SeedRoundBlocked = (x: number, out: number, from: number, to: number, offsets: number, adj: number, rng: number, pinned: number, pullBuf: number, block: number, alpha: number, beta: number, gamma: number, minNorm2: number) => void;
type MetropolisRound = (x: number, out: number, from: number, to: number, offsets: number, adj: number, rng: number, pinned: number, inverse: number, alpha: number, beta: number, gamma: number, minNorm2: number) => void;

/** The kernel instantiated over one state's memory: rounds on byte addresses of that memory. */
export interface WasmKernel {
  readonly seedRound: SeedRound;
  readonly seedRoundBlocked: SeedRoundBlocked;
  readonly metropolisRound: MetropolisRound;
}

/** Instantiates the kernel over `memory` (shared for worker threads). */
export function instantiateKernel(memory: KernelMemory, shared: boolean): WasmKernel {
  const instance = new wasmApi!.Instance(kernelModule(shared), { env: { memory } });
  return {
    seedRound: instance.exports.seedRound as SeedRound,
    seedRoundBlocked: instance.exports.seedRoundBlocked as SeedRoundBlocked,
    metropolisRound: instance.exports.metropolisRound as MetropolisRound,
  };
}

/** A state whose arrays are views of one WebAssembly memory. */
export interface WasmSimState {
  readonly state: SimState;
  readonly memory: KernelMemory;
  readonly shared: boolean;
  /** Per thread, the address of its BLOCK pulls (16 bytes each) for the seed rule's blocked rounds. */
  readonly pullAt: readonly number[];
}

/**
 * A copy of the state `s` (from createSimState) in a WebAssembly memory
 * made to its size, the graph included, with scratch for `threads`
 * threads. The memory never grows, so the views stay valid.
 */
export function placeInWasmMemory(s: SimState, shared: boolean, threads = 1): WasmSimState {
  if (!wasmAvailable()) throw new Error('this runtime has no WebAssembly SIMD: use engine "js"');
  const arrays = [s.offsets, s.adj, s.xyA, s.xyB, s.rng, s.inverse, s.trim, s.pinned];
  const pullBytes = 16 * BLOCK;
  let bytes = ALIGN + threads * pullBytes;
  for (const a of arrays) if (a !== null) bytes += alignUp(a.byteLength);
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > MAX_KERNEL_PAGES) throw new RangeError(`the state needs ${bytes} bytes, more than a WebAssembly memory holds (4 GiB): use engine "js"`);
  const memory = new wasmApi!.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
  const pullAt = Array.from({ length: threads }, (_, t) => ALIGN + t * pullBytes);
  let at = ALIGN + threads * pullBytes;
  const place = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (buffer: ArrayBuffer, offset: number, length: number) => T): T => {
    const view = make(memory.buffer as ArrayBuffer, at, a.length);
    view.set(a as never);
    at += alignUp(a.byteLength);
    return view;
  };
  const i32 = (b: ArrayBuffer, o: number, l: number): Int32Array => new Int32Array(b, o, l);
  const f64 = (b: ArrayBuffer, o: number, l: number): Float64Array => new Float64Array(b, o, l);
  const u8 = (b: ArrayBuffer, o: number, l: number): Uint8Array => new Uint8Array(b, o, l);
  const state: SimState = {
    ...s,
    offsets: place(s.offsets, i32),
    adj: place(s.adj, i32),
    xyA: place(s.xyA, f64),
    xyB: place(s.xyB, f64),
    rng: place(s.rng, i32),
    inverse: s.inverse === null ? null : place(s.inverse, f64),
    trim: s.trim === null ? null : place(s.trim, u8),
    pinned: s.pinned === null ? null : place(s.pinned, u8),
  };
  return { state, memory, shared, pullAt };
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/**
 * One synchronous round for nodes from..to-1, x -> out (two drift buffers
 * of the state), with `p` = pullParams(params, weighting): the seed rule
 * and Metropolis in WebAssembly, W-MSR in the JavaScript kernel. `pullAt`
 * is this thread's pull scratch (WasmSimState.pullAt). As in the
 * JavaScript kernel, the seed rule runs node by node while the drifts fit
 * in the cache and in blocks beyond (same numbers either way).
 */
export function wasmRound(kernel: WasmKernel, s: SimState, arrays: KernelArrays, x: Float64Array, out: Float64Array, from: number, to: number, p: DriftParams, scratch: KernelScratch, pullAt: number): void {
  const pinned = s.pinned === null ? 0 : s.pinned.byteOffset;
  if (s.code === SEED && x.length > FUSED_MAX_DRIFTS) {
    kernel.seedRoundBlocked(x.byteOffset, out.byteOffset, from, to, s.offsets.byteOffset, s.adj.byteOffset, s.rng.byteOffset, pinned, pullAt, BLOCK, p.alpha, p.beta, p.gamma, MIN_NORM_SQUARED);
  } else if (s.code === SEED) {
    kernel.seedRound(x.byteOffset, out.byteOffset, from, to, s.offsets.byteOffset, s.adj.byteOffset, s.rng.byteOffset, pinned, p.alpha, p.beta, p.gamma, MIN_NORM_SQUARED);
  } else if (s.code === METROPOLIS) {
    kernel.metropolisRound(x.byteOffset, out.byteOffset, from, to, s.offsets.byteOffset, s.adj.byteOffset, s.rng.byteOffset, pinned, s.inverse!.byteOffset, p.alpha, p.beta, p.gamma, MIN_NORM_SQUARED);
  } else {
    round(s.code, arrays, x, out, from, to, p, scratch);
  }
}
