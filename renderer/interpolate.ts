/**
 * Dots glide between updates: each node keeps where it was heading from,
 * where it is heading to and over how long, and the plane asks for the
 * position at display rate. A new target starts from the position shown at
 * that instant, so a dot never jumps. DOM-free; times are milliseconds.
 */
import { Ring } from './ring.js';

export type Point = [number, number];

/** Longest glide: updates further apart than this (a hidden tab, a slow poll) glide over this. */
export const MAX_GLIDE_MS = 1500;
/** Weight of the newest interval in the estimate of how often a node's position arrives. */
const INTERVAL_SMOOTHING = 0.3;

export class Glide {
  private from: Point;
  private to: Point;
  private start: number;
  private duration: number;
  private lastUpdate: number;
  private interval: number | null = null;

  constructor(initial: Point, now: number, nominalMs: number) {
    this.from = [initial[0], initial[1]];
    this.to = [initial[0], initial[1]];
    this.start = now;
    this.duration = Math.max(1, nominalMs);
    this.lastUpdate = now;
  }

  /** The position the dot is heading to (the latest known drift). */
  get target(): Point {
    return [this.to[0], this.to[1]];
  }

  /** How long the current glide lasts. */
  get glideMs(): number {
    return this.duration;
  }

  /**
   * Heads to `target` from wherever the dot is now. The glide lasts about as
   * long as updates of this node arrive apart (so motion is continuous), at
   * least `nominalMs` (the node's cycle period) and at most MAX_GLIDE_MS.
   */
  retarget(target: Point, now: number, nominalMs: number): void {
    const since = Math.min(MAX_GLIDE_MS, Math.max(0, now - this.lastUpdate));
    this.interval = this.interval === null ? since : this.interval + INTERVAL_SMOOTHING * (since - this.interval);
    this.lastUpdate = now;
    const here = this.at(now);
    this.from = here;
    this.to = [target[0], target[1]];
    this.start = now;
    this.duration = Math.min(MAX_GLIDE_MS, Math.max(1, nominalMs, this.interval));
  }

  /** Where the dot is at `now`: linear between from and to, so a steady stream of updates moves at a steady pace. */
  at(now: number): Point {
    const t = this.progress(now);
    return [this.from[0] + (this.to[0] - this.from[0]) * t, this.from[1] + (this.to[1] - this.from[1]) * t];
  }

  progress(now: number): number {
    const t = (now - this.start) / this.duration;
    return t <= 0 ? 0 : t >= 1 ? 1 : t;
  }
}

/** Number of trail points kept per node. */
export const TRAIL_LENGTH = 60;
/** A trail point is taken at most this often (so every node's trail covers the same time). */
export const TRAIL_INTERVAL_MS = 150;

/** Recent positions of one node, sampled at a steady pace from what the plane shows. */
export class Trail {
  private readonly ring: Ring<Point>;
  private lastSample = -Infinity;

  constructor(
    capacity = TRAIL_LENGTH,
    private readonly intervalMs = TRAIL_INTERVAL_MS,
  ) {
    this.ring = new Ring<Point>(capacity);
  }

  /** Records `p` if the last sample is at least one interval old; returns whether it did. */
  sample(p: Point, now: number): boolean {
    if (now - this.lastSample < this.intervalMs) return false;
    this.lastSample = now;
    this.ring.push([p[0], p[1]]);
    return true;
  }

  /** Oldest first. */
  points(): Point[] {
    return this.ring.toArray();
  }

  get length(): number {
    return this.ring.length;
  }

  clear(): void {
    this.ring.clear();
    this.lastSample = -Infinity;
  }
}
