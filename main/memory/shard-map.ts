/**
 * The shard map (issue 12): which R nodes hold the copy of each node's
 * record, by rendezvous hashing (highest random weight, Thaler & Ravishankar
 * 1998): every known node gets a weight w(holder, owner) from a hash of the
 * two ids, and the R highest weights other than the owner's own hold its
 * copy. Every node that knows the same ids computes the same map, with no
 * coordinator; when a node joins or leaves, mostly the copies it would hold
 * or held move (about R/N of all assignments), and each node holds R copies
 * on average whatever N is. Pure and deterministic.
 *
 * Plain rendezvous hashing gives each node a Poisson(R) number of copies:
 * with R = 3 and 10,000 nodes the busiest holds about 12, four times the
 * mean. So the loads are bounded (Mirrokni, Thorup & Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", 2018): owners are placed in id
 * order, each on its R highest-weight nodes that hold fewer than
 * SHARD_LOAD_FACTOR * R copies yet, so no node holds more than twice the
 * mean; bench/memory.mjs measures the balance and the extra movement this
 * costs against plain rendezvous.
 *
 * The hash is not cryptographic on purpose: it only has to spread ids
 * evenly (murmur3's 32-bit finaliser over FNV-1a, checked on 10,000 ids in
 * test/memory.test.ts), and a cryptographic one would not stop anything. A
 * node that wants to hold a victim's copy can grind keys until its id wins
 * either way (about N/R tries), and what it then holds is signed by the
 * victim: it can withhold it, never alter it, and R - 1 other holders and
 * the live gossip still have it.
 */
import { SHARD_LOAD_FACTOR, SHARD_REPLICAS } from '../model/limits.js';

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability about 1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32 well-mixed bits of an id (FNV-1a over its characters, then fmix32). */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** The rendezvous weight of `holder` for `owner`'s copy, from their idHash values. */
export function rendezvousWeight(holderHash: number, ownerHash: number): number {
  return fmix32(holderHash ^ fmix32(ownerHash ^ 0x9e3779b9));
}

/** Candidates ranked per owner in the first pass; an owner whose R best among them are all full gets a full ranking. */
const CANDIDATES = 16;

export interface ShardMapOptions {
  /** Holders per owner (R). */
  replicas?: number;
  /** Most copies one node holds, as a multiple of R; Infinity for plain rendezvous hashing. */
  loadFactor?: number;
}

export class ShardMap {
  readonly replicas: number;
  /** Most copies one node holds. */
  readonly capacity: number;
  /** The ids, sorted: a node's index is its rank, which breaks (rare) ties the same way everywhere. */
  readonly ids: readonly string[];
  readonly #hashes: Uint32Array;
  readonly #index: Map<string, number>;
  #all: Int32Array | null = null;

  constructor(ids: Iterable<string>, options: ShardMapOptions = {}) {
    this.ids = [...new Set(ids)].sort();
    this.replicas = options.replicas ?? SHARD_REPLICAS;
    this.capacity = Math.ceil((options.loadFactor ?? SHARD_LOAD_FACTOR) * this.replicas);
    this.#hashes = Uint32Array.from(this.ids, idHash);
    this.#index = new Map(this.ids.map((id, i) => [id, i]));
  }

  /** The `k` highest-weight nodes for an owner (never the owner itself), best first, into `out` (-1 where there are fewer). */
  #ranked(ownerHash: number, ownerIndex: number, k: number, out: Int32Array, weights: Float64Array): void {
    out.fill(-1, 0, k);
    weights.fill(-1, 0, k);
    const mixed = fmix32(ownerHash ^ 0x9e3779b9);
    for (let i = 0; i < this.#hashes.length; i++) {
      if (i === ownerIndex) continue;
      const w = fmix32(this.#hashes[i]! ^ mixed);
      if (w <= weights[k - 1]!) continue; // equal weight: the lower rank, seen first, keeps its place
      let at = k - 1;
      while (at > 0 && w > weights[at - 1]!) {
        weights[at] = weights[at - 1]!;
        out[at] = out[at - 1]!;
        at--;
      }
      weights[at] = w;
      out[at] = i;
    }
  }

  /**
   * Every assignment: the holders of ids[i] at [i * R, (i + 1) * R), best
   * first, -1 where there are too few nodes. O(N^2) hashes, computed once.
   */
  assignments(): Int32Array {
    if (this.#all) return this.#all;
    const r = this.replicas;
    const n = this.ids.length;
    const all = new Int32Array(n * r).fill(-1);
    const load = new Int32Array(n);
    const k = Math.min(CANDIDATES, Math.max(r, n - 1));
    const out = new Int32Array(k);
    const weights = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      this.#ranked(this.#hashes[i]!, i, k, out, weights);
      const placed = this.#place(i, out, k, load, all);
      if (placed < r && k < n - 1) {
        // The first pass's candidates were full: place it on the best of all nodes that have room.
        for (let j = i * r; j < i * r + placed; j++) load[all[j]!]!--;
        all.fill(-1, i * r, (i + 1) * r);
        const everyone = this.#fullRanking(i);
        this.#place(i, everyone, everyone.length, load, all);
      }
    }
    this.#all = all;
    return all;
  }

  /** Every node but owner i, best weight first (ties: lower rank first). */
  #fullRanking(i: number): Int32Array {
    const mixed = fmix32(this.#hashes[i]! ^ 0x9e3779b9);
    const others = Array.from({ length: this.ids.length }, (_, j) => j).filter((j) => j !== i);
    const weight = (j: number) => fmix32(this.#hashes[j]! ^ mixed);
    others.sort((a, b) => weight(b) - weight(a) || a - b);
    return Int32Array.from(others);
  }

  /** Puts owner i on its best candidates that have room; returns how many holders it got. */
  #place(i: number, ranked: Int32Array, k: number, load: Int32Array, all: Int32Array): number {
    const r = this.replicas;
    let placed = 0;
    for (let c = 0; c < k && placed < r; c++) {
      const holder = ranked[c]!;
      if (holder < 0 || load[holder]! >= this.capacity) continue;
      all[i * r + placed++] = holder;
      load[holder]!++;
    }
    return placed;
  }

  /** The ids holding `owner`'s copy, best first (fewer than R when the map knows fewer other nodes); [] for an owner the map does not know. */
  holdersOf(owner: string): string[] {
    const index = this.#index.get(owner);
    if (index === undefined) return [];
    const all = this.assignments();
    const holders: string[] = [];
    for (let k = 0; k < this.replicas; k++) {
      const h = all[index * this.replicas + k]!;
      if (h >= 0) holders.push(this.ids[h]!);
    }
    return holders;
  }

  /** The ids whose copies `holder` keeps. */
  heldBy(holder: string): string[] {
    const index = this.#index.get(holder);
    if (index === undefined) return [];
    const all = this.assignments();
    const held: string[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      for (let k = 0; k < this.replicas; k++) if (all[i * this.replicas + k] === index) held.push(this.ids[i]!);
    }
    return held;
  }

  /** Copies each node holds, by index into `ids`. */
  load(): Int32Array {
    const counts = new Int32Array(this.ids.length);
    for (const i of this.assignments()) if (i >= 0) counts[i]!++;
    return counts;
  }
}
