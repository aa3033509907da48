/**
 * The convergence readout's memory: the spread of the visible nodes sampled
 * at a steady pace, and the maths of its sparkline (log scale, since spread
 * falls geometrically toward the noise floor). DOM-free.
 */
import { Ring } from './ring.js';

export interface Sample {
  at: number;
  value: number;
}

/** One sample a second, five minutes of them. */
export const SPREAD_SAMPLE_MS = 1000;
export const SPREAD_SAMPLES = 300;
/** Spreads below this are drawn at it: log(0) has no place on a chart. */
export const SPARK_FLOOR = 1e-3;

export class SpreadHistory {
  private readonly ring: Ring<Sample>;
  private lastAt = -Infinity;

  constructor(
    capacity = SPREAD_SAMPLES,
    private readonly intervalMs = SPREAD_SAMPLE_MS,
  ) {
    this.ring = new Ring<Sample>(capacity);
  }

  /** Records the value if a sample is due; returns whether it did. Non-finite values are skipped. */
  maybeSample(value: number, now: number): boolean {
    if (!Number.isFinite(value) || value < 0) return false;
    if (now - this.lastAt < this.intervalMs * 0.95) return false;
    this.lastAt = now;
    this.ring.push({ at: now, value });
    return true;
  }

  samples(): Sample[] {
    return this.ring.toArray();
  }

  get length(): number {
    return this.ring.length;
  }

  get capacity(): number {
    return this.ring.capacity;
  }

  latest(): Sample | undefined {
    return this.ring.last();
  }

  clear(): void {
    this.ring.clear();
    this.lastAt = -Infinity;
  }
}

export interface SparkScale {
  /** Smallest and largest value shown (after flooring), for the labels. */
  min: number;
  max: number;
  /** log10 bounds of the vertical axis. */
  logMin: number;
  logMax: number;
}

/**
 * The vertical range for these values: log10, padded to at least a factor
 * of ~3 so a flat line sits mid-chart instead of magnifying noise.
 */
export function sparkScale(values: readonly number[]): SparkScale | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const f = Math.max(v, SPARK_FLOOR);
    if (f < min) min = f;
    if (f > max) max = f;
  }
  if (min === Infinity) return null;
  let logMin = Math.log10(min);
  let logMax = Math.log10(max);
  const minSpan = 0.5;
  if (logMax - logMin < minSpan) {
    const mid = (logMax + logMin) / 2;
    logMin = mid - minSpan / 2;
    logMax = mid + minSpan / 2;
  }
  return { min, max, logMin, logMax };
}

/**
 * Screen points (x right, y down) of the sparkline in a width x height box.
 * The newest sample sits at the right edge; x is by time, so a gap in
 * sampling (hidden tab) shows as a gap rather than a squeeze. `spanMs` is the
 * time the width covers.
 */
export function sparkPoints(
  samples: readonly Sample[],
  width: number,
  height: number,
  spanMs: number,
  scale: SparkScale,
  now: number,
  pad = 2,
): [number, number][] {
  const out: [number, number][] = [];
  const h = Math.max(1, height - 2 * pad);
  const range = scale.logMax - scale.logMin || 1;
  for (const s of samples) {
    const age = now - s.at;
    if (age > spanMs || age < -spanMs) continue;
    const x = width - (Math.max(0, age) / spanMs) * width;
    const lv = Math.log10(Math.max(s.value, SPARK_FLOOR));
    const y = pad + (1 - (lv - scale.logMin) / range) * h;
    out.push([x, y]);
  }
  return out;
}
