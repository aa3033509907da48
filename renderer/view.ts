/**
 * Where the plane looks: auto-fit to the cloud of nodes, smoothing, zoom,
 * pan and grid ticks. DOM-free; screen coordinates are CSS pixels with y
 * down, drift coordinates have y up.
 */

export type Point = readonly [number, number];

export interface View {
  /** Drift coordinates at the centre of the canvas. */
  cx: number;
  cy: number;
  /** CSS pixels per drift unit. */
  scale: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Bounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/**
 * Smallest half-width auto-fit shows, in drift units. Converged nodes sit
 * ~0.1 apart (the entropy noise floor, docs/drift-model.md §3); zoomed any closer
 * that jitter would fill the screen and look like chaos.
 */
export const MIN_HALF_WIDTH = 0.5;
/** Extra room around the cloud, as a fraction of its half-extent. */
export const FIT_PAD = 0.2;
/** Room kept free at the canvas edges for labels, in CSS pixels. */
export const FIT_MARGIN_PX = 48;
/** Zoom limits (CSS pixels per drift unit). */
export const MIN_SCALE = 1e-4;
export const MAX_SCALE = 1e7;

export interface FitOptions {
  minHalfWidth?: number;
  pad?: number;
  marginPx?: number;
}

export function boundsOf(points: readonly Point[]): Bounds | null {
  let b: Bounds | null = null;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (b === null) b = { minX: x, maxX: x, minY: y, maxY: y };
    else {
      if (x < b.minX) b.minX = x;
      if (x > b.maxX) b.maxX = x;
      if (y < b.minY) b.minY = y;
      if (y > b.maxY) b.maxY = y;
    }
  }
  return b;
}

/** The view that shows every point with a margin, never closer than the minimum half-width. */
export function fitView(points: readonly Point[], size: Size, options: FitOptions = {}): View {
  const minHalf = options.minHalfWidth ?? MIN_HALF_WIDTH;
  const pad = options.pad ?? FIT_PAD;
  const margin = options.marginPx ?? FIT_MARGIN_PX;
  const b = boundsOf(points);
  const cx = b ? (b.minX + b.maxX) / 2 : 0;
  const cy = b ? (b.minY + b.maxY) / 2 : 0;
  const halfX = Math.max(b ? ((b.maxX - b.minX) / 2) * (1 + pad) : 0, minHalf);
  const halfY = Math.max(b ? ((b.maxY - b.minY) / 2) * (1 + pad) : 0, minHalf);
  const usableW = Math.max(1, size.width - 2 * margin);
  const usableH = Math.max(1, size.height - 2 * margin);
  const scale = clampScale(Math.min(usableW / (2 * halfX), usableH / (2 * halfY)));
  return { cx, cy, scale };
}

export interface SmoothOptions {
  /** Time constant when the view must zoom out (nodes leaving the view): fast. */
  tauOutMs?: number;
  /** Time constant when it may zoom in: slow, so the view breathes rather than twitches. */
  tauInMs?: number;
  /** Time constant of the centre. */
  tauPanMs?: number;
  /** Zoom-in smaller than this ratio is ignored (hysteresis against noise). */
  zoomInDeadband?: number;
}

/**
 * Moves `current` toward `target` by an exponential step for `dtMs`.
 * Scale moves in log space; zooming out is quick, zooming in slow and only
 * for a real change, so a cloud that jitters at its noise floor holds still.
 */
export function smoothView(current: View, target: View, dtMs: number, options: SmoothOptions = {}): View {
  const tauOut = options.tauOutMs ?? 250;
  const tauIn = options.tauInMs ?? 1800;
  const tauPan = options.tauPanMs ?? 700;
  const deadband = options.zoomInDeadband ?? 1.12;
  const dt = Math.max(0, Math.min(dtMs, 1000));
  const ratio = target.scale / current.scale;
  let scale = current.scale;
  if (ratio < 1) scale = current.scale * ratio ** step(dt, tauOut);
  else if (ratio > deadband) scale = current.scale * (ratio / deadband) ** step(dt, tauIn);
  const k = step(dt, tauPan);
  return {
    cx: current.cx + (target.cx - current.cx) * k,
    cy: current.cy + (target.cy - current.cy) * k,
    scale: clampScale(scale),
  };
}

function step(dtMs: number, tauMs: number): number {
  return tauMs <= 0 ? 1 : 1 - Math.exp(-dtMs / tauMs);
}

export function clampScale(scale: number): number {
  if (!Number.isFinite(scale)) return scale > 0 ? MAX_SCALE : MIN_SCALE;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

export function worldToScreen(view: View, size: Size, p: Point): [number, number] {
  return [size.width / 2 + (p[0] - view.cx) * view.scale, size.height / 2 - (p[1] - view.cy) * view.scale];
}

export function screenToWorld(view: View, size: Size, s: Point): [number, number] {
  return [view.cx + (s[0] - size.width / 2) / view.scale, view.cy - (s[1] - size.height / 2) / view.scale];
}

/** Zooms by `factor` (>1 = closer) keeping the drift point under `anchor` (screen) in place. */
export function zoomAt(view: View, size: Size, factor: number, anchor: Point): View {
  const scale = clampScale(view.scale * factor);
  const world = screenToWorld(view, size, anchor);
  // Solve worldToScreen(newView, world) === anchor for the new centre.
  return {
    scale,
    cx: world[0] - (anchor[0] - size.width / 2) / scale,
    cy: world[1] + (anchor[1] - size.height / 2) / scale,
  };
}

/** Moves the view so the content follows a drag of (dx, dy) CSS pixels. */
export function panBy(view: View, dxPx: number, dyPx: number): View {
  return { scale: view.scale, cx: view.cx - dxPx / view.scale, cy: view.cy + dyPx / view.scale };
}

/** Zoom factor of one wheel event (deltaY in pixels; negative = zoom in). */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-Math.max(-400, Math.min(400, px)) * 0.0015);
}

/** A 1, 2 or 5 times a power of ten, close to range / targetCount. */
export function niceStep(range: number, targetCount: number): number {
  if (!(range > 0) || !Number.isFinite(range) || targetCount <= 0) return 1;
  const raw = range / targetCount;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return nice * mag;
}

/** Multiples of step within [min, max]. */
export function ticks(min: number, max: number, step: number): number[] {
  if (!(step > 0) || !Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  const first = Math.ceil(min / step);
  const last = Math.floor(max / step);
  if (last - first > 1000) return [];
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(i * step === 0 ? 0 : i * step);
  return out;
}

/** A tick label with as many decimals as the step needs. */
export function formatTick(value: number, step: number): string {
  let decimals = 0;
  while (decimals < 12 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-9 * 10 ** decimals) decimals++;
  const text = value.toFixed(decimals);
  return Number(text) === 0 ? (0).toFixed(decimals) : text;
}

/** The drift-space rectangle a canvas of this size shows. */
export function visibleBounds(view: View, size: Size): Bounds {
  const [minX, maxY] = screenToWorld(view, size, [0, 0]);
  const [maxX, minY] = screenToWorld(view, size, [size.width, size.height]);
  return { minX, maxX, minY, maxY };
}
