/**
 * The fast engine (main/sim/fast.ts) with each of its kernels, JavaScript
 * (main/sim/kernel.ts) and WebAssembly SIMD (main/sim/kernel.wat,
 * main/sim/wasm.ts), against the reference Simulator: the same drifts, bit
 * for bit, for every weighting, with and without stubborn nodes, on graphs
 * with every degree class the kernels handle; its memory accounting; the
 * exact shortcuts it takes. Imports the built engine (npm run build): the
 * WebAssembly kernel's bytes exist only in dist.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS, type DriftParams } from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';
import { metropolisInverse, metropolisWeight, type Weighting } from '../main/model/weights.js';
import { FastSimulator, MAX_SIM_TRIM, bytesPerNode, createSimState } from '../dist/main/sim/fast.js';
import type { Engine } from '../dist/main/sim/wasm.js';
import { barabasiAlbertGraph, completeGraph, fromEdges, fromLists, randomRegularGraph, ringGraph, type Graph } from '../main/sim/graph.js';
import { BLOCK, divideByDegree, FUSED_MAX_DRIFTS } from '../main/sim/kernel.js';
import { Simulator, type StubbornNode } from '../main/sim/simulator.js';

function initialDrifts(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: 2 * n }, () => random() * 20 - 10);
}

/** A graph with degrees 0 to 40 (a star centre, isolated nodes, every remainder of 8, 4, 2, 1). */
function mixedDegrees(): Graph {
  const n = 60;
  const random = seededRandom(5);
  const lists: number[][] = Array.from({ length: n }, () => []);
  const link = (a: number, b: number): void => {
    if (a === b || lists[a]!.includes(b)) return;
    lists[a]!.push(b);
    lists[b]!.push(a);
  };
  for (let j = 1; j <= 40; j++) link(0, j);
  for (let k = 0; k < 150; k++) link(1 + Math.floor(random() * 50), 1 + Math.floor(random() * 50));
  // Nodes 51..59 stay isolated except one pair.
  link(58, 59);
  return fromLists(lists);
}

const PARAMS: DriftParams = DEFAULT_DRIFT_PARAMS;
const graphs: [string, Graph][] = [
  ['ring of 7', ringGraph(7)],
  ['complete 5', completeGraph(5)],
  ['random 8-regular on 40', randomRegularGraph(40, 8, 2)],
  ['random 6-regular on 30', randomRegularGraph(30, 6, 3)],
  ['Barabasi-Albert m=4 on 300 (spans blocks)', barabasiAlbertGraph(300, 4, 1)],
  ['mixed degrees 0..40', mixedDegrees()],
  ['path + chord', fromEdges(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 3]])],
];

function compare(g: Graph, weighting: Weighting, rounds: number, stubborn: StubbornNode[] = [], engine: Engine = 'js'): number {
  const initial = initialDrifts(g.n, 42);
  const ref = new Simulator({ graph: g, params: PARAMS, weighting, initial, stubborn });
  const fast = new FastSimulator({ graph: g, params: PARAMS, weighting, initial, stubborn, engine });
  expect(fast.engine).toBe(engine);
  let worst = 0;
  for (let r = 0; r < rounds; r++) {
    ref.run(1);
    fast.run(1);
    for (let k = 0; k < 2 * g.n; k++) if (!Object.is(ref.xy[k], fast.xy[k])) worst = Math.max(worst, Math.abs(ref.xy[k]! - fast.xy[k]!), Number.MIN_VALUE);
  }
  return worst;
}

describe('fast engine == reference Simulator, bit for bit', () => {
  for (const engine of ['js', 'wasm'] as const) {
    for (const weighting of ['seed', 'metropolis', 'wmsr'] as const) {
      for (const [name, g] of graphs) {
        it(`${engine} kernel, ${name}, ${weighting}: 150 rounds`, () => {
          expect(compare(g, weighting, 150, [], engine)).toBe(0);
        });
      }
      it(`${engine} kernel, ${weighting}: stubborn nodes at [1e5, 1e5] stay pinned, the others move as in the reference`, () => {
        const g = barabasiAlbertGraph(300, 4, 2);
        const stubborn: StubbornNode[] = [0, 7, 150, 299].map((node) => ({ node, at: [1e5, 1e5] }));
        expect(compare(g, weighting, 150, stubborn, engine)).toBe(0);
        const fast = new FastSimulator({ graph: g, params: PARAMS, weighting, stubborn, engine });
        fast.run(20);
        for (const s of stubborn) expect([fast.xy[2 * s.node], fast.xy[2 * s.node + 1]]).toEqual([1e5, 1e5]);
      });
    }

    it(`${engine} kernel: above FUSED_MAX_DRIFTS (where the JS seed rule runs in blocks) the same numbers`, () => {
      const n = FUSED_MAX_DRIFTS / 2 + 3 * BLOCK + 5;
      const g = randomRegularGraph(n, 8, 9);
      expect(compare(g, 'seed', 3, [], engine)).toBe(0);
    });
  }

  it('a W-MSR trim set for every node matches the reference with the same trim', () => {
    const g = randomRegularGraph(40, 8, 4);
    const initial = initialDrifts(40, 1);
    const ref = new Simulator({ graph: g, params: PARAMS, weighting: 'wmsr', initial, trim: 3 });
    const fast = new FastSimulator({ graph: g, params: PARAMS, weighting: 'wmsr', initial, trim: 3 });
    ref.run(100);
    fast.run(100);
    expect(Array.from(fast.xy)).toEqual(Array.from(ref.xy));
  });

  it('stats agree with the reference readouts', () => {
    const g = barabasiAlbertGraph(200, 4, 3);
    const stubborn: StubbornNode[] = [{ node: 3, at: [50, -20] }];
    const ref = new Simulator({ graph: g, params: PARAMS, weighting: 'wmsr', initial: initialDrifts(200, 2), stubborn });
    const fast = new FastSimulator({ graph: g, params: PARAMS, weighting: 'wmsr', initial: initialDrifts(200, 2), stubborn });
    ref.run(30);
    fast.run(30);
    const s = fast.stats();
    expect(s.spread).toBeCloseTo(ref.spread(), 12);
    expect(s.honestSpread).toBeCloseTo(ref.honestSpread(), 12);
    expect(s.centroid[0]).toBeCloseTo(ref.centroid()[0], 12);
    expect(s.honestCentroid[1]).toBeCloseTo(ref.honestCentroid()[1], 12);
  });
});

describe('the exact shortcuts', () => {
  it('divideByDegree(s, d) is s / d for every degree, bit for bit', () => {
    const random = seededRandom(3);
    for (let d = 1; d <= 200; d++) {
      for (let k = 0; k < 500; k++) {
        const s = (random() - 0.5) * 10 ** Math.floor(random() * 20 - 10);
        expect(Object.is(divideByDegree(s, d), s / d)).toBe(true);
      }
    }
    expect(Object.is(divideByDegree(-0, 8), -0 / 8)).toBe(true);
  });

  it('min(metropolisInverse(di), metropolisInverse(dj)) is metropolisWeight(di, dj) for all degrees to 2000', () => {
    const wrong: [number, number][] = [];
    for (let di = 0; di <= 2000; di++) {
      for (let dj = 0; dj <= 2000; dj++) if (Math.min(metropolisInverse(di), metropolisInverse(dj)) !== metropolisWeight(di, dj)) wrong.push([di, dj]);
    }
    expect(wrong).toEqual([]);
  });
});

describe('memory per node', () => {
  it('counts every per-node array beyond the graph: 48 bytes, +8 for Metropolis, +1 for W-MSR, +1 with stubborn nodes, with either kernel', () => {
    const g = randomRegularGraph(1000, 8, 1);
    const stubborn = [{ node: 0, at: [1, 1] as const }];
    for (const engine of ['js', 'wasm'] as const) {
      expect(new FastSimulator({ graph: g, params: PARAMS, weighting: 'seed', engine }).bytesPerNode()).toBe(48);
      expect(new FastSimulator({ graph: g, params: PARAMS, weighting: 'metropolis', engine }).bytesPerNode()).toBe(56);
      expect(new FastSimulator({ graph: g, params: PARAMS, weighting: 'wmsr', engine }).bytesPerNode()).toBe(49);
      expect(new FastSimulator({ graph: g, params: PARAMS, weighting: 'metropolis', stubborn, engine }).bytesPerNode()).toBe(57);
    }
    for (const weighting of ['seed', 'metropolis', 'wmsr'] as const) {
      const s = createSimState({ graph: g, params: PARAMS, weighting, stubborn });
      expect(bytesPerNode(s)).toBeLessThanOrEqual(64);
      // The graph is not copied for one thread.
      expect(s.adj).toBe(g.adj);
    }
  });
});

describe('options are validated as the reference validates them', () => {
  const g = completeGraph(3);
  it('rejects bad initial drifts, stubborn nodes and trims with a RangeError', () => {
    expect(() => new FastSimulator({ graph: g, params: PARAMS, initial: [0, 0] })).toThrow(RangeError);
    expect(() => new FastSimulator({ graph: g, params: PARAMS, stubborn: [{ node: 3, at: [0, 0] }] })).toThrow(RangeError);
    expect(() => new FastSimulator({ graph: g, params: PARAMS, stubborn: [{ node: 0, at: [Number.NaN, 0] }] })).toThrow(RangeError);
    expect(() => new FastSimulator({ graph: g, params: PARAMS, weighting: 'wmsr', trim: -1 })).toThrow(RangeError);
    expect(() => new FastSimulator({ graph: g, params: PARAMS, weighting: 'wmsr', trim: MAX_SIM_TRIM + 1 })).toThrow(RangeError);
  });
});
