/**
 * Peer weightings for the drift model's pull term (docs/drift-model.md §5).
 * Pure: the node, the simulator and the spectrum code share these formulas.
 *
 * - 'seed': P = mean over fresh peers of (r_j - x), scaled by beta (plain averaging).
 *   One cycle is W = (1 - beta - gamma) I + beta D^{-1} A.
 * - 'wmsr' (DEFAULT_WEIGHTING): the seed rule's mean taken after W-MSR
 *   dropped up to F values above and F below ours on each axis
 *   (main/model/wmsr.ts), scaled by beta. Not linear: no W matrix.
 * - 'metropolis': P = sum over fresh peers of w_ij (r_j - x) with the
 *   Metropolis–Hastings weight w_ij = 1 / (1 + max(d_i, d_j)), applied with
 *   weight 1 (beta is not used): W = W_MH - gamma I, symmetric and doubly
 *   stochastic for gamma = 0, with self weight 1 - sum_j w_ij.
 */
import { driftDiffInto, type DriftParams, type DriftStep, type Vec2 } from './drift.js';

export type Weighting = 'seed' | 'metropolis' | 'wmsr';

/** The weightings with a one-cycle matrix W (main/sim/spectrum.ts). */
export type LinearWeighting = Exclude<Weighting, 'wmsr'>;

export const WEIGHTINGS: readonly Weighting[] = ['seed', 'metropolis', 'wmsr'];

/** The weighting a node uses unless told otherwise: a minority of liars cannot steer it (docs/drift-model.md). */
export const DEFAULT_WEIGHTING: Weighting = 'wmsr';

export function isWeighting(value: unknown): value is Weighting {
  return value === 'seed' || value === 'metropolis' || value === 'wmsr';
}

/** Metropolis–Hastings weight of the edge between a node of degree di and one of degree dj. */
export function metropolisWeight(di: number, dj: number): number {
  return 1 / (1 + Math.max(di, dj));
}

/**
 * 1 / (1 + d): the simulator keeps one per node instead of a weight per
 * edge. metropolisWeight(di, dj) is the smaller of metropolisInverse(di)
 * and metropolisInverse(dj), the same double (1 + d is exact and a
 * correctly rounded 1 / y is non-increasing in y).
 */
export function metropolisInverse(d: number): number {
  return 1 / (1 + d);
}

/** A fresh peer as the weighted pull sees it: its replica and the degree it last advertised (undefined if never). */
export interface WeightedPeer {
  readonly r: Vec2;
  readonly deg: number | undefined;
}

/**
 * The Metropolis pull sum_j w_ij (r_j - x), where d_i = peers.length and a
 * peer that has not advertised its degree counts as having ours.
 */
export function metropolisPull(x: Vec2, peers: readonly WeightedPeer[]): [number, number] {
  const di = peers.length;
  let px = 0;
  let py = 0;
  for (const p of peers) {
    const w = metropolisWeight(di, p.deg ?? di);
    px += w * (p.r[0] - x[0]);
    py += w * (p.r[1] - x[1]);
  }
  return [px, py];
}

/** The parameters driftDiffInto takes for a weighting: Metropolis pulls with weight 1 (the weights already sum to < 1); seed and W-MSR with beta. */
export function pullParams(p: DriftParams, weighting: Weighting): DriftParams {
  return weighting === 'metropolis' ? { alpha: p.alpha, beta: 1, gamma: p.gamma } : p;
}

/** One cycle with Metropolis weights: x' = x + alpha*e + sum_j w_ij (r_j - x) - gamma*x, through driftDiffInto. */
export function metropolisStep(x: Vec2, peers: readonly WeightedPeer[], u: Vec2, p: DriftParams): DriftStep {
  const pull = metropolisPull(x, peers);
  const diff: [number, number] = [0, 0];
  driftDiffInto(diff, x[0], x[1], pull[0], pull[1], u[0], u[1], pullParams(p, 'metropolis'));
  return { drift: [x[0] + diff[0], x[1] + diff[1]], diff };
}
