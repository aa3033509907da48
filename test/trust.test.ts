/**
 * The trust score and the reject-burst counter (main/model/trust.ts), fed
 * evidence on a simulated clock: the claims docs/drift-model.md and
 * main/model/limits.ts make about how fast trust is earned and lost.
 */
import { describe, expect, it } from 'vitest';
import type { Vec2 } from '../main/model/drift.js';
import {
  REJECT_BURST_FRAMES,
  REJECT_BURST_WINDOW_MS,
  TRUST_DROP_MIN,
  TRUST_HALF_LIFE_MS,
  TRUST_PULL_MIN,
} from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { betaTrust, isTrustEvidence, RejectBurst, TRUST_EVIDENCE_KINDS, TrustScore, type TrustEvidence } from '../main/model/trust.js';
import { wmsrEvaluate, wmsrStep } from '../main/model/wmsr.js';

const CYCLE_MS = 100; // the default cycle; an honest peer sends one message per cycle

/**
 * Feeds `score` from `fromMs` for up to `forMs`, one cycle every `stepMs`,
 * with the evidence `each` names for that cycle; returns the first time the
 * score is below `below` (null if never) and the lowest value seen.
 */
function feed(
  score: TrustScore,
  fromMs: number,
  forMs: number,
  each: (t: number) => readonly TrustEvidence[],
  below = 0,
  stepMs = CYCLE_MS,
): { crossedAt: number | null; min: number; end: number } {
  let crossedAt: number | null = null;
  let min = Infinity;
  let t = fromMs;
  for (; t <= fromMs + forMs; t += stepMs) {
    for (const kind of each(t)) score.observe(kind, t);
    const v = score.value(t);
    min = Math.min(min, v);
    if (crossedAt === null && v < below) crossedAt = t;
  }
  return { crossedAt, min, end: t - stepMs };
}

const honest = (): TrustEvidence[] => ['fresh-message'];
const liar = (): TrustEvidence[] => ['outlier'];

describe('the score', () => {
  it('is the Beta mean (good + 1) / (good + bad + 2): 0.5 for a newcomer', () => {
    expect(betaTrust(0, 0)).toBe(0.5);
    expect(betaTrust(8, 0)).toBe(0.9);
    expect(new TrustScore(0).value(0)).toBe(0.5);
    expect(new TrustScore(12_345).value(99_999)).toBe(0.5);
  });
  it('evidence halves every TRUST_HALF_LIFE_MS', () => {
    const s = new TrustScore(0);
    s.observe('fresh-message', 0, 40);
    s.observe('rejected-frame', 0, 4);
    expect(s.evidence(0)).toEqual({ good: 4, bad: 2 });
    const later = s.evidence(TRUST_HALF_LIFE_MS);
    expect(later.good).toBeCloseTo(2, 12);
    expect(later.bad).toBeCloseTo(1, 12);
    expect(s.evidence(3 * TRUST_HALF_LIFE_MS).good).toBeCloseTo(0.5, 12);
  });
  it('ignores bad counts, unknown kinds and a clock that goes backwards or is not a number', () => {
    const s = new TrustScore(1000);
    s.observe('fresh-message', 1000, Number.NaN);
    s.observe('fresh-message', 1000, -3);
    s.observe('fresh-message', 1000, Infinity);
    s.observe('nonsense' as TrustEvidence, 1000);
    expect(s.evidence(1000)).toEqual({ good: 0, bad: 0 });
    s.observe('fresh-message', 61_000, 10);
    s.observe('fresh-message', 1000, 10); // backwards: added at 61 s, no growth from "negative decay"
    s.observe('fresh-message', Number.NaN, 10);
    expect(s.evidence(61_000).good).toBeCloseTo(3, 12);
    const v = s.value(Number.NaN);
    expect(v > 0 && v < 1).toBe(true);
    expect(() => new TrustScore(0, 0)).toThrow(RangeError);
    expect(TRUST_EVIDENCE_KINDS.every(isTrustEvidence)).toBe(true);
    expect(isTrustEvidence('toString')).toBe(false);
  });
});

describe('earned and lost on a simulated clock (10 cycles/s)', () => {
  it('an honest peer at 10 messages/s stays near 1 and never drops (30 minutes)', () => {
    const s = new TrustScore(0);
    const first = feed(s, 0, 2 * 60_000, honest);
    expect(first.min).toBeGreaterThan(0.5); // it starts as a newcomer (0.5) and only rises
    const rest = feed(s, first.end + CYCLE_MS, 28 * 60_000, honest, 0.98);
    expect(rest.crossedAt).toBeNull(); // >= 0.98 from 2 minutes on
    expect(s.value(rest.end)).toBeGreaterThan(0.985);
  });
  it('an honest peer at 5 messages/s (200 ms cycles) stays above 0.97 after 5 minutes', () => {
    const s = new TrustScore(0);
    feed(s, 0, 5 * 60_000, honest, 0, 200);
    const rest = feed(s, 5 * 60_000, 25 * 60_000, honest, 0.97, 200);
    expect(rest.crossedAt).toBeNull();
  });
  it('a newcomer whose every value is a far outlier stops pulling within tens of seconds and is dropped within a minute', () => {
    const s = new TrustScore(0);
    const pull = feed(s, 0, 10 * 60_000, liar, TRUST_PULL_MIN);
    const s2 = new TrustScore(0);
    const drop = feed(s2, 0, 10 * 60_000, liar, TRUST_DROP_MIN);
    // Not at once: an honest newcomer far away is an outlier for its first few seconds.
    expect(pull.crossedAt).toBeGreaterThanOrEqual(5_000);
    expect(pull.crossedAt).toBeLessThanOrEqual(30_000);
    expect(drop.crossedAt).toBeGreaterThanOrEqual(15_000);
    expect(drop.crossedAt).toBeLessThanOrEqual(60_000);
    // and it stays down
    expect(s2.value(drop.end)).toBeLessThan(TRUST_DROP_MIN);
  });
  it('a peer that earned full trust and then lies on every cycle is dropped within 10 minutes', () => {
    // Two runs of the same history, one watching each threshold.
    const turned = (below: number): number => {
      const s = new TrustScore(0);
      const warm = feed(s, 0, 30 * 60_000, honest);
      const start = warm.end + CYCLE_MS;
      return feed(s, start, 20 * 60_000, liar, below).crossedAt! - start;
    };
    const pull = turned(TRUST_PULL_MIN);
    const drop = turned(TRUST_DROP_MIN);
    expect(pull).toBeLessThan(5 * 60_000);
    expect(drop).toBeLessThan(10 * 60_000);
    expect(drop).toBeGreaterThan(pull);
  });
  it('a peer that recovers regains trust over minutes: pulling again within seconds, near 1 only after minutes', () => {
    const s = new TrustScore(0);
    const bad = feed(s, 0, 10 * 60_000, liar);
    expect(s.value(bad.end)).toBeLessThan(TRUST_DROP_MIN);
    const start = bad.end + CYCLE_MS;
    const firstTen = feed(s, start, 10_000, honest);
    expect(s.value(firstTen.end)).toBeGreaterThan(TRUST_PULL_MIN);
    const toOneMinute = feed(s, firstTen.end + CYCLE_MS, 50_000, honest);
    expect(s.value(toOneMinute.end)).toBeLessThan(0.9);
    const toFive = feed(s, toOneMinute.end + CYCLE_MS, 4 * 60_000, honest);
    expect(s.value(toFive.end)).toBeGreaterThan(0.95);
  });
  it('a peer that goes stale for the 40 cycles before its link is closed as dead keeps its trust', () => {
    const s = new TrustScore(0);
    const warm = feed(s, 0, 10 * 60_000, honest);
    const gap = feed(s, warm.end + CYCLE_MS, 40 * CYCLE_MS, () => ['stale']);
    expect(gap.min).toBeGreaterThan(0.95);
  });
  it('a failed proof drops a newcomer at once', () => {
    const s = new TrustScore(0);
    s.observe('failed-proof', 0);
    expect(s.value(0)).toBeLessThan(TRUST_DROP_MIN);
  });
  it('an honest newcomer joining 100 units away is an outlier while it converges, and never loses its pull', () => {
    // Seven nodes all-to-all with W-MSR (degree 6: F = 1): six settled near the origin, one joins at
    // [100, 100]. Each settled node scores the newcomer: 'outlier' when W-MSR flags it, else 'fresh-message'.
    const params = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
    const random = seededRandom(9);
    const entropy = (): Vec2 => [random() * 2 - 1, random() * 2 - 1];
    let xs: Vec2[] = Array.from({ length: 6 }, (): Vec2 => [0.1 * (random() - 0.5), 0.1 * (random() - 0.5)]);
    xs.push([100, 100]);
    const scores = Array.from({ length: 6 }, () => new TrustScore(0));
    let min = 1;
    let flagged = 0;
    for (let c = 1; c <= 600; c++) {
      const t = c * CYCLE_MS;
      const steps = xs.map((x, i) => wmsrStep(x, xs.filter((_, j) => j !== i), entropy(), params));
      for (let i = 0; i < 6; i++) {
        const outlier = wmsrEvaluate(xs[i]!, xs.filter((_, j) => j !== i)).outliers[5]!; // the newcomer is peer 5 of the others
        if (outlier) flagged++;
        scores[i]!.observe(outlier ? 'outlier' : 'fresh-message', t);
        min = Math.min(min, scores[i]!.value(t));
      }
      xs = steps.map((s) => s.drift);
    }
    expect(flagged).toBeGreaterThan(6 * 20); // it was an outlier for a while...
    expect(min).toBeGreaterThan(TRUST_PULL_MIN); // ...without ever losing its pull
    expect(Math.hypot(xs[6]![0] - xs[0]![0], xs[6]![1] - xs[0]![1])).toBeLessThan(1); // and it joined
    for (const s of scores) expect(s.value(600 * CYCLE_MS)).toBeGreaterThan(0.9);
  });
});

describe('reject bursts', () => {
  it('10,000 invalid frames a second trip the burst within the first 10 ms', () => {
    const burst = new RejectBurst();
    let trippedAt: number | null = null;
    for (let k = 0; k < 10_000 && trippedAt === null; k++) {
      const t = 5_000 + k * 0.1;
      if (burst.record(t)) trippedAt = t - 5_000;
    }
    expect(trippedAt).not.toBeNull();
    expect(trippedAt!).toBeLessThan(10);
    expect(burst.inWindow(5_000 + 10)).toBe(REJECT_BURST_FRAMES);
    // ...and the same flood drops the peer's trust below the drop line as fast.
    const s = new TrustScore(0);
    for (let k = 0; k < 100; k++) s.observe('rejected-frame', k * 0.1);
    expect(s.value(10)).toBeLessThan(TRUST_DROP_MIN);
  });
  it('one rejected frame per 50 ms cycle (20/s), for an hour, never trips it', () => {
    const burst = new RejectBurst();
    let tripped = false;
    for (let t = 0; t < 3_600_000; t += 50) tripped ||= burst.record(t);
    expect(tripped).toBe(false);
  });
  it('trips on the REJECT_BURST_FRAMES-th frame inside the window, not before, and not when spread wider', () => {
    const burst = new RejectBurst();
    const gap = REJECT_BURST_WINDOW_MS / REJECT_BURST_FRAMES; // 50 frames span 49 gaps < window
    const results = Array.from({ length: REJECT_BURST_FRAMES }, (_, k) => burst.record(k * gap));
    expect(results.slice(0, -1).every((r) => !r)).toBe(true);
    expect(results.at(-1)).toBe(true);
    const slow = new RejectBurst();
    const wide = (1.001 * REJECT_BURST_WINDOW_MS) / (REJECT_BURST_FRAMES - 1); // 49 gaps: just over the window
    expect(Array.from({ length: 3 * REJECT_BURST_FRAMES }, (_, k) => slow.record(k * wide)).some(Boolean)).toBe(false);
  });
  it('holds a fixed amount of memory and survives a clock that is not a number or goes back', () => {
    const burst = new RejectBurst(3, 100);
    expect(burst.record(Number.NaN)).toBe(false);
    expect(burst.record(50)).toBe(false);
    expect(burst.record(10)).toBe(true); // taken as 50: three frames within 100 ms
    expect(() => new RejectBurst(0, 100)).toThrow(RangeError);
    expect(() => new RejectBurst(3, 0)).toThrow(RangeError);
  });
});
