/**
 * What is particular to the WebAssembly kernel (main/sim/kernel.wat,
 * main/sim/wasm.ts): its state lives in one WebAssembly memory, it redraws
 * a too-short entropy sample as sampleEntropy does, it is the default
 * where the runtime has SIMD, a bad engine is refused, and its blocked
 * seed-rule rounds (past FUSED_MAX_DRIFTS) give the same numbers. Its drifts
 * against the reference and the JavaScript kernel: test/sim-fast.test.ts
 * and test/sim-workers.test.ts. Imports the built code (npm run build).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS, MIN_ENTROPY_NORM, sampleEntropy } from '../main/model/drift.js';
import { sfc32 } from '../main/model/prng.js';
import { FastSimulator } from '../dist/main/sim/fast.js';
import { barabasiAlbertGraph, fromLists, randomRegularGraph } from '../dist/main/sim/graph.js';
import { Simulator } from '../dist/main/sim/simulator.js';
import { BLOCK, FUSED_MAX_DRIFTS } from '../dist/main/sim/kernel.js';
import { wasmAvailable } from '../dist/main/sim/wasm.js';
import { ParallelSimulator } from '../dist/main/sim-workers/parallel.js';

/**
 * An sfc32 state whose first two outputs are both 2^31, so the first
 * sample is u = (0, 0) and must be drawn again: t1 = a + b + d, then
 * t2 = (b ^ b >>> 9) + 9c + d + 1 (9 is odd, so c is found mod 2^32).
 */
function zeroFirstDraw(b: number, d: number): [number, number, number, number] {
  const target = 0x80000000;
  const a = (target - b - d) | 0;
  const a2 = (b ^ (b >>> 9)) | 0;
  // 9 * c = target - a2 - (d + 1) mod 2^32; the inverse of 9 mod 2^32 is 0x38e38e39.
  const c = Math.imul((target - a2 - ((d + 1) | 0)) | 0, 0x38e38e39);
  return [a, b, c, d];
}

describe('the WebAssembly kernel', () => {
  it('is available here (Node.js 20 has SIMD) and is the default engine', () => {
    expect(wasmAvailable()).toBe(true);
    const g = randomRegularGraph(100, 8, 1);
    expect(new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS }).engine).toBe('wasm');
    expect(new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, engine: 'js' }).engine).toBe('js');
  });

  it('refuses an engine it does not know with a RangeError', () => {
    const g = randomRegularGraph(100, 8, 1);
    expect(() => new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, engine: 'gpu' as never })).toThrow(RangeError);
  });

  it('keeps the whole state, graph included, in one WebAssembly memory, every array 16-byte aligned and none at address 0', () => {
    const g = barabasiAlbertGraph(500, 4, 1);
    const sim = new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting: 'metropolis', stubborn: [{ node: 3, at: [1, 1] }] });
    const s = sim.state;
    const arrays = [s.offsets, s.adj, s.xyA, s.xyB, s.rng, s.inverse!, s.pinned!];
    for (const a of arrays) {
      expect(a.buffer).toBe(s.xyA.buffer);
      expect(a.byteOffset % 16).toBe(0);
      expect(a.byteOffset).toBeGreaterThan(0);
    }
    expect(Array.from(s.adj)).toEqual(Array.from(g.adj));
    expect(Array.from(s.offsets)).toEqual(Array.from(g.offsets));
    // No two arrays overlap.
    const spans = arrays.map((a) => [a.byteOffset, a.byteOffset + a.byteLength] as const).sort((p, q) => p[0] - q[0]);
    for (let k = 1; k < spans.length; k++) expect(spans[k]![0]).toBeGreaterThanOrEqual(spans[k - 1]![1]);
  });

  for (const weighting of ['seed', 'metropolis'] as const) {
    it(`${weighting}: a sample with |u| < MIN_ENTROPY_NORM is drawn again, as sampleEntropy draws it, in both kernels and the reference`, () => {
      const g = randomRegularGraph(64, 8, 3);
      const state = zeroFirstDraw(0x12345678, 77);
      const first = sfc32(state);
      const u0 = [first() * 2 - 1, first() * 2 - 1];
      expect(u0).toEqual([0, 0]);
      expect(Math.hypot(u0[0]!, u0[1]!)).toBeLessThan(MIN_ENTROPY_NORM);
      const sims = [
        new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting, engine: 'wasm' }),
        new FastSimulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting, engine: 'js' }),
      ];
      const ref = new Simulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting });
      for (const sim of sims) sim.state.rng.set(state, 4 * 5);
      (ref as unknown as { rng: Int32Array }).rng.set(state, 4 * 5);
      for (const sim of sims) sim.run(1);
      ref.run(1);
      // Node 5 drew twice (4 outputs): its counter word moved by 4; a node that drew once moved by 2.
      expect(sims[0]!.state.rng[4 * 5 + 3]! - state[3]).toBe(4);
      const expected = sampleEntropy(sfc32(state));
      expect(expected).not.toEqual([0, 0]);
      // Node 5 started at the origin with its neighbours: its step is alpha * u / |u| of the second sample.
      const norm = Math.sqrt(expected[0] * expected[0] + expected[1] * expected[1]);
      expect(sims[0]!.xy[10]).toBe((DEFAULT_DRIFT_PARAMS.alpha * expected[0]) / norm);
      for (const sim of sims) expect(Array.from(sim.xy)).toEqual(Array.from(ref.xy));
      for (const sim of sims) sim.run(20);
      ref.run(20);
      for (const sim of sims) expect(Array.from(sim.xy)).toEqual(Array.from(ref.xy));
    });
  }

  it('past FUSED_MAX_DRIFTS the seed rule runs in blocks, with stubborn nodes, on one thread and on 2, with the reference\'s numbers', async () => {
    const n = FUSED_MAX_DRIFTS / 2 + 2 * BLOCK + 77;
    const graph = barabasiAlbertGraph(n, 4, 3);
    const stubborn = [0, 1, BLOCK - 1, BLOCK, n - 1].map((node) => ({ node, at: [1e5, -1e5] as const }));
    const options = { graph, params: DEFAULT_DRIFT_PARAMS, stubborn };
    const ref = new Simulator(options);
    const one = new FastSimulator({ ...options, engine: 'wasm' });
    const two = await ParallelSimulator.start({ ...options, engine: 'wasm' }, 2);
    try {
      ref.run(3);
      one.run(3);
      await two.run(3);
      expect(Buffer.from(one.xy.buffer, one.xy.byteOffset, one.xy.byteLength).equals(Buffer.from(ref.xy.buffer, ref.xy.byteOffset, ref.xy.byteLength))).toBe(true);
      expect(Buffer.from(two.xy.buffer, two.xy.byteOffset, two.xy.byteLength).equals(Buffer.from(ref.xy.buffer, ref.xy.byteOffset, ref.xy.byteLength))).toBe(true);
      for (const s of stubborn) expect([one.xy[2 * s.node], one.xy[2 * s.node + 1]]).toEqual([1e5, -1e5]);
    } finally {
      await two.close();
    }
  });

  it('runs graphs of no node, one node and one link as the reference does', () => {
    for (const lists of [[], [[]], [[1], [0]]] as number[][][]) {
      const options = { graph: fromLists(lists), params: DEFAULT_DRIFT_PARAMS };
      const wasm = new FastSimulator({ ...options, engine: 'wasm' });
      const ref = new Simulator(options);
      wasm.run(5);
      ref.run(5);
      expect(Array.from(wasm.xy)).toEqual(Array.from(ref.xy));
    }
  });

  it('a changed params takes effect on the next run, as in the JavaScript kernel', () => {
    const graph = randomRegularGraph(500, 8, 1);
    const wasm = new FastSimulator({ graph, params: DEFAULT_DRIFT_PARAMS, engine: 'wasm' });
    const js = new FastSimulator({ graph, params: DEFAULT_DRIFT_PARAMS, engine: 'js' });
    wasm.run(5);
    js.run(5);
    wasm.params = js.params = { alpha: 0.2, beta: 0.3, gamma: 0.01 };
    wasm.run(5);
    js.run(5);
    expect(Array.from(wasm.xy)).toEqual(Array.from(js.xy));
  });
});
