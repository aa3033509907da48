/**
 * The simulator's graph generators (main/sim/graph.ts) and the spectrum code
 * that scales (main/sim/spectrum.ts: Lanczos SLEM, Hutchinson steady spread).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT_PARAMS, type DriftParams } from '../main/model/drift.js';
import { seededRandom } from '../main/model/prng.js';
import { barabasiAlbertGraph, completeGraph, degree, edgesOf, fromEdges, isConnected, randomRegularGraph, ringGraph, type Graph } from '../main/sim/graph.js';
import { slem, slemLanczos, steadySpread, steadySpreadEstimate, tridiagonalExtremes } from '../main/sim/spectrum.js';

/** The first, Set-based randomRegularGraph, kept here as the reference the typed-array one must equal. */
function randomRegularReference(n: number, k: number, seed: number): Graph {
  if (k >= n || (n * k) % 2 !== 0) throw new RangeError(`no ${k}-regular graph on ${n} nodes`);
  const random = seededRandom(seed);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const stubs = new Int32Array(n * k);
    for (let i = 0; i < n * k; i++) stubs[i] = Math.floor(i / k);
    for (let i = stubs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = stubs[i]!;
      stubs[i] = stubs[j]!;
      stubs[j] = t;
    }
    const seen = new Set<number>();
    const edges: [number, number][] = [];
    const bad: number[] = [];
    for (let i = 0; i < stubs.length; i += 2) {
      const a = stubs[i]!;
      const b = stubs[i + 1]!;
      const key = Math.min(a, b) * n + Math.max(a, b);
      if (a === b || seen.has(key)) bad.push(edges.length);
      else seen.add(key);
      edges.push([a, b]);
    }
    let ok = true;
    const pending = new Set(bad);
    for (const idx of bad) {
      let fixed = false;
      for (let tries = 0; tries < 200 && !fixed; tries++) {
        const other = Math.floor(random() * edges.length);
        if (other === idx || pending.has(other)) continue;
        const [a, b] = edges[idx]!;
        const [c, d] = edges[other]!;
        const k1 = Math.min(c, d) * n + Math.max(c, d);
        if (c === d || !seen.has(k1)) continue;
        const e1 = Math.min(a, c) * n + Math.max(a, c);
        const e2 = Math.min(b, d) * n + Math.max(b, d);
        if (a === c || b === d || e1 === e2 || seen.has(e1) || seen.has(e2)) continue;
        seen.delete(k1);
        seen.add(e1);
        seen.add(e2);
        edges[idx] = [a, c];
        edges[other] = [b, d];
        pending.delete(idx);
        fixed = true;
      }
      if (!fixed) {
        ok = false;
        break;
      }
    }
    if (ok) return fromEdges(n, edges);
  }
  throw new Error(`could not build a ${k}-regular graph on ${n} nodes`);
}

const outcome = (f: () => Graph): string | { offsets: number[]; adj: number[] } => {
  try {
    const g = f();
    return { offsets: Array.from(g.offsets), adj: Array.from(g.adj) };
  } catch (err) {
    return (err as Error).message;
  }
};

describe('randomRegularGraph (typed arrays)', () => {
  it('builds the very graphs of the Set-based version: same seed, same neighbours in the same order', () => {
    for (const [n, k] of [[10, 4], [12, 8], [20, 6], [100, 6], [7, 2], [30, 3], [8, 7], [1000, 8]] as const) {
      for (let seed = 0; seed < (n >= 1000 ? 3 : 15); seed++) {
        expect(outcome(() => randomRegularGraph(n, k, seed)), `n=${n} k=${k} seed=${seed}`).toEqual(outcome(() => randomRegularReference(n, k, seed)));
      }
    }
  });
  it('gives every node exactly k neighbours (a repair never swaps with an edge still waiting for its own)', () => {
    const short: string[] = [];
    for (let n = 10; n <= 200; n += 3) {
      for (const k of [3, 4, 6, 8]) {
        if ((n * k) % 2 !== 0) continue;
        for (let seed = 1; seed <= 20; seed++) {
          const g = randomRegularGraph(n, k, seed);
          for (let i = 0; i < n; i++) if (g.offsets[i + 1]! - g.offsets[i]! !== k) short.push(`n=${n} k=${k} seed=${seed} node ${i}`);
        }
      }
    }
    expect(short).toEqual([]);
  });

  it('rejects impossible sizes', () => {
    expect(() => randomRegularGraph(5, 3, 1)).toThrow(RangeError);
    expect(() => randomRegularGraph(4, 4, 1)).toThrow(RangeError);
    expect(() => randomRegularGraph(2.5, 1, 1)).toThrow(RangeError);
  });
});

describe('barabasiAlbertGraph', () => {
  const n = 20_000;
  const m = 4;
  const g = barabasiAlbertGraph(n, m, 1);
  const degrees = Array.from({ length: n }, (_, i) => degree(g, i));

  it('has the edges of the seed clique plus m per further node, simple and connected', () => {
    expect(g.adj.length / 2).toBe((m * (m + 1)) / 2 + (n - m - 1) * m);
    const edges = edgesOf(g);
    expect(edges.every(([a, b]) => a !== b)).toBe(true);
    expect(new Set(edges.map(([a, b]) => a * n + b)).size).toBe(edges.length);
    expect(isConnected(g)).toBe(true);
    // Symmetric: j in N(i) iff i in N(j).
    for (let i = 0; i < n; i += 97) for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) expect(Array.from(g.adj.subarray(g.offsets[g.adj[e]!]!, g.offsets[g.adj[e]! + 1]!))).toContain(i);
  });

  it('minimum degree m, mean about 2m, and the preferential-attachment tail P(d >= x) ~ m(m+1)/x^2', () => {
    expect(Math.min(...degrees)).toBe(m);
    expect(degrees.reduce((s, d) => s + d, 0) / n).toBeCloseTo(2 * m, 2);
    for (const x of [8, 16, 32]) {
      const share = degrees.filter((d) => d >= x).length / n;
      const theory = (m * (m + 1)) / (x * (x + 1));
      expect(share / theory, `P(d >= ${x})`).toBeGreaterThan(0.8);
      expect(share / theory, `P(d >= ${x})`).toBeLessThan(1.25);
    }
    // Hubs: the largest degree grows like m sqrt(n) (here ~570), far above a random graph's.
    expect(Math.max(...degrees)).toBeGreaterThan(150);
    expect(Math.max(...degrees)).toBeLessThan(3000);
  });

  it('is seeded, and rejects m < 1 or n <= m', () => {
    expect(Array.from(barabasiAlbertGraph(500, 3, 7).adj)).toEqual(Array.from(barabasiAlbertGraph(500, 3, 7).adj));
    expect(Array.from(barabasiAlbertGraph(500, 3, 7).adj)).not.toEqual(Array.from(barabasiAlbertGraph(500, 3, 8).adj));
    expect(() => barabasiAlbertGraph(4, 4, 1)).toThrow(RangeError);
    expect(() => barabasiAlbertGraph(10, 0, 1)).toThrow(RangeError);
  });
});

describe('spectrum at scale', () => {
  const q: DriftParams = { alpha: 0, beta: 0.1, gamma: 0 };
  it('tridiagonalExtremes finds the extreme eigenvalues (the 1D Laplacian: 2 - 2 cos(k pi / (m + 1)))', () => {
    const m = 50;
    const [lo, hi] = tridiagonalExtremes(new Array(m).fill(2), new Array(m - 1).fill(-1));
    expect(lo).toBeCloseTo(2 - 2 * Math.cos(Math.PI / (m + 1)), 12);
    expect(hi).toBeCloseTo(2 - 2 * Math.cos((m * Math.PI) / (m + 1)), 12);
  });
  it('Lanczos SLEM == power-iteration SLEM and the closed forms', () => {
    for (const n of [5, 10, 100]) expect(slemLanczos(ringGraph(n), q).rho).toBeCloseTo(1 - q.beta + q.beta * Math.cos((2 * Math.PI) / n), 9);
    expect(slemLanczos(completeGraph(10), q).rho).toBeCloseTo(1 - q.beta - q.beta / 9, 9);
    for (const g of [randomRegularGraph(400, 8, 1), barabasiAlbertGraph(400, 4, 1)]) {
      for (const w of ['seed', 'metropolis'] as const) expect(slemLanczos(g, q, w).rho).toBeCloseTo(slem(g, q, w).rho, 8);
    }
  });
  it('Hutchinson steady spread == the exact XBK sum within 1 %', () => {
    for (const g of [randomRegularGraph(30, 8, 2), barabasiAlbertGraph(60, 4, 2)]) {
      for (const w of ['seed', 'metropolis'] as const) {
        const exact = steadySpread(g, DEFAULT_DRIFT_PARAMS, w);
        const est = steadySpreadEstimate(g, DEFAULT_DRIFT_PARAMS, w, { probes: 2000, rho: slem(g, DEFAULT_DRIFT_PARAMS, w).rho });
        expect(est / exact).toBeGreaterThan(0.99);
        expect(est / exact).toBeLessThan(1.01);
      }
    }
  });
});
