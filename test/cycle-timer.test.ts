// The cycle timer: each node keeps its exact period on average, and its cycles start on the
// CYCLE_TIMER_SLOT_MS grid, so nodes sharing a process whose cycles fall in one slot run together.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CYCLE_TIMER_SLOT_MS } from '../main/model/limits.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { makeNode } from './helpers/memory-cluster.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function cycleTimes(cycleMs: number, startAt: number, runMs: number, network = new MemoryNetwork(), index = 0) {
  const { node } = makeNode(network, index, [0, 0], { cycleMs });
  const times: number[] = [];
  node.events.on('cycle', () => times.push(performance.now()));
  vi.advanceTimersByTime(startAt - performance.now());
  expect(performance.now()).toBe(startAt);
  node.start();
  return { node, times, run: () => vi.advanceTimersByTime(runMs) };
}

describe('cycle timer', () => {
  it('starts every cycle on the slot grid, at most one slot after its exact time, with the exact mean period', async () => {
    // Fake timers count whole milliseconds, as libuv's timers do.
    const t0 = Math.ceil(performance.now() / CYCLE_TIMER_SLOT_MS) * CYCLE_TIMER_SLOT_MS;
    const { node, times, run } = cycleTimes(73, t0 + 1, 73 * 200);
    run();
    expect(times.length).toBeGreaterThanOrEqual(199);
    for (const [i, t] of times.entries()) {
      expect(t / CYCLE_TIMER_SLOT_MS).toBeCloseTo(Math.round(t / CYCLE_TIMER_SLOT_MS), 6);
      const exact = t0 + 1 + 73 * (i + 1);
      expect(t).toBeGreaterThanOrEqual(exact - 1e-6);
      expect(t - exact).toBeLessThan(CYCLE_TIMER_SLOT_MS);
    }
    const mean = (times.at(-1)! - times[0]!) / (times.length - 1);
    expect(Math.abs(mean - 73)).toBeLessThan(CYCLE_TIMER_SLOT_MS / (times.length - 1) + 1e-9);
    await node.stop();
  });

  it('runs two nodes started a few milliseconds apart in the same slot, and one a slot later apart', async () => {
    const network = new MemoryNetwork();
    const base = Math.ceil(performance.now() / CYCLE_TIMER_SLOT_MS) * CYCLE_TIMER_SLOT_MS;
    const a = cycleTimes(100, base + 1, 0, network, 0);
    const b = cycleTimes(100, base + 4, 0, network, 1);
    const c = cycleTimes(100, base + CYCLE_TIMER_SLOT_MS + 1, 0, network, 2);
    vi.advanceTimersByTime(1000);
    expect(a.times.length).toBeGreaterThanOrEqual(9);
    expect(b.times.slice(0, 9)).toEqual(a.times.slice(0, 9));
    for (let i = 0; i < 9; i++) expect(c.times[i]! - a.times[i]!).toBeCloseTo(CYCLE_TIMER_SLOT_MS, 6);
    await Promise.all([a.node.stop(), b.node.stop(), c.node.stop()]);
  });
});
