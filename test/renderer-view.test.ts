/** The plane's view maths (renderer/view.ts): auto-fit, smoothing, zoom, pan, grid ticks. */
import { describe, expect, it } from 'vitest';
import {
  boundsOf,
  FIT_MARGIN_PX,
  fitView,
  formatTick,
  MAX_SCALE,
  MIN_HALF_WIDTH,
  niceStep,
  panBy,
  screenToWorld,
  smoothView,
  ticks,
  visibleBounds,
  wheelFactor,
  worldToScreen,
  zoomAt,
  type Point,
  type View,
} from '../renderer/view.js';

const size = { width: 900, height: 600 };

describe('fitView', () => {
  it('centres on the cloud and shows every point inside the margin', () => {
    const pts: Point[] = [[5, 1], [-2, -3], [0.5, 0.25]];
    const v = fitView(pts, size);
    expect(v.cx).toBeCloseTo(1.5, 12);
    expect(v.cy).toBeCloseTo(-1, 12);
    for (const p of pts) {
      const [sx, sy] = worldToScreen(v, size, p);
      expect(sx).toBeGreaterThanOrEqual(FIT_MARGIN_PX - 1e-9);
      expect(sx).toBeLessThanOrEqual(size.width - FIT_MARGIN_PX + 1e-9);
      expect(sy).toBeGreaterThanOrEqual(FIT_MARGIN_PX - 1e-9);
      expect(sy).toBeLessThanOrEqual(size.height - FIT_MARGIN_PX + 1e-9);
    }
  });

  it('never zooms closer than the minimum half-width, so the ~0.1 noise floor stays small', () => {
    const noisy: Point[] = [[0.3, 0.3], [0.36, 0.28], [0.31, 0.35]];
    const v = fitView(noisy, size);
    const b = visibleBounds(v, size);
    expect(b.maxX - b.minX).toBeGreaterThanOrEqual(2 * MIN_HALF_WIDTH);
    expect(b.maxY - b.minY).toBeGreaterThanOrEqual(2 * MIN_HALF_WIDTH);
    // The cloud's 0.08 extent covers well under a fifth of the shorter side.
    expect(0.08 * v.scale).toBeLessThan(size.height / 5);
  });

  it('shows the origin at the minimum scale with no points, and ignores non-finite ones', () => {
    const empty = fitView([], size);
    expect(empty.cx).toBe(0);
    expect(empty.cy).toBe(0);
    const withNaN = fitView([[NaN, 1], [1, 1]], size);
    expect(withNaN.cx).toBe(1);
    expect(boundsOf([[Infinity, 0]])).toBeNull();
  });
});

describe('smoothView', () => {
  const base: View = { cx: 0, cy: 0, scale: 300 };

  it('zooms out quickly when nodes leave the view', () => {
    const target: View = { cx: 0, cy: 0, scale: 100 };
    let v = base;
    // One second of 60 Hz frames closes all but ~2% of the (log) gap.
    for (let i = 0; i < 60; i++) v = smoothView(v, target, 16);
    expect(v.scale).toBeLessThan(103);
  });

  it('zooms in slowly, and not at all for a small change (no jitter at the noise floor)', () => {
    let v = base;
    for (let i = 0; i < 600; i++) v = smoothView(v, { cx: 0, cy: 0, scale: 320 }, 16);
    expect(v.scale).toBe(300);
    v = base;
    for (let i = 0; i < 30; i++) v = smoothView(v, { cx: 0, cy: 0, scale: 1200 }, 16);
    expect(v.scale).toBeGreaterThan(300);
    expect(v.scale).toBeLessThan(600);
  });

  it('moves the centre without overshoot and clamps huge frame gaps', () => {
    const v = smoothView(base, { cx: 10, cy: -10, scale: 300 }, 100_000);
    expect(v.cx).toBeGreaterThan(0);
    expect(v.cx).toBeLessThanOrEqual(10);
    expect(v.cy).toBeLessThan(0);
    expect(v.cy).toBeGreaterThanOrEqual(-10);
  });
});

describe('zoom and pan', () => {
  const v: View = { cx: 1, cy: 2, scale: 200 };

  it('maps world to screen and back, with y up', () => {
    const p: Point = [1.5, 2.25];
    const s = worldToScreen(v, size, p);
    expect(s[0]).toBeGreaterThan(size.width / 2);
    expect(s[1]).toBeLessThan(size.height / 2);
    const back = screenToWorld(v, size, s);
    expect(back[0]).toBeCloseTo(p[0], 12);
    expect(back[1]).toBeCloseTo(p[1], 12);
  });

  it('keeps the point under the cursor fixed while zooming', () => {
    const anchor: Point = [123, 456];
    const before = screenToWorld(v, size, anchor);
    const z = zoomAt(v, size, 2.5, anchor);
    expect(z.scale).toBe(500);
    const after = screenToWorld(z, size, anchor);
    expect(after[0]).toBeCloseTo(before[0], 10);
    expect(after[1]).toBeCloseTo(before[1], 10);
    expect(zoomAt(v, size, 1e20, anchor).scale).toBe(MAX_SCALE);
  });

  it('pans so content follows the pointer', () => {
    const p: Point = [1.2, 1.9];
    const s = worldToScreen(v, size, p);
    const moved = panBy(v, 30, -20);
    const s2 = worldToScreen(moved, size, p);
    expect(s2[0]).toBeCloseTo(s[0] + 30, 9);
    expect(s2[1]).toBeCloseTo(s[1] - 20, 9);
  });

  it('turns wheel deltas into bounded zoom factors', () => {
    expect(wheelFactor(-100)).toBeGreaterThan(1);
    expect(wheelFactor(100)).toBeLessThan(1);
    expect(wheelFactor(100) * wheelFactor(-100)).toBeCloseTo(1, 12);
    expect(wheelFactor(1e9)).toBe(wheelFactor(400));
    expect(wheelFactor(3, 1)).toBe(wheelFactor(48));
  });
});

describe('grid ticks', () => {
  it('picks 1-2-5 steps', () => {
    expect(niceStep(1, 5)).toBeCloseTo(0.2, 12);
    expect(niceStep(10, 4)).toBe(2);
    expect(niceStep(7, 10)).toBeCloseTo(0.5, 12);
    expect(niceStep(0.003, 6)).toBeCloseTo(0.0005, 15);
    expect(niceStep(0, 5)).toBe(1);
  });

  it('lists multiples of the step inside the range, and labels them with the right decimals', () => {
    expect(ticks(-0.5, 0.5, 0.25)).toEqual([-0.5, -0.25, 0, 0.25, 0.5]);
    expect(ticks(1, 0, 1)).toEqual([]);
    expect(ticks(0, 1e9, 1)).toEqual([]);
    expect(formatTick(0.25, 0.25)).toBe('0.25');
    expect(formatTick(-0.5, 0.5)).toBe('-0.5');
    expect(formatTick(2, 2)).toBe('2');
    expect(formatTick(0.0005 * 3, 0.0005)).toBe('0.0015');
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(-1e-17, 0.1)).toBe('0.0');
  });
});
