/**
 * The robust drift step: coordinate-wise W-MSR (Weighted Mean-Subsequence-
 * Reduced; LeBlanc, Zhang, Koutsoukos & Sundaram, "Resilient asymptotic
 * consensus in robust networks", IEEE JSAC 2013). docs/drift-model.md,
 * "Robust step (W-MSR)". Pure: no clock, no randomness, no I/O.
 *
 * On each axis separately, of the fresh peers' values: drop the F largest of
 * those strictly above our own value (all of them if fewer than F are above)
 * and the F smallest of those strictly below; values equal to ours are kept.
 * The pull on that axis is the mean over the kept values of (r_j - x), zero
 * when none is kept. With at most F liars among the peers, every kept value
 * lies within [min, max] of our own and the honest peers' values, whatever
 * the liars send: a kept liar above us has F dropped values at or above it,
 * one of them honest (and the same below).
 */
import { driftDiffInto, type DriftParams, type DriftStep, type Vec2 } from './drift.js';
import {
  WMSR_F1_MIN_DEGREE,
  WMSR_F2_MIN_DEGREE,
  WMSR_OUTLIER_MIN_MARGIN,
  WMSR_OUTLIER_RANGE_FACTOR,
} from './limits.js';

/**
 * F, the values trimmed on each side, for a node with `degree` fresh peers:
 * 0 below WMSR_F1_MIN_DEGREE, 1 up to WMSR_F2_MIN_DEGREE - 1, 2 from there,
 * never more than floor((degree - 1) / 2), so at least one value is kept.
 */
export function wmsrTrim(degree: number): number {
  if (!(degree >= WMSR_F1_MIN_DEGREE)) return 0;
  const f = degree >= WMSR_F2_MIN_DEGREE ? 2 : 1;
  return Math.min(f, Math.floor((degree - 1) / 2));
}

/** Bit of a trimmed mask: the value was dropped on the x axis. */
export const TRIMMED_X = 1;
/** Bit of a trimmed mask: the value was dropped on the y axis. */
export const TRIMMED_Y = 2;

/**
 * The W-MSR pull on one axis, the scalar core the node and the simulator
 * share: values[0..n) are the peers' coordinates, `own` ours, `f` the trim.
 * `hi` and `lo` are scratch arrays of length >= f (kept by the caller, so the
 * simulator's hot loop allocates nothing). Selection is by insertion into
 * the f-long scratch lists (O(n f), no sort: f is 0-2 in practice). If
 * `trimmed` is given, trimmed[i] |= bit for each dropped value.
 *
 * Two passes so the kept sum never contains a dropped value: a liar at 1e5
 * added and subtracted again would leave ~1e-11 of rounding in the pull.
 * Inputs are finite (replicas are validated to |c| <= MAX_COORDINATE).
 */
export function wmsrAxisPull(
  values: Float64Array,
  n: number,
  own: number,
  f: number,
  hi: Float64Array,
  lo: Float64Array,
  trimmed: Uint8Array | null,
  bit: number,
): number {
  // Pass 1: hi[0..nh) the nh = min(#above, f) largest differences above, descending;
  // lo[0..nl) the nl = min(#below, f) smallest below, ascending.
  let nh = 0;
  let nl = 0;
  if (f > 0) {
    for (let i = 0; i < n; i++) {
      const d = values[i]! - own;
      if (d > 0) {
        if (nh < f) nh++;
        else if (!(d > hi[f - 1]!)) continue;
        let k = nh - 1;
        while (k > 0 && hi[k - 1]! < d) {
          hi[k] = hi[k - 1]!;
          k--;
        }
        hi[k] = d;
      } else if (d < 0) {
        if (nl < f) nl++;
        else if (!(d < lo[f - 1]!)) continue;
        let k = nl - 1;
        while (k > 0 && lo[k - 1]! > d) {
          lo[k] = lo[k - 1]!;
          k--;
        }
        lo[k] = d;
      }
    }
  }
  // Pass 2: drop every value beyond the last selected one, and of the values equal to it only
  // as many as were selected (ties: the first ones met are dropped).
  const hiCut = nh > 0 ? hi[nh - 1]! : Infinity;
  const loCut = nl > 0 ? lo[nl - 1]! : -Infinity;
  let hiTies = 0;
  for (let k = 0; k < nh; k++) if (hi[k] === hiCut) hiTies++;
  let loTies = 0;
  for (let k = 0; k < nl; k++) if (lo[k] === loCut) loTies++;
  let sum = 0;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - own;
    if (d > hiCut || (d === hiCut && hiTies-- > 0) || d < loCut || (d === loCut && loTies-- > 0)) {
      if (trimmed !== null) trimmed[i]! |= bit;
      continue;
    }
    sum += d;
    kept++;
  }
  return kept > 0 ? sum / kept : 0;
}

/** W-MSR pull [Px, Py] of node x over its fresh peers; f defaults to wmsrTrim(peers.length). */
export function wmsrPull(x: Vec2, peers: readonly Vec2[], f: number = wmsrTrim(peers.length)): [number, number] {
  return wmsrEvaluate(x, peers, f).pull;
}

export interface WmsrEvaluation {
  /** [Px, Py], the mean over kept values of (r_j - x) on each axis. */
  readonly pull: [number, number];
  /** Per peer, in the order given: TRIMMED_X | TRIMMED_Y bits of the axes where its value was dropped. */
  readonly trimmed: Uint8Array;
  /**
   * Per peer: dropped on some axis and farther outside the kept values (ours
   * included) than max(WMSR_OUTLIER_MIN_MARGIN, WMSR_OUTLIER_RANGE_FACTOR *
   * their width). W-MSR drops the extreme honest values every cycle too; only
   * these far ones are trust evidence ('outlier', main/model/trust.ts).
   */
  readonly outliers: readonly boolean[];
}

/** The W-MSR pull with what it dropped: the node's call (not the simulator's hot loop). */
export function wmsrEvaluate(x: Vec2, peers: readonly Vec2[], f: number = wmsrTrim(peers.length)): WmsrEvaluation {
  const n = peers.length;
  const trim = f > 0 && Number.isFinite(f) ? Math.floor(f) : 0;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = peers[i]![0];
    ys[i] = peers[i]![1];
  }
  const hi = new Float64Array(Math.max(1, trim));
  const lo = new Float64Array(Math.max(1, trim));
  const trimmed = new Uint8Array(n);
  const px = wmsrAxisPull(xs, n, x[0], trim, hi, lo, trimmed, TRIMMED_X);
  const py = wmsrAxisPull(ys, n, x[1], trim, hi, lo, trimmed, TRIMMED_Y);
  const outliers: boolean[] = new Array<boolean>(n).fill(false);
  if (trim > 0) {
    markOutliers(xs, x[0], trimmed, TRIMMED_X, outliers);
    markOutliers(ys, x[1], trimmed, TRIMMED_Y, outliers);
  }
  return { pull: [px, py], trimmed, outliers };
}

function markOutliers(values: Float64Array, own: number, trimmed: Uint8Array, bit: number, outliers: boolean[]): void {
  let min = own;
  let max = own;
  for (let i = 0; i < values.length; i++) {
    if ((trimmed[i]! & bit) !== 0) continue;
    if (values[i]! < min) min = values[i]!;
    if (values[i]! > max) max = values[i]!;
  }
  const margin = Math.max(WMSR_OUTLIER_MIN_MARGIN, WMSR_OUTLIER_RANGE_FACTOR * (max - min));
  for (let i = 0; i < values.length; i++) {
    if ((trimmed[i]! & bit) === 0) continue;
    if (values[i]! > max + margin || values[i]! < min - margin) outliers[i] = true;
  }
}

/** One W-MSR step: the drift step of driftStep with the pull replaced, plus the outliers it saw. */
export interface WmsrStep extends DriftStep {
  readonly outliers: readonly boolean[];
}

/** One drift cycle with the W-MSR pull: x' = x + alpha*e + beta*P_wmsr - gamma*x, through driftDiffInto. */
export function wmsrStep(x: Vec2, peers: readonly Vec2[], u: Vec2, p: DriftParams, f: number = wmsrTrim(peers.length)): WmsrStep {
  const { pull, outliers } = wmsrEvaluate(x, peers, f);
  const diff: [number, number] = [0, 0];
  driftDiffInto(diff, x[0], x[1], pull[0], pull[1], u[0], u[1], p);
  return { drift: [x[0] + diff[0], x[1] + diff[1]], diff, outliers };
}
