/**
 * What the coordinating thread and the simulator's worker threads share: the
 * slots of the control array and the barrier that ends every round. Rounds
 * are synchronised with Atomics on a SharedArrayBuffer, no message per
 * round: a run of C cycles is one command, and the workers pass C - 1
 * barriers among themselves before they report it done.
 */
import type { SimState } from '../sim/fast.js';
import type { Engine, KernelMemory } from '../sim/wasm.js';

/** Int32 slots of the control array. */
export const COMMAND = 0; // bumped by the coordinator to start a job
export const CYCLES = 1; // rounds in the job
export const PARITY = 2; // cycle % 2 at the start of the job: which drift buffer is current
export const DONE = 3; // workers finished with the job
export const ARRIVED = 4; // workers at the barrier
export const GENERATION = 5; // barrier generation, bumped by the last to arrive
export const STOP = 6; // 1: leave the loop
export const FAILED = 7; // 1: a worker threw (its message follows on the port)
export const CONTROL_SLOTS = 8;

/** Float64 slots of the parameter array: alpha, beta, gamma as pullParams gives them. */
export const PARAM_SLOTS = 3;

/**
 * Spins of the barrier before it sleeps in Atomics.wait. A round of 5,000
 * nodes takes ~100 µs and waking a sleeping thread ~50 µs, so a worker
 * first polls (~20-40 µs of spinning) and then sleeps, which keeps a
 * descheduled partner on a busy machine from costing a core.
 */
export const BARRIER_SPINS = 20_000;

/** What a worker is started with (workerData): the state's arrays (over SharedArrayBuffers) and its slice. */
export interface WorkerSetup {
  readonly state: SimState;
  readonly engine: Engine;
  /** Engine 'wasm': the shared WebAssembly memory the state's arrays are views of (each worker instantiates the kernel over it). */
  readonly memory: KernelMemory | null;
  /** Engine 'wasm': the address of this worker's pull scratch in that memory (WasmSimState.pullAt). */
  readonly pullAt: number;
  readonly control: Int32Array;
  readonly params: Float64Array;
  readonly from: number;
  readonly to: number;
  readonly parties: number;
}

/** Waits until all `parties` threads have called it (sense by generation; reusable). */
export function barrier(control: Int32Array, parties: number): void {
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, ARRIVED, 1) === parties - 1) {
    Atomics.store(control, ARRIVED, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    return;
  }
  for (let spin = 0; spin < BARRIER_SPINS; spin++) {
    if (Atomics.load(control, GENERATION) !== generation) return;
  }
  while (Atomics.load(control, GENERATION) === generation) Atomics.wait(control, GENERATION, generation);
}

/**
 * Splits nodes 0..n-1 into `parts` contiguous slices of about equal work,
 * counting a node as BASE_COST plus its degree (a hub of a Barabasi-Albert
 * graph is many nodes' work). Returns parts + 1 boundaries.
 */
export function partition(offsets: Int32Array, n: number, parts: number): number[] {
  const BASE_COST = 8;
  const total = offsets[n]! + BASE_COST * n;
  const bounds = [0];
  let i = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (i < n && offsets[i]! + BASE_COST * i < target) i++;
    bounds.push(i);
  }
  bounds.push(n);
  return bounds;
}
