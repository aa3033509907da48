/**
 * The fast simulator on several cores: worker threads step contiguous
 * slices of the nodes in place, on one state in SharedArrayBuffers
 * (main/sim/fast.ts), with a barrier of Atomics between rounds
 * (protocol.ts). The drifts are the single-thread engine's, bit for bit:
 * every node reads only the previous round.
 *
 * Either kernel (FastSimulatorOptions.engine): with 'wasm' the state lives
 * in one shared WebAssembly memory and each worker instantiates the kernel
 * over it.
 *
 *   const sim = await ParallelSimulator.start({ graph, params, weighting: 'wmsr' }, 2);
 *   await sim.run(1000);
 *   sim.stats().spread;
 *   await sim.close();
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DriftParams } from '../model/drift.js';
import { pullParams, type Weighting } from '../model/weights.js';
import { bytesPerNode, chooseEngine, createSimState, currentDrifts, driftStats, type DriftStats, type FastSimulatorOptions, type SimState } from '../sim/fast.js';
import { placeInWasmMemory, type Engine, type KernelMemory } from '../sim/wasm.js';
import { COMMAND, CONTROL_SLOTS, CYCLES, DONE, FAILED, PARAM_SLOTS, PARITY, partition, STOP, type WorkerSetup } from './protocol.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Most worker threads one simulator starts. */
export const MAX_SIM_THREADS = 64;

const share = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);

/** Atomics.waitAsync (V8, Node >= 16; not in the ES2022 lib types). */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

export class ParallelSimulator {
  readonly state: SimState;
  readonly n: number;
  readonly weighting: Weighting;
  readonly engine: Engine;
  readonly threads: number;
  /** Node slices, threads + 1 boundaries. */
  readonly bounds: readonly number[];
  params: DriftParams;
  cycle = 0;
  private readonly control: Int32Array;
  private readonly paramArray: Float64Array;
  private readonly workers: Worker[];
  private failure: Error | null = null;
  private closed = false;

  private constructor(options: FastSimulatorOptions, threads: number) {
    this.engine = chooseEngine(options.engine);
    let memory: KernelMemory | null = null;
    let pullAt: readonly number[] = [];
    if (this.engine === 'wasm') {
      const placed = placeInWasmMemory(createSimState(options), true, threads);
      this.state = placed.state;
      memory = placed.memory;
      pullAt = placed.pullAt;
    } else {
      this.state = createSimState(options, share, true);
    }
    this.n = this.state.n;
    this.weighting = options.weighting ?? 'seed';
    this.params = options.params;
    this.threads = threads;
    this.control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
    this.paramArray = new Float64Array(new SharedArrayBuffer(8 * PARAM_SLOTS));
    this.bounds = partition(this.state.offsets, this.n, threads);
    this.workers = [];
    for (let t = 0; t < threads; t++) {
      const workerData: WorkerSetup = { state: this.state, engine: this.engine, memory, pullAt: pullAt[t] ?? 0, control: this.control, params: this.paramArray, from: this.bounds[t]!, to: this.bounds[t + 1]!, parties: threads };
      const w = new Worker(WORKER_URL, { workerData });
      w.on('message', (m: { error?: string }) => {
        if (m.error !== undefined) this.failure ??= new Error(`simulator worker ${t}: ${m.error}`);
      });
      w.on('error', (err) => {
        this.failure ??= err;
      });
      w.on('exit', (code) => {
        if (!this.closed) this.failure ??= new Error(`simulator worker ${t} exited (${code})`);
      });
      this.workers.push(w);
    }
  }

  /** Builds the shared state and starts `threads` workers (default: one per core). Resolves when all are running. */
  static async start(options: FastSimulatorOptions, threads = availableParallelism()): Promise<ParallelSimulator> {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_SIM_THREADS)) throw new RangeError(`threads must be an integer from 1 to ${MAX_SIM_THREADS}`);
    const sim = new ParallelSimulator(options, threads);
    await Promise.all(sim.workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('online', resolve);
      w.once('error', reject);
    })));
    return sim;
  }

  /** Current drifts, interleaved [x0, y0, ...] (a view of shared memory: do not read it while a run is under way). */
  get xy(): Float64Array {
    return currentDrifts(this.state, this.cycle);
  }

  /** Runs `cycles` synchronous rounds on the workers; resolves when all of them are done. */
  async run(cycles: number): Promise<void> {
    if (this.closed) throw new Error('simulator closed');
    if (this.failure) throw this.failure;
    if (!(Number.isInteger(cycles) && cycles >= 0)) throw new RangeError('cycles must be a non-negative integer');
    if (cycles === 0) return;
    const c = this.control;
    const p = pullParams(this.params, this.weighting);
    this.paramArray[0] = p.alpha;
    this.paramArray[1] = p.beta;
    this.paramArray[2] = p.gamma;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, CYCLES, cycles);
    Atomics.store(c, PARITY, this.cycle % 2);
    Atomics.add(c, COMMAND, 1);
    Atomics.notify(c, COMMAND);
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === this.threads) break;
      if (this.failure) throw this.failure;
      // Wake at least every 200 ms to notice a worker that died (its 'exit' sets failure).
      const wait = waitAsync(c, DONE, done, 200);
      if (wait.async) await wait.value;
    }
    this.cycle += cycles;
    if (Atomics.load(c, FAILED) === 1) {
      // The worker's message may still be on its way.
      await new Promise((resolve) => setImmediate(resolve));
      throw this.failure ?? new Error('a simulator worker failed');
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

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, COMMAND, 1);
    Atomics.notify(this.control, COMMAND);
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
      if (w.threadId < 0) resolve();
      else w.once('exit', () => resolve());
    })));
  }
}
