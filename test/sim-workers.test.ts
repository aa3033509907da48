/**
 * The worker-thread engine (main/sim-workers/parallel.ts) against the
 * single-thread fast engine: the same drifts, bit for bit, for any number
 * of threads, any weighting and either kernel (with 'wasm' every worker
 * runs the WebAssembly kernel over one shared memory). Imports the built
 * code (npm run build): the workers run dist/main/sim-workers/worker.js.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS } from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';
import type { Weighting } from '../main/model/weights.js';
import { FastSimulator } from '../dist/main/sim/fast.js';
import { barabasiAlbertGraph, randomRegularGraph } from '../dist/main/sim/graph.js';
import { Simulator } from '../dist/main/sim/simulator.js';
import { ParallelSimulator } from '../dist/main/sim-workers/parallel.js';
import { partition } from '../dist/main/sim-workers/protocol.js';

const open: ParallelSimulator[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function start(...args: Parameters<typeof ParallelSimulator.start>): Promise<ParallelSimulator> {
  const sim = await ParallelSimulator.start(...args);
  open.push(sim);
  return sim;
}

function initialDrifts(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length: 2 * n }, () => random() * 20 - 10);
}

describe('worker engine == single-thread engine, bit for bit', () => {
  const g = barabasiAlbertGraph(3000, 4, 5);
  const stubborn = [0, 11, 2999].map((node) => ({ node, at: [1e5, -1e5] as const }));
  for (const engine of ['wasm', 'js'] as const) {
    for (const weighting of ['seed', 'metropolis', 'wmsr'] as Weighting[]) {
      for (const threads of [1, 2, 3]) {
        it(`${engine} kernel, ${weighting}, ${threads} thread(s), stubborn nodes, runs of 1, 7 and 40 cycles`, async () => {
          const options = { graph: g, params: DEFAULT_DRIFT_PARAMS, weighting, initial: initialDrifts(g.n, 3), stubborn };
          // The baseline is always the JavaScript kernel on one thread (itself equal to the reference: sim-fast.test.ts).
          const one = new FastSimulator({ ...options, engine: 'js' });
          const par = await start({ ...options, engine }, threads);
          expect(par.engine).toBe(engine);
          for (const cycles of [1, 7, 40]) {
            one.run(cycles);
            await par.run(cycles);
            expect(par.cycle).toBe(one.cycle);
            expect(Buffer.from(par.xy.buffer, par.xy.byteOffset, par.xy.byteLength).equals(Buffer.from(one.xy.buffer, one.xy.byteOffset, one.xy.byteLength))).toBe(true);
          }
          expect(par.stats()).toEqual(one.stats());
          expect(par.bytesPerNode()).toBe(one.bytesPerNode());
        });
      }
    }
  }

  for (const weighting of ['seed', 'metropolis'] as const) {
    it(`wasm kernel, ${weighting}, 2 threads == the reference Simulator itself on a random 8-regular graph with stubborn nodes`, async () => {
      const graph = randomRegularGraph(2000, 8, 7);
      const options = { graph, params: DEFAULT_DRIFT_PARAMS, weighting, initial: initialDrifts(graph.n, 4), stubborn: [{ node: 5, at: [30, 30] as const }] };
      const ref = new Simulator(options);
      const par = await start({ ...options, engine: 'wasm' }, 2);
      ref.run(60);
      await par.run(60);
      expect(Array.from(par.xy)).toEqual(Array.from(ref.xy));
    });
  }

  it('a changed params takes effect on the next run', async () => {
    const graph = randomRegularGraph(500, 8, 1);
    const one = new FastSimulator({ graph, params: DEFAULT_DRIFT_PARAMS, engine: 'js' });
    const par = await start({ graph, params: DEFAULT_DRIFT_PARAMS }, 2);
    expect(par.engine).toBe('wasm');
    one.run(5);
    await par.run(5);
    one.params = par.params = { alpha: 0.2, beta: 0.3, gamma: 0.01 };
    one.run(5);
    await par.run(5);
    expect(Array.from(par.xy)).toEqual(Array.from(one.xy));
  });
});

describe('worker engine lifecycle', () => {
  it('rejects a bad thread count and bad cycles with a RangeError, and runs nothing after close', async () => {
    const graph = randomRegularGraph(100, 8, 1);
    await expect(ParallelSimulator.start({ graph, params: DEFAULT_DRIFT_PARAMS }, 0)).rejects.toThrow(RangeError);
    await expect(ParallelSimulator.start({ graph, params: DEFAULT_DRIFT_PARAMS }, 1.5)).rejects.toThrow(RangeError);
    await expect(ParallelSimulator.start({ graph, params: DEFAULT_DRIFT_PARAMS, engine: 'gpu' as never }, 2)).rejects.toThrow(RangeError);
    const par = await start({ graph, params: DEFAULT_DRIFT_PARAMS }, 2);
    await expect(par.run(-1)).rejects.toThrow(RangeError);
    await par.run(0);
    expect(par.cycle).toBe(0);
    await par.close();
    await expect(par.run(1)).rejects.toThrow(/closed/);
  });

  it('splits the nodes by work: a slice holding the hubs of a Barabasi-Albert graph holds fewer nodes', () => {
    const g = barabasiAlbertGraph(10_000, 4, 1);
    const bounds = partition(g.offsets, g.n, 2);
    expect(bounds[0]).toBe(0);
    expect(bounds[2]).toBe(g.n);
    const work = (a: number, b: number): number => g.offsets[b]! - g.offsets[a]! + 8 * (b - a);
    expect(work(0, bounds[1]!) / work(bounds[1]!, g.n)).toBeGreaterThan(0.95);
    expect(work(0, bounds[1]!) / work(bounds[1]!, g.n)).toBeLessThan(1.05);
    expect(bounds[1]!).toBeLessThan(g.n / 2); // the old nodes (hubs) come first
  });
});
