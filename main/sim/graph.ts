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
 *
 * Typed arrays throughout (the stubs are the edge list, pairs (2e, 2e+1);
 * an open-addressing set holds the edge keys), so n = 10^6, k = 8 takes
 * about a second and ~150 MB while it runs. The draws and the repair are
 * those of the first, Set-based version: the same seed gives the same
 * graph, neighbour order included (test/sim-graph.test.ts keeps that
 * version as its reference).
 */
export function randomRegularGraph(n: number, k: number, seed: number): Graph {
  if (!(Number.isInteger(n) && Number.isInteger(k) && n >= 0 && k >= 0)) throw new RangeError(`no ${k}-regular graph on ${n} nodes`);
  if (k >= n || (n * k) % 2 !== 0) throw new RangeError(`no ${k}-regular graph on ${n} nodes`);
  const random = seededRandom(seed);
  const stubCount = n * k;
  const edgeCount = stubCount / 2;
  const seen = new EdgeKeySet(edgeCount);
  const bad = new Int32Array(Math.max(16, edgeCount));
  /** Edges still waiting for their repair: never a swap partner (its key belongs to the good copy it duplicates). */
  const pending = new Uint8Array(edgeCount);
  for (let attempt = 0; attempt < 1000; attempt++) {
    // Stub s belongs to node floor(s / k); after the shuffle, edge e is (stubs[2e], stubs[2e+1]).
    const stubs = new Int32Array(stubCount);
    for (let i = 0; i < stubCount; i++) stubs[i] = Math.floor(i / k);
    for (let i = stubCount - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = stubs[i]!;
      stubs[i] = stubs[j]!;
      stubs[j] = t;
    }
    seen.clear();
    pending.fill(0);
    let badCount = 0;
    for (let e = 0; e < edgeCount; e++) {
      const a = stubs[2 * e]!;
      const b = stubs[2 * e + 1]!;
      const key = edgeKey(a, b, n);
      if (a === b || seen.has(key)) {
        bad[badCount++] = e;
        pending[e] = 1;
      } else seen.add(key);
    }
    // Repair self-loops and multi-edges by swapping endpoints with random good edges.
    let ok = true;
    for (let q = 0; q < badCount; q++) {
      const idx = bad[q]!;
      let fixed = false;
      for (let tries = 0; tries < 200 && !fixed; tries++) {
        const other = Math.floor(random() * edgeCount);
        if (other === idx || pending[other]) continue;
        const a = stubs[2 * idx]!;
        const b = stubs[2 * idx + 1]!;
        const c = stubs[2 * other]!;
        const d = stubs[2 * other + 1]!;
        const k1 = edgeKey(c, d, n);
        if (c === d || !seen.has(k1)) continue;
        const e1 = edgeKey(a, c, n);
        const e2 = edgeKey(b, d, n);
        if (a === c || b === d || e1 === e2 || seen.has(e1) || seen.has(e2)) continue;
        seen.delete(k1);
        seen.add(e1);
        seen.add(e2);
        stubs[2 * idx + 1] = c;
        stubs[2 * other] = b;
        pending[idx] = 0;
        fixed = true;
      }
      if (!fixed) {
        ok = false;
        break;
      }
    }
    if (ok) return fromEdgeArray(n, stubs, seen);
  }
  throw new Error(`could not build a ${k}-regular graph on ${n} nodes`);
}

/**
 * A Barabasi-Albert graph (preferential attachment): a complete graph on
 * nodes 0..m, then every further node links to m distinct earlier nodes,
 * each picked with probability proportional to its degree. Mean degree
 * about 2m, minimum m, degree tail P(d >= x) ~ m(m+1)/x^2, connected.
 * Seeded. The degree-proportional pick is the Batagelj-Brandes one: a
 * uniform endpoint of the edges made so far (the edge list is its own
 * urn), so building n = 10^6, m = 4 takes well under a second and only the
 * edge list (8 bytes per edge) beside the CSR.
 */
export function barabasiAlbertGraph(n: number, m: number, seed: number): Graph {
  if (!(Number.isInteger(n) && Number.isInteger(m) && m >= 1 && n > m)) throw new RangeError(`no Barabasi-Albert graph with m = ${m} on ${n} nodes`);
  const random = seededRandom(seed);
  const core = m + 1;
  const edgeCount = (core * m) / 2 + (n - core) * m;
  const ends = new Int32Array(2 * edgeCount);
  let filled = 0;
  for (let a = 0; a < core; a++) {
    for (let b = a + 1; b < core; b++) {
      ends[filled++] = a;
      ends[filled++] = b;
    }
  }
  const picked = new Int32Array(m);
  for (let v = core; v < n; v++) {
    // The urn is the edges before v's own, so v never picks itself.
    const urn = filled;
    for (let t = 0; t < m; t++) {
      let target: number;
      let fresh: boolean;
      do {
        target = ends[Math.floor(random() * urn)]!;
        fresh = true;
        for (let u = 0; u < t; u++) if (picked[u] === target) fresh = false;
      } while (!fresh);
      picked[t] = target;
      ends[filled++] = v;
      ends[filled++] = target;
    }
  }
  return fromEdgeArray(n, ends, null);
}

/** Key of the undirected edge a-b; exact as a double for n up to 2^26. */
function edgeKey(a: number, b: number, n: number): number {
  return a < b ? a * n + b : b * n + a;
}

/**
 * A set of non-negative integer keys (edge keys) in one Float64Array, open
 * addressing with linear probing; deletes leave a tombstone (the graphs
 * delete a handful of keys per build).
 */
class EdgeKeySet {
  private static readonly EMPTY = -1;
  private static readonly DELETED = -2;
  private readonly slots: Float64Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    this.slots = new Float64Array(size).fill(EdgeKeySet.EMPTY);
    this.mask = size - 1;
  }

  clear(): void {
    this.slots.fill(EdgeKeySet.EMPTY);
  }

  private home(key: number): number {
    // Mix the high and low halves of the key (it exceeds 32 bits for n > 65,536).
    const hi = Math.floor(key / 4294967296);
    let h = Math.imul((key >>> 0) ^ Math.imul(hi, 0x27d4eb2f), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.mask;
  }

  has(key: number): boolean {
    const slots = this.slots;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const s = slots[i]!;
      if (s === key) return true;
      if (s === EdgeKeySet.EMPTY) return false;
    }
  }

  add(key: number): void {
    const slots = this.slots;
    let free = -1;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const s = slots[i]!;
      if (s === key) return;
      if (s === EdgeKeySet.DELETED && free < 0) free = i;
      if (s === EdgeKeySet.EMPTY) {
        slots[free >= 0 ? free : i] = key;
        return;
      }
    }
  }

  delete(key: number): void {
    const slots = this.slots;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const s = slots[i]!;
      if (s === key) {
        slots[i] = EdgeKeySet.DELETED;
        return;
      }
      if (s === EdgeKeySet.EMPTY) return;
    }
  }
}

/**
 * The CSR of an edge list held as pairs (ends[2e], ends[2e+1]), as
 * fromEdges builds it: self-loops and repeated edges dropped (the first
 * kept), neighbours in edge order. `scratch` (cleared here) is reused as
 * the set of edges seen; null: the list is known to be simple.
 */
function fromEdgeArray(n: number, ends: Int32Array, scratch: EdgeKeySet | null): Graph {
  const edgeCount = ends.length / 2;
  let keep: Uint8Array | null = null;
  if (scratch !== null) {
    scratch.clear();
    keep = new Uint8Array(edgeCount);
    for (let e = 0; e < edgeCount; e++) {
      const a = ends[2 * e]!;
      const b = ends[2 * e + 1]!;
      if (a === b) continue;
      const key = edgeKey(a, b, n);
      if (scratch.has(key)) continue;
      scratch.add(key);
      keep[e] = 1;
    }
  }
  const offsets = new Int32Array(n + 1);
  for (let e = 0; e < edgeCount; e++) {
    if (keep !== null && keep[e] === 0) continue;
    offsets[ends[2 * e]! + 1]!++;
    offsets[ends[2 * e + 1]! + 1]!++;
  }
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const adj = new Int32Array(offsets[n]!);
  const fill = offsets.slice(0, n);
  for (let e = 0; e < edgeCount; e++) {
    if (keep !== null && keep[e] === 0) continue;
    const a = ends[2 * e]!;
    const b = ends[2 * e + 1]!;
    adj[fill[a]!++] = b;
    adj[fill[b]!++] = a;
  }
  return { n, offsets, adj };
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
