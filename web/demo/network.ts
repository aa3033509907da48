/**
 * The demo's simulated network: n nodes on a random k-regular graph, stepped
 * one synchronous cycle at a time by the project's own simulator
 * (main/sim/simulator.ts, the drift model of main/model), with an optional
 * stubborn liar. DOM-free, seeded: the same seeds and the same calls give
 * the same drifts.
 *
 * The simulator does not hand out the entropy samples it draws, but it
 * documents that node i draws exactly sampleEntropy(seededRandom(seed_i));
 * so each node has a mirror stream here, drawn once per cycle as the
 * simulator draws once per node per cycle, and its |u| feeds the node's
 * intensity (the colour of its dot), smoothed as a real node smooths it.
 */
import { DEFAULT_DRIFT_PARAMS, sampleEntropy, type DriftParams, type Vec2 } from '../../main/model/drift.js';
import { DEMO_MAX_DEGREE, DEMO_MAX_NODES, DEMO_MIN_DEGREE, DEMO_MIN_NODES, INTENSITY_SMOOTHING } from '../../main/model/limits.js';
import { seededRandom } from '../../main/model/prng.js';
import { isWeighting, WEIGHTINGS, type Weighting } from '../../main/model/weights.js';
import { completeGraph, degree, edgesOf, isConnected, randomRegularGraph, type Edge, type Graph } from '../../main/sim/graph.js';
import { Simulator } from '../../main/sim/simulator.js';
import { steadySpread } from '../../main/sim/spectrum.js';

/** Scattered drifts are uniform in [-SCATTER_HALF_WIDTH, SCATTER_HALF_WIDTH]^2: a spread of about 4.9, far above the ~0.12 noise floor. */
export const SCATTER_HALF_WIDTH = 6;
/** The liar is pinned this far from the honest cloud's centre when it is turned on (5 units: well outside the cloud, still on screen). */
export const LIAR_OFFSET: Vec2 = [4, 3];
/** The node that lies when the liar is on. */
export const LIAR_NODE = 0;
/** Graph seeds tried, one after the other, for a connected k-regular graph (random ones with k >= 3 almost always are). */
const GRAPH_ATTEMPTS = 32;

export interface NetworkConfig {
  readonly nodes: number;
  /** Links per node asked for; the graph has `feasibleDegree(nodes, degree)`. */
  readonly degree: number;
  readonly weighting: Weighting;
  readonly liar: boolean;
}

/**
 * The degree a k-regular graph on n nodes can have closest to k: below n,
 * and n * k even (one more, or one less where one more is too many).
 */
export function feasibleDegree(nodes: number, degree: number): number {
  const top = Math.min(DEMO_MAX_DEGREE, nodes - 1);
  let k = Math.max(DEMO_MIN_DEGREE, Math.min(degree, top));
  if ((nodes * k) % 2 !== 0) k = k + 1 <= top ? k + 1 : k - 1;
  return k;
}

/** A connected k-regular graph on n nodes from `seed`, or from the first seed after it that gives one; the seed used comes back. */
export function demoGraph(nodes: number, degree: number, seed: number): { graph: Graph; seed: number } {
  if (degree >= nodes - 1) return { graph: completeGraph(nodes), seed };
  for (let i = 0; i < GRAPH_ATTEMPTS; i++) {
    const s = (seed + i) >>> 0;
    const graph = randomRegularGraph(nodes, degree, s);
    // randomRegularGraph's repair step can leave a node a link short (about 3 % of seeds for n <= 200): such a graph is passed over.
    if (isConnected(graph) && isRegular(graph, degree)) return { graph, seed: s };
  }
  throw new Error(`no connected ${degree}-regular graph on ${nodes} nodes from seed ${seed}`);
}

function isRegular(graph: Graph, k: number): boolean {
  for (let i = 0; i < graph.n; i++) if (degree(graph, i) !== k) return false;
  return true;
}

/** What the page shows and the test probe reads; a fresh copy every call. */
export interface NetworkState {
  readonly nodes: number;
  readonly degree: number;
  readonly weighting: Weighting;
  readonly liar: boolean;
  /** Where the liar is pinned, when it is on. */
  readonly liarAt: Vec2 | null;
  /** Cycles run since the page started (all epochs). */
  readonly cycle: number;
  /** Bumped by every change that rebuilds the network (scatter, nodes, links, weighting, liar). */
  readonly epoch: number;
  /** Cycles run in this epoch. */
  readonly epochCycle: number;
  /** RMS distance of the honest nodes to their centroid. */
  readonly spread: number;
  /** The spread when this epoch began. */
  readonly epochStartSpread: number;
  readonly centroid: Vec2;
  /** Distance of the honest centroid to the liar (null without liar). */
  readonly liarDistance: number | null;
  readonly graphSeed: number;
  readonly entropySeed: number;
}

export class DemoNetwork {
  readonly params: DriftParams;
  private config: NetworkConfig;
  private graph: Graph;
  private graphSeed: number;
  private edges: Edge[];
  private sim: Simulator;
  private mirrors: (() => number)[] = [];
  private intensity: Float64Array;
  private liarAt: Vec2 | null = null;
  private cycles = 0;
  private epoch = 0;
  private epochStartSpread = 0;
  private readonly scatterRandom: () => number;
  private floorCache: { key: string; value: number } | null = null;

  constructor(
    config: NetworkConfig,
    private readonly seeds: { readonly graph: number; readonly entropy: number },
    params: DriftParams = DEFAULT_DRIFT_PARAMS,
  ) {
    this.params = params;
    this.config = checkConfig(config);
    this.scatterRandom = seededRandom((seeds.graph ^ 0x5bd1e995) >>> 0);
    const built = demoGraph(this.config.nodes, feasibleDegree(this.config.nodes, this.config.degree), seeds.graph);
    this.graph = built.graph;
    this.graphSeed = built.seed;
    this.edges = edgesOf(this.graph);
    this.intensity = new Float64Array(this.config.nodes);
    const initial = this.scattered(this.config.nodes);
    if (this.config.liar) this.liarAt = liarBeside(initial, this.graph.n);
    this.sim = this.build(initial);
  }

  get nodeCount(): number {
    return this.graph.n;
  }

  /** The graph's links, each once. */
  links(): readonly Edge[] {
    return this.edges;
  }

  /** Runs one synchronous cycle of every node. */
  cycle(): void {
    this.sim.run(1);
    const intensity = this.intensity;
    for (let i = 0; i < this.mirrors.length; i++) {
      const u = sampleEntropy(this.mirrors[i]!);
      const norm = Math.hypot(u[0], u[1]);
      // A node's first sample is its intensity (a real node starts from 0 and shows blue for a second).
      intensity[i] = intensity[i] === 0 ? norm : intensity[i]! + INTENSITY_SMOOTHING * (norm - intensity[i]!);
    }
    this.cycles++;
  }

  /** Drift of node i now. */
  position(i: number): Vec2 {
    const xy = this.sim.xy;
    return [xy[2 * i]!, xy[2 * i + 1]!];
  }

  /** Smoothed entropy intensity of node i (0 before its first cycle). */
  intensityOf(i: number): number {
    return this.intensity[i]!;
  }

  isLiar(i: number): boolean {
    return this.config.liar && i === LIAR_NODE;
  }

  /** Every node spread out again (the liar, if on, is placed again beside the new cloud). */
  scatter(): void {
    this.rebuild(this.config, this.scattered(this.graph.n), true);
  }

  /**
   * Applies new settings; nodes that remain keep their drifts (a liar turned
   * off rejoins from where it lied), new nodes arrive scattered.
   */
  configure(next: NetworkConfig): void {
    const config = checkConfig(next);
    const old = this.config;
    if (config.nodes === old.nodes && config.degree === old.degree && config.weighting === old.weighting && config.liar === old.liar) return;
    const graphChanged = config.nodes !== old.nodes || feasibleDegree(config.nodes, config.degree) !== feasibleDegree(old.nodes, old.degree);
    let initial: Float64Array = Float64Array.from(this.sim.xy);
    if (graphChanged) {
      const built = demoGraph(config.nodes, feasibleDegree(config.nodes, config.degree), this.seeds.graph);
      this.graph = built.graph;
      this.graphSeed = built.seed;
      this.edges = edgesOf(this.graph);
      const fresh = this.scattered(config.nodes);
      fresh.set(initial.subarray(0, Math.min(initial.length, fresh.length)));
      initial = fresh;
      const intensity = new Float64Array(config.nodes);
      intensity.set(this.intensity.subarray(0, Math.min(this.intensity.length, config.nodes)));
      this.intensity = intensity;
    }
    this.rebuild(config, initial, config.liar !== old.liar || graphChanged);
  }

  /**
   * The steady spread the model predicts for this graph and weighting
   * (main/sim/spectrum.ts steadySpread, without liar). W-MSR has no
   * one-cycle matrix: the seed rule's number is its reference, as in the
   * benchmarks. Cached: computing it takes up to 0.6 s at 200 nodes.
   */
  predictedFloor(): number {
    const rule = this.config.weighting === 'metropolis' ? 'metropolis' : 'seed';
    const key = `${this.graphSeed}/${this.graph.n}/${this.edges.length}/${rule}`;
    if (this.floorCache?.key !== key) this.floorCache = { key, value: steadySpread(this.graph, this.params, rule) };
    return this.floorCache.value;
  }

  /** True when predictedFloor() would answer from its cache. */
  floorKnown(): boolean {
    const rule = this.config.weighting === 'metropolis' ? 'metropolis' : 'seed';
    return this.floorCache?.key === `${this.graphSeed}/${this.graph.n}/${this.edges.length}/${rule}`;
  }

  state(): NetworkState {
    const c = this.sim.honestCentroid();
    const at: Vec2 | null = this.config.liar && this.liarAt ? [this.liarAt[0], this.liarAt[1]] : null;
    return {
      nodes: this.graph.n,
      degree: feasibleDegree(this.config.nodes, this.config.degree),
      weighting: this.config.weighting,
      liar: this.config.liar,
      liarAt: at,
      cycle: this.cycles,
      epoch: this.epoch,
      epochCycle: this.sim.cycle,
      spread: this.sim.honestSpread(),
      epochStartSpread: this.epochStartSpread,
      centroid: c,
      liarDistance: at ? Math.hypot(c[0] - at[0], c[1] - at[1]) : null,
      graphSeed: this.graphSeed,
      entropySeed: this.seeds.entropy,
    };
  }

  /**
   * The entropy seed of node i in this epoch: node i draws
   * sampleEntropy(seededRandom(seed)) each cycle. A fresh stream per epoch,
   * so a rebuilt network does not replay the draws of the last one.
   */
  entropySeedOf(i: number): number {
    return (this.seeds.entropy + Math.imul(this.epoch, 0x9e3779b9) + i) >>> 0;
  }

  private rebuild(config: NetworkConfig, initial: Float64Array, placeLiar: boolean): void {
    this.config = config;
    if (!config.liar) this.liarAt = null;
    else if (placeLiar || this.liarAt === null) this.liarAt = liarBeside(initial, this.graph.n);
    this.epoch++;
    this.sim = this.build(initial);
  }

  private build(initial: Float64Array): Simulator {
    const n = this.graph.n;
    const seedOf = (i: number): number => this.entropySeedOf(i);
    const sim = new Simulator({
      graph: this.graph,
      params: this.params,
      weighting: this.config.weighting,
      seedOf,
      initial,
      stubborn: this.config.liar && this.liarAt ? [{ node: LIAR_NODE, at: this.liarAt }] : [],
    });
    this.mirrors = Array.from({ length: n }, (_, i) => seededRandom(seedOf(i)));
    this.epochStartSpread = sim.honestSpread();
    return sim;
  }

  private scattered(n: number): Float64Array {
    const xy = new Float64Array(2 * n);
    for (let i = 0; i < xy.length; i++) xy[i] = (this.scatterRandom() * 2 - 1) * SCATTER_HALF_WIDTH;
    return xy;
  }
}

/** Where the liar is pinned: LIAR_OFFSET from the centroid of the honest drifts it is about to start with. */
function liarBeside(initial: Float64Array, n: number): Vec2 {
  let cx = 0;
  let cy = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (i === LIAR_NODE) continue;
    cx += initial[2 * i]!;
    cy += initial[2 * i + 1]!;
    count++;
  }
  return [cx / count + LIAR_OFFSET[0], cy / count + LIAR_OFFSET[1]];
}

function checkConfig(config: NetworkConfig): NetworkConfig {
  if (!Number.isInteger(config.nodes) || config.nodes < DEMO_MIN_NODES || config.nodes > DEMO_MAX_NODES) {
    throw new RangeError(`nodes must be an integer ${DEMO_MIN_NODES}-${DEMO_MAX_NODES}`);
  }
  if (!Number.isInteger(config.degree) || config.degree < DEMO_MIN_DEGREE || config.degree > DEMO_MAX_DEGREE) {
    throw new RangeError(`links per node must be an integer ${DEMO_MIN_DEGREE}-${DEMO_MAX_DEGREE}`);
  }
  if (!isWeighting(config.weighting)) throw new RangeError(`weighting must be one of ${WEIGHTINGS.join(', ')}`);
  return { nodes: config.nodes, degree: config.degree, weighting: config.weighting, liar: config.liar === true };
}
