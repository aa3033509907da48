/**
 * Undirected graphs in CSR form (offsets + neighbour indices) for the
 * simulator and the spectrum code. Pure, seeded.
 */
import { seededRandom } from '../model/prng.js';

export interface Graph {
  readonly n: number;
  /** neighbours of i are adj[offsets[i] .. offsets[i+1]) */
  readonly offsets: Int32Array;
  readonly adj: Int32Array;
}

export type Edge = readonly [number, number];

export function degree(g: Graph, i: number): number {
  return g.offsets[i + 1]! - g.offsets[i]!;
}

/** Builds a graph from an undirected edge list; self-loops and duplicates are dropped. Neighbours keep first-seen order. */
export function fromEdges(n: number, edges: readonly Edge[]): Graph {
  const seen = new Set<number>();
  const lists: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) {
    if (a === b || a < 0 || b < 0 || a >= n || b >= n) {
      if (a === b) continue;
      throw new RangeError(`edge ${a}-${b} outside 0..${n - 1}`);
    }
    const key = Math.min(a, b) * n + Math.max(a, b);
    if (seen.has(key)) continue;
    seen.add(key);
    lists[a]!.push(b);
    lists[b]!.push(a);
  }
  return fromLists(lists);
}

/** Builds a graph from per-node neighbour lists (assumed symmetric). */
export function fromLists(lists: readonly (readonly number[])[]): Graph {
  const n = lists.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + lists[i]!.length;
  const adj = new Int32Array(offsets[n]!);
  for (let i = 0; i < n; i++) adj.set(lists[i]!, offsets[i]!);
  return { n, offsets, adj };
}

export function edgesOf(g: Graph): Edge[] {
  const out: Edge[] = [];
  for (let i = 0; i < g.n; i++) {
    for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) if (g.adj[e]! > i) out.push([i, g.adj[e]!]);
  }
  return out;
}

export function completeGraph(n: number): Graph {
  const edges: Edge[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) edges.push([i, j]);
  return fromEdges(n, edges);
}

export function ringGraph(n: number): Graph {
  const edges: Edge[] = [];
  if (n === 2) edges.push([0, 1]);
  else if (n > 2) for (let i = 0; i < n; i++) edges.push([i, (i + 1) % n]);
  return fromEdges(n, edges);
}

/**
 * A random k-regular simple graph (pairing model with restarts, then a few
 * edge swaps to repair, seeded). Needs n*k even and k < n.
 */
export function randomRegularGraph(n: number, k: number, seed: number): Graph {
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
    // Repair self-loops and multi-edges by swapping endpoints with random good edges.
    let ok = true;
    for (const idx of bad) {
      let fixed = false;
      for (let tries = 0; tries < 200 && !fixed; tries++) {
        const other = Math.floor(random() * edges.length);
        if (other === idx) continue;
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

export type TopologyName = 'full' | 'ring' | 'regular';

export function topology(name: TopologyName, n: number, k = 6, seed = 1): Graph {
  if (name === 'full') return completeGraph(n);
  if (name === 'ring') return ringGraph(n);
  return randomRegularGraph(n, Math.min(k, n - 1 - ((n * Math.min(k, n - 1)) % 2)), seed);
}

/** True when every node can reach every other. */
export function isConnected(g: Graph): boolean {
  if (g.n <= 1) return true;
  const seen = new Uint8Array(g.n);
  const stack = [0];
  seen[0] = 1;
  let count = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (let e = g.offsets[i]!; e < g.offsets[i + 1]!; e++) {
      const j = g.adj[e]!;
      if (!seen[j]) {
        seen[j] = 1;
        count++;
        stack.push(j);
      }
    }
  }
  return count === g.n;
}
