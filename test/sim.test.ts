/**
 * The simulator (main/sim) against the networked node code, and the spectrum
 * code against closed forms (docs/drift-model.md §5).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS, sampleEntropy, spread, type DriftParams, type Vec2 } from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';
import type { Weighting } from '../main/model/weights.js';
import { wmsrStep } from '../main/model/wmsr.js';
import { completeGraph, edgesOf, fromEdges, fromLists, randomRegularGraph, ringGraph, degree, isConnected, type Graph } from '../main/sim/graph.js';
import { Simulator, type StubbornNode } from '../main/sim/simulator.js';
import { predictedCycles, slem, steadySpread } from '../main/sim/spectrum.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { makeNode } from './helpers/memory-cluster.js';

function initialDrifts(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < 2 * n; i++) out.push(random() * 20 - 10);
  return out;
}

/** DriftNodes over a MemoryTransport with manual delivery, linked along `g`, run in synchronous rounds. */
async function networkedTrajectory(g: Graph, params: DriftParams, weights: Weighting, rounds: number, init: number[]): Promise<number[][]> {
  const network = new MemoryNetwork({ autoDeliver: false });
  const nodes = Array.from({ length: g.n }, (_, i) =>
    makeNode(network, i, [init[2 * i]!, init[2 * i + 1]!], { params, weights, maxPeers: 64, random: seededRandom(1000 + i) }),
  );
  for (const [a, b] of edgesOf(g)) await nodes[a]!.transport.dial(`node${b}:7710`);
  network.deliverAll();
  const out: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    for (const { node } of nodes) node.runCycle();
    network.deliverAll();
    out.push(nodes.flatMap(({ node }) => node.state.drift));
  }
  for (const { node } of nodes) await node.stop();
  return out;
}

describe('simulator matches the networked node', () => {
  const params: DriftParams = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
  const cases: [string, Graph][] = [
    ['ring of 7', ringGraph(7)],
    ['random 4-regular on 10', randomRegularGraph(10, 4, 3)],
    ['complete 5', completeGraph(5)],
    ['edge list (path + chord)', fromEdges(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 3]])],
  ];
  for (const weights of ['seed', 'metropolis'] as const) {
    for (const [name, g] of cases) {
      it(`${name}, ${weights} weights: same trajectory for 120 rounds (to 1e-9)`, async () => {
        const init = initialDrifts(g.n, 42);
        const rounds = 120; // crosses the state snapshots at cycles 50 and 100
        const net = await networkedTrajectory(g, params, weights, rounds, init);
        const sim = new Simulator({ graph: g, params, weighting: weights, initial: init });
        let worst = 0;
        for (let r = 0; r < rounds; r++) {
          sim.run(1);
          for (let k = 0; k < 2 * g.n; k++) worst = Math.max(worst, Math.abs(sim.xy[k]! - net[r]![k]!));
        }
        expect(worst).toBeLessThan(1e-9);
        // and it did move: the spread shrank from ~8 toward the noise floor
        expect(sim.spread()).toBeLessThan(spread(Array.from({ length: g.n }, (_, i) => [init[2 * i]!, init[2 * i + 1]!] as const)));
      });
    }
  }
});

/** The rule as the pure model writes it: every node runs wmsrStep on its neighbours' previous drifts; stubborn ones stay put. */
function wmsrReference(g: Graph, params: DriftParams, rounds: number, init: number[], stubborn: readonly StubbornNode[] = []): number[][] {
  const randoms = Array.from({ length: g.n }, (_, i) => seededRandom(1000 + i));
  let xs: Vec2[] = Array.from({ length: g.n }, (_, i) => [init[2 * i]!, init[2 * i + 1]!] as Vec2);
  for (const s of stubborn) xs[s.node] = s.at;
  const out: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    xs = xs.map((x, i) => {
      const peers = Array.from(g.adj.subarray(g.offsets[i]!, g.offsets[i + 1]!), (j) => xs[j]!);
      return wmsrStep(x, peers, sampleEntropy(randoms[i]!), params).drift;
    });
    for (const s of stubborn) xs[s.node] = s.at;
    out.push(xs.flat());
  }
  return out;
}

/** g plus one more node (index g.n) linked to each of `to`. */
function withExtraNode(g: Graph, to: readonly number[]): Graph {
  const lists = Array.from({ length: g.n }, (_, i) => Array.from(g.adj.subarray(g.offsets[i]!, g.offsets[i + 1]!)));
  lists.push([...to]);
  for (const i of to) lists[i]!.push(g.n);
  return fromLists(lists);
}

describe('simulator, W-MSR', () => {
  const params: DriftParams = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
  const cases: [string, Graph, StubbornNode[]][] = [
    ['ring of 7 (F = 0: degree 2)', ringGraph(7), []],
    ['random 4-regular on 10', randomRegularGraph(10, 4, 3), []],
    ['random 8-regular on 12 (F = 2)', randomRegularGraph(12, 8, 4), []],
    ['complete 6, one stubborn at [1e5, 1e5]', completeGraph(6), [{ node: 5, at: [1e5, 1e5] }]],
    ['edge list (path + chord)', fromEdges(6, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 3]]), []],
  ];
  for (const [name, g, stubborn] of cases) {
    it(`${name}: the same trajectory as wmsrStep node by node for 120 rounds (to 1e-9)`, () => {
      const init = initialDrifts(g.n, 42);
      const ref = wmsrReference(g, params, 120, init, stubborn);
      const sim = new Simulator({ graph: g, params, weighting: 'wmsr', initial: init, stubborn });
      let worst = 0;
      for (let r = 0; r < 120; r++) {
        sim.run(1);
        for (let k = 0; k < 2 * g.n; k++) worst = Math.max(worst, Math.abs(sim.xy[k]! - ref[r]![k]!));
      }
      expect(worst).toBeLessThan(1e-9);
      expect(sim.honestSpread()).toBeLessThan(spread(Array.from(sim.honest, (i) => [init[2 * i]!, init[2 * i + 1]!] as const)));
    });
  }

  it('without entropy or gravity it reaches consensus on a 6-regular graph (spread / 10^6)', () => {
    const g = randomRegularGraph(30, 6, 8);
    const sim = new Simulator({ graph: g, params: { alpha: 0, beta: 0.1, gamma: 0 }, weighting: 'wmsr', initial: initialDrifts(30, 3) });
    const s0 = sim.spread();
    sim.run(2000);
    expect(sim.spread()).toBeLessThan(s0 / 1e6);
  });

  describe('one stubborn neighbour at [1e5, 1e5] in a 6-node complete graph (honest degree 5, F = 1)', () => {
    const g = completeGraph(6);
    const stubborn: StubbornNode[] = [{ node: 5, at: [1e5, 1e5] }];
    // Honest nodes start spread over [-10, 10] on each axis.
    const init = [-10, 5, -5, -10, 0, 10, 5, 0, 10, -5, 0, 0];
    const cycles = 5000;

    it('W-MSR: no honest node ever leaves the honest range; each cycle stays within alpha + gamma|x| of the honest hull', () => {
      const sim = new Simulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting: 'wmsr', initial: init, stubborn });
      const { alpha, gamma } = DEFAULT_DRIFT_PARAMS;
      const range = (xy: Float64Array, axis: number): [number, number] => {
        let lo = Infinity;
        let hi = -Infinity;
        for (const i of sim.honest) {
          lo = Math.min(lo, xy[2 * i + axis]!);
          hi = Math.max(hi, xy[2 * i + axis]!);
        }
        return [lo, hi];
      };
      const start = [range(Float64Array.from(init), 0), range(Float64Array.from(init), 1)];
      const noiseMargin = 0.5; // 6 per-axis standard deviations of the two-node noise floor (0.083)
      let worstStep = -Infinity;
      let worstRange = -Infinity;
      for (let c = 0; c < cycles; c++) {
        const before = Float64Array.from(sim.xy);
        sim.run(1);
        for (const axis of [0, 1]) {
          const [lo, hi] = range(before, axis);
          for (const i of sim.honest) {
            const x = sim.xy[2 * i + axis]!;
            const allowed = alpha + gamma * Math.abs(before[2 * i + axis]!);
            worstStep = Math.max(worstStep, lo - allowed - x, x - hi - allowed);
            worstRange = Math.max(worstRange, start[axis]![0] - noiseMargin - x, x - start[axis]![1] - noiseMargin);
          }
        }
      }
      expect(worstStep).toBeLessThanOrEqual(1e-12);
      expect(worstRange).toBeLessThanOrEqual(0);
      expect(sim.honestSpread()).toBeLessThan(0.5); // and they agree with each other (noise floor ~0.1)
    });

    it('plain averaging (seed rule) is captured: every honest node ends past 10^4', () => {
      const sim = new Simulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting: 'seed', initial: init, stubborn });
      sim.run(cycles);
      for (const i of sim.honest) {
        expect(sim.xy[2 * i]!).toBeGreaterThan(1e4);
        expect(sim.xy[2 * i + 1]!).toBeGreaterThan(1e4);
      }
      // The stubborn node itself never moved.
      expect([sim.xy[10], sim.xy[11]]).toEqual([1e5, 1e5]);
    });
  });

  it('rejects stubborn nodes outside the graph and a bad trim', () => {
    expect(() => new Simulator({ graph: completeGraph(3), params: DEFAULT_DRIFT_PARAMS, stubborn: [{ node: 3, at: [0, 0] }] })).toThrow(RangeError);
    expect(() => new Simulator({ graph: completeGraph(3), params: DEFAULT_DRIFT_PARAMS, stubborn: [{ node: 0, at: [Number.NaN, 0] }] })).toThrow(RangeError);
    expect(() => new Simulator({ graph: completeGraph(3), params: DEFAULT_DRIFT_PARAMS, weighting: 'wmsr', trim: -1 })).toThrow(RangeError);
  });

  it('a stubborn peer linked to every node of a 6-regular 20-node graph: the honest spread stays within 1.5x of the no-attacker spread', () => {
    const g = randomRegularGraph(20, 6, 20);
    const attacked = withExtraNode(g, Array.from({ length: 20 }, (_, i) => i));
    const steady = (sim: Simulator): number => {
      sim.run(2000);
      let s2 = 0;
      for (let t = 0; t < 20_000; t++) {
        sim.run(1);
        s2 += sim.honestSpread() ** 2;
      }
      return Math.sqrt(s2 / 20_000);
    };
    const calm = steady(new Simulator({ graph: g, params: DEFAULT_DRIFT_PARAMS, weighting: 'seed' }));
    const robust = steady(new Simulator({ graph: attacked, params: DEFAULT_DRIFT_PARAMS, weighting: 'wmsr', stubborn: [{ node: 20, at: [1e5, 1e5] }] }));
    expect(robust / calm).toBeLessThan(1.5);
    expect(robust / calm).toBeGreaterThan(0.5); // a real spread, not frozen nodes
  });
});

describe('graphs', () => {
  it('random k-regular graphs are k-regular, simple, seeded', () => {
    const g = randomRegularGraph(100, 6, 1);
    for (let i = 0; i < g.n; i++) expect(degree(g, i)).toBe(6);
    const edges = edgesOf(g);
    expect(new Set(edges.map(([a, b]) => `${a}-${b}`)).size).toBe(300);
    expect(edges.every(([a, b]) => a !== b)).toBe(true);
    expect(isConnected(g)).toBe(true);
    expect(edgesOf(randomRegularGraph(100, 6, 1))).toEqual(edges);
    expect(edgesOf(randomRegularGraph(100, 6, 2))).not.toEqual(edges);
  });
});

describe('SLEM against closed forms', () => {
  const p: DriftParams = { alpha: 0, beta: 0.1, gamma: 0.001 };
  it('complete graph K_n, seed rule: 1 - beta - gamma - beta/(n-1)', () => {
    for (const n of [2, 3, 10, 50]) {
      expect(slem(completeGraph(n), p).rho).toBeCloseTo(Math.abs(1 - p.beta - p.gamma - p.beta / (n - 1)), 9);
    }
  });
  it('ring C_n, seed rule: 1 - beta - gamma + beta cos(2 pi / n)', () => {
    for (const n of [5, 10, 100]) {
      expect(slem(ringGraph(n), p).rho).toBeCloseTo(1 - p.beta - p.gamma + p.beta * Math.cos((2 * Math.PI) / n), 9);
    }
  });
  it('Metropolis: K_n gives 1/n weights (W_MH = 11^T/n, SLEM 0 - gamma); ring gives 1/3 + 2/3 cos(2 pi / n)', () => {
    const q: DriftParams = { alpha: 0, beta: 0.1, gamma: 0 };
    expect(slem(completeGraph(8), q, 'metropolis').rho).toBeLessThan(1e-6);
    for (const n of [6, 10, 100]) {
      expect(slem(ringGraph(n), q, 'metropolis').rho).toBeCloseTo(1 / 3 + (2 / 3) * Math.cos((2 * Math.PI) / n), 9);
    }
  });
  it('predicts the cycles the simulator measures (alpha = gamma = 0)', () => {
    const q: DriftParams = { alpha: 0, beta: 0.1, gamma: 0 };
    for (const weighting of ['seed', 'metropolis'] as const) {
      const g = randomRegularGraph(100, 6, 5);
      const rho = slem(g, q, weighting).rho;
      const predicted = predictedCycles(rho);
      const sim = new Simulator({ graph: g, params: q, weighting, initial: initialDrifts(100, 9) });
      const s0 = sim.spread();
      let cycles = 0;
      while (sim.spread() > s0 / 1000 && cycles < 10_000) {
        sim.run(1);
        cycles++;
      }
      expect(cycles / predicted).toBeLessThanOrEqual(1.2);
      expect(cycles / predicted).toBeGreaterThan(0.7);
    }
  });
  it('the issue numbers: 6-regular, n = 100: seed rule ~10x the cycles of Metropolis', () => {
    const q: DriftParams = { alpha: 0, beta: 0.1, gamma: 0 };
    const g = randomRegularGraph(100, 6, 1);
    const seedCycles = predictedCycles(slem(g, q, 'seed').rho);
    const mhCycles = predictedCycles(slem(g, q, 'metropolis').rho);
    expect(seedCycles).toBeGreaterThan(200);
    expect(seedCycles).toBeLessThan(300);
    expect(mhCycles).toBeGreaterThan(20);
    expect(mhCycles).toBeLessThan(35);
  });
});

describe('steady spread with entropy (Xiao–Boyd–Kim)', () => {
  it('two nodes: sqrt(2) * alpha / sqrt(1 - (1 - 2 beta - gamma)^2) / sqrt(2)... matches the closed form', () => {
    // For n = 2, spread = |A - B| / 2 and per-axis std of A - B is alpha / sqrt(1 - rho^2) (docs §3),
    // so E[spread^2] = 2 axes * std^2 / 4.
    const p = DEFAULT_DRIFT_PARAMS;
    const rho = 1 - 2 * p.beta - p.gamma;
    const std = p.alpha / Math.sqrt(1 - rho * rho);
    expect(steadySpread(completeGraph(2), p)).toBeCloseTo(Math.sqrt((2 * std * std) / 4), 6);
  });
  it('matches a long simulation on a 6-regular graph (both weightings, within 5%)', () => {
    for (const weighting of ['seed', 'metropolis'] as const) {
      const g = randomRegularGraph(30, 6, 2);
      const p = DEFAULT_DRIFT_PARAMS;
      const predicted = steadySpread(g, p, weighting);
      const sim = new Simulator({ graph: g, params: p, weighting, seedOf: (i) => 77 + i });
      sim.run(2000);
      let s2 = 0;
      const samples = 40_000;
      for (let t = 0; t < samples; t++) {
        sim.run(1);
        s2 += sim.spread() ** 2;
      }
      expect(Math.sqrt(s2 / samples) / predicted).toBeGreaterThan(0.95);
      expect(Math.sqrt(s2 / samples) / predicted).toBeLessThan(1.05);
    }
  });
});
