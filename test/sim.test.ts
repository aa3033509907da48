/**
 * The simulator (main/sim) against the networked node code, and the spectrum
 * code against closed forms (docs/drift-model.md §5).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS, spread, type DriftParams } from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';
import type { Weighting } from '../main/model/weights.js';
import { completeGraph, edgesOf, fromEdges, randomRegularGraph, ringGraph, degree, isConnected, type Graph } from '../main/sim/graph.js';
import { Simulator } from '../main/sim/simulator.js';
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
