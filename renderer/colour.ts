/**
 * The entropy-intensity colour scale (a node's smoothed |u|). DOM-free: the
 * plane, the legend and the peer list all colour through here.
 *
 * |u| of u uniform in [-1, 1]^2 averages ~0.77 and reaches sqrt(2) in the
 * corners; a smoothed value sits around 0.6-0.95 on a live node and starts
 * at 0 before the first sample. The scale spans 0..1 and clamps above.
 */

export type Rgb = readonly [number, number, number];

export const INTENSITY_MIN = 0;
export const INTENSITY_MAX = 1;

/** Calm on a dark background: blue (quiet) through teal and gold to coral (busy). */
const STOPS: readonly (readonly [number, Rgb])[] = [
  [0.0, [70, 96, 190]],
  [0.35, [64, 150, 222]],
  [0.6, [56, 196, 170]],
  [0.8, [232, 200, 84]],
  [1.0, [240, 110, 84]],
];

/** Position of a value on the scale, 0..1 (NaN counts as 0). */
export function intensityFraction(value: number): number {
  if (!Number.isFinite(value)) return value === Infinity ? 1 : 0;
  const t = (value - INTENSITY_MIN) / (INTENSITY_MAX - INTENSITY_MIN);
  return Math.min(1, Math.max(0, t));
}

/** The colour of an intensity value, as 0..255 channels. */
export function intensityRgb(value: number): Rgb {
  const t = intensityFraction(value);
  let lower = STOPS[0]!;
  for (const stop of STOPS) {
    if (stop[0] <= t) lower = stop;
    else {
      const span = stop[0] - lower[0];
      const f = span > 0 ? (t - lower[0]) / span : 0;
      return [mix(lower[1][0], stop[1][0], f), mix(lower[1][1], stop[1][1], f), mix(lower[1][2], stop[1][2], f)];
    }
  }
  return lower[1];
}

/** CSS colour string of an intensity value, with an optional alpha. */
export function intensityCss(value: number, alpha = 1): string {
  const [r, g, b] = intensityRgb(value);
  return alpha >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${round3(alpha)})`;
}

/** Colour stops for a canvas gradient legend (offset 0..1, css colour). */
export function legendStops(): [number, string][] {
  return STOPS.map(([offset, [r, g, b]]) => [offset, `rgb(${r}, ${g}, ${b})`]);
}

function mix(a: number, b: number, f: number): number {
  return Math.round(a + (b - a) * f);
}

function round3(x: number): number {
  return Math.round(Math.max(0, Math.min(1, x)) * 1000) / 1000;
}
