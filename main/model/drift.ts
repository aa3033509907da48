/**
 * The drift model (docs/drift-model.md): the one function every node, simulator,
 * test and browser calls. Pure: no clock, no randomness of its own, no I/O.
 */

export type Vec2 = readonly [number, number];

export interface DriftParams {
  /** Weight of the entropy direction. */
  readonly alpha: number;
  /** Weight of the pull toward the mean of fresh peers. */
  readonly beta: number;
  /** Gravity toward the origin; keeps the network mean bounded. */
  readonly gamma: number;
}

export const DEFAULT_DRIFT_PARAMS: DriftParams = { alpha: 0.05, beta: 0.1, gamma: 0.001 };

/** Below this length an entropy sample has no usable direction and is drawn again. */
export const MIN_ENTROPY_NORM = 1e-9;

export interface DriftStep {
  /** The node's drift after the step. */
  readonly drift: [number, number];
  /** D, the change applied this cycle (broadcast as the SDM diff). */
  readonly diff: [number, number];
}

/**
 * Draws u uniformly from [-1, 1]^2, drawing again while |u| is too small to
 * normalise. `random` returns uniform numbers in [0, 1).
 */
export function sampleEntropy(random: () => number): [number, number] {
  for (;;) {
    const ux = random() * 2 - 1;
    const uy = random() * 2 - 1;
    // Squared compare instead of Math.hypot: hypot is ~5x slower in V8 and |u| <= sqrt(2) cannot overflow.
    if (ux * ux + uy * uy >= MIN_ENTROPY_NORM * MIN_ENTROPY_NORM) return [ux, uy];
  }
}

/** P: mean over fresh peers of (r_j - x); [0, 0] without fresh peers. */
export function peerPull(x: Vec2, peers: readonly Vec2[]): [number, number] {
  const n = peers.length;
  if (n === 0) return [0, 0];
  let sx = 0;
  let sy = 0;
  for (const r of peers) {
    sx += r[0];
    sy += r[1];
  }
  return [sx / n - x[0], sy / n - x[1]];
}

/**
 * D = alpha * u/|u| + beta * P - gamma * x, the scalar core shared by the
 * node and the typed-array simulator. Writes [Dx, Dy] into `out`.
 */
export function driftDiffInto(
  out: [number, number] | Float64Array,
  x: number,
  y: number,
  pullX: number,
  pullY: number,
  ux: number,
  uy: number,
  p: DriftParams,
): void {
  // sqrt, not Math.hypot: the simulator's hot loop runs this 10^7+ times a second (BENCHMARKS.md row 6).
  const norm = Math.sqrt(ux * ux + uy * uy);
  out[0] = (p.alpha * ux) / norm + p.beta * pullX - p.gamma * x;
  out[1] = (p.alpha * uy) / norm + p.beta * pullY - p.gamma * y;
}

/** One drift cycle of one node: x' = x + alpha*e + beta*P - gamma*x. */
export function driftStep(x: Vec2, peers: readonly Vec2[], u: Vec2, p: DriftParams): DriftStep {
  const pull = peerPull(x, peers);
  const diff: [number, number] = [0, 0];
  driftDiffInto(diff, x[0], x[1], pull[0], pull[1], u[0], u[1], p);
  return { drift: [x[0] + diff[0], x[1] + diff[1]], diff };
}

/** vu, agreement with the peers: 1 / (1 + |x - mean_j r_j|), 1 when alone. */
export function agreement(x: Vec2, peers: readonly Vec2[]): number {
  if (peers.length === 0) return 1;
  const pull = peerPull(x, peers);
  return 1 / (1 + Math.hypot(pull[0], pull[1]));
}

/** Euclidean distance of two drifts. */
export function distance(a: Vec2, b: Vec2): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/**
 * Spread of a set of drifts: the root-mean-square distance to their centroid.
 * The convergence readout and the benchmarks use this one measure.
 */
export function spread(points: readonly Vec2[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let cx = 0;
  let cy = 0;
  for (const p of points) {
    cx += p[0];
    cy += p[1];
  }
  cx /= n;
  cy /= n;
  let s = 0;
  for (const p of points) s += (p[0] - cx) ** 2 + (p[1] - cy) ** 2;
  return Math.sqrt(s / n);
}
