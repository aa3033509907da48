/** Dots glide (renderer/interpolate.ts): never jump, keep pace with updates, trails sample steadily. */
import { describe, expect, it } from 'vitest';
import { Glide, MAX_GLIDE_MS, Trail, TRAIL_LENGTH } from '../renderer/interpolate.js';
import { Ring } from '../renderer/ring.js';

describe('Glide', () => {
  it('starts at rest and reaches a new target over at least the cycle period', () => {
    const g = new Glide([0, 0], 0, 100);
    expect(g.at(50)).toEqual([0, 0]);
    g.retarget([1, 2], 1000, 100);
    expect(g.at(1000)).toEqual([0, 0]);
    const mid = g.at(1000 + g.glideMs / 2);
    expect(mid[0]).toBeCloseTo(0.5, 9);
    expect(mid[1]).toBeCloseTo(1, 9);
    expect(g.at(1000 + g.glideMs)).toEqual([1, 2]);
    expect(g.target).toEqual([1, 2]);
    expect(g.glideMs).toBeGreaterThanOrEqual(100);
    expect(g.glideMs).toBeLessThanOrEqual(MAX_GLIDE_MS);
  });

  it('never jumps: a new target starts from the position shown at that instant', () => {
    const g = new Glide([0, 0], 0, 100);
    g.retarget([10, 0], 100, 100);
    const before = g.at(140);
    g.retarget([-10, 0], 140, 100);
    expect(g.at(140)).toEqual(before);
    // And moves continuously afterwards: one millisecond moves it a little, not to the target.
    const after = g.at(141);
    expect(Math.abs(after[0] - before[0])).toBeLessThan(1);
  });

  it('glides about as long as updates arrive apart (continuous motion for 1 s status polls)', () => {
    const g = new Glide([0, 0], 0, 100);
    for (let i = 1; i <= 10; i++) g.retarget([i, 0], i * 1000, 100);
    expect(g.glideMs).toBeGreaterThan(900);
    expect(g.glideMs).toBeLessThanOrEqual(1000);
    const fast = new Glide([0, 0], 0, 100);
    for (let i = 1; i <= 10; i++) fast.retarget([i, 0], i * 100, 100);
    expect(fast.glideMs).toBeCloseTo(100, 6);
  });

  it('caps the glide after a long silence (a hidden tab)', () => {
    const g = new Glide([0, 0], 0, 100);
    g.retarget([1, 1], 600_000, 100);
    expect(g.glideMs).toBe(MAX_GLIDE_MS);
  });
});

describe('Trail', () => {
  it('samples at a steady pace and keeps the last TRAIL_LENGTH points', () => {
    const t = new Trail();
    expect(t.sample([0, 0], 0)).toBe(true);
    expect(t.sample([1, 0], 10)).toBe(false);
    for (let i = 1; i <= 200; i++) t.sample([i, 0], i * 1000);
    expect(t.length).toBe(TRAIL_LENGTH);
    const pts = t.points();
    expect(pts[pts.length - 1]).toEqual([200, 0]);
    expect(pts[0]).toEqual([200 - TRAIL_LENGTH + 1, 0]);
    t.clear();
    expect(t.length).toBe(0);
  });
});

describe('Ring', () => {
  it('drops the oldest past capacity', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.at(0)).toBe(3);
    expect(r.last()).toBe(5);
    expect(r.at(3)).toBeUndefined();
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
