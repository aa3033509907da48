/**
 * The robust drift step (main/model/wmsr.ts): trim counts, the rule against a
 * sort-based reference, and its guarantee as a property: with at most F
 * hostile values among the peers, whatever they are, the pull target stays
 * inside the per-axis hull of our own and the honest values.
 */
import { describe, expect, it } from 'vitest';
import { driftStep, peerPull, type DriftParams, type Vec2 } from '../main/model/drift.js';
import { MAX_COORDINATE, WMSR_OUTLIER_MIN_MARGIN } from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { DEFAULT_WEIGHTING, isWeighting, pullParams, WEIGHTINGS } from '../main/model/weights.js';
import { TRIMMED_X, TRIMMED_Y, wmsrAxisPull, wmsrEvaluate, wmsrPull, wmsrStep, wmsrTrim } from '../main/model/wmsr.js';

/** The rule as written, by sorting: the pull on one axis and which indices it dropped. */
function referenceAxis(values: readonly number[], own: number, f: number): { pull: number; dropped: Set<number> } {
  const idx = values.map((v, i) => ({ v, i }));
  const above = idx.filter((e) => e.v > own).sort((a, b) => b.v - a.v || a.i - b.i);
  const below = idx.filter((e) => e.v < own).sort((a, b) => a.v - b.v || a.i - b.i);
  const dropped = new Set([...above.slice(0, f), ...below.slice(0, f)].map((e) => e.i));
  const kept = idx.filter((e) => !dropped.has(e.i));
  return { pull: kept.length === 0 ? 0 : kept.reduce((s, e) => s + (e.v - own), 0) / kept.length, dropped };
}

describe('wmsrTrim: F per degree', () => {
  it('0 below 3, 1 for 3..7, 2 from 8, never more than floor((d-1)/2)', () => {
    const expected = [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2];
    for (let d = 0; d < expected.length; d++) expect(wmsrTrim(d)).toBe(expected[d]);
    for (let d = 0; d <= 300; d++) {
      expect(wmsrTrim(d)).toBeLessThanOrEqual(Math.max(0, Math.floor((d - 1) / 2)));
      expect(wmsrTrim(d)).toBe(d < 3 ? 0 : d < 8 ? 1 : 2);
    }
    expect(wmsrTrim(Number.NaN)).toBe(0);
    expect(wmsrTrim(-5)).toBe(0);
  });
});

describe('the rule', () => {
  const pullX = (own: number, values: number[], f: number): number => wmsrPull([own, 0], values.map((v) => [v, 0] as Vec2), f)[0];

  it('drops the F largest above and the F smallest below, averages the rest', () => {
    // above {1, 2, 3}: 3 dropped; below {-1, -2}: -2 dropped; kept {1, 2, -1}
    expect(pullX(0, [1, 2, 3, -1, -2], 1)).toBeCloseTo(2 / 3, 15);
    // F = 2: above {1, 2, 3} keeps 1; below {-1, -2} all dropped
    expect(pullX(0, [1, 2, 3, -1, -2], 2)).toBe(1);
  });
  it('with fewer than F values on a side it drops all of that side', () => {
    expect(pullX(0, [5, -1, -2, -3], 2)).toBe(-1);
    expect(pullX(0, [1, -1], 1)).toBe(0); // nothing kept: no pull
  });
  it('keeps values equal to ours and drops only F of a tie', () => {
    expect(pullX(0, [0, 0, 0, 1e5], 1)).toBe(0);
    expect(pullX(0, [2, 2, 2, 0], 1)).toBeCloseTo(4 / 3, 15); // one 2 dropped
    expect(pullX(0, [2, 2, 2, 0], 2)).toBeCloseTo(2 / 2, 15); // two 2s dropped
    expect(pullX(3, [3, 3, 3], 1)).toBe(0);
    expect(wmsrEvaluate([3, 3], [[3, 3], [3, 3], [3, 3]], 1).trimmed).toEqual(new Uint8Array([0, 0, 0]));
  });
  it('works on each axis separately', () => {
    const e = wmsrEvaluate([0, 0], [[1e5, 0.1], [0.1, 1e5], [0.2, 0.2], [-0.1, -0.1]], 1);
    // x: above {1e5, 0.1, 0.2}: 1e5 dropped; below {-0.1} dropped. y: the same with 1e5 in peer 1.
    expect(e.pull[0]).toBeCloseTo(0.15, 15);
    expect(e.pull[1]).toBeCloseTo(0.15, 15);
    expect(Array.from(e.trimmed)).toEqual([TRIMMED_X, TRIMMED_Y, 0, TRIMMED_X | TRIMMED_Y]);
  });
  it('F = 0 is the seed rule (peerPull), bit for bit', () => {
    const random = seededRandom(11);
    for (let t = 0; t < 2000; t++) {
      const n = Math.floor(random() * 10);
      const x: Vec2 = [random() * 20 - 10, random() * 20 - 10];
      const peers = Array.from({ length: n }, (): Vec2 => [random() * 20 - 10, random() * 20 - 10]);
      const w = wmsrPull(x, peers, 0);
      const s = peerPull(x, peers);
      expect(Math.abs(w[0] - s[0])).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(w[1] - s[1])).toBeLessThanOrEqual(1e-12);
    }
    // Below 3 peers wmsrTrim gives 0, so the default step is driftStep's.
    const p: DriftParams = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
    const a = wmsrStep([1, 2], [[3, 4], [-1, 5]], [0.3, -0.4], p);
    const b = driftStep([1, 2], [[3, 4], [-1, 5]], [0.3, -0.4], p);
    expect(a.drift[0]).toBeCloseTo(b.drift[0], 14);
    expect(a.drift[1]).toBeCloseTo(b.drift[1], 14);
    expect(a.diff[0]).toBeCloseTo(b.diff[0], 14);
  });
  it('matches the sort-based reference on random values with many ties (pull and dropped set)', () => {
    const random = seededRandom(5);
    const hi = new Float64Array(8);
    const lo = new Float64Array(8);
    for (let t = 0; t < 20_000; t++) {
      const n = Math.floor(random() * 13);
      const f = Math.floor(random() * 5);
      const own = Math.floor(random() * 5);
      // Small integers: ties with each other and with our own value are common.
      const values = Array.from({ length: n }, () => (random() < 0.1 ? 1e5 * (random() < 0.5 ? 1 : -1) : Math.floor(random() * 5)));
      const ref = referenceAxis(values, own, f);
      const mask = new Uint8Array(n);
      const got = wmsrAxisPull(Float64Array.from(values), n, own, f, hi, lo, mask, 1);
      expect(Math.abs(got - ref.pull)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref.pull)));
      // Ties may be broken differently; the multiset of dropped values must match.
      const droppedValues = (s: Iterable<number>): number[] => [...s].map((i) => values[i]!).sort((a, b) => a - b);
      const gotDropped = [...mask.keys()].filter((i) => mask[i] === 1);
      expect(droppedValues(gotDropped)).toEqual(droppedValues(ref.dropped));
    }
  });
});

describe('the guarantee: at most F hostile values cannot pull outside the honest hull', () => {
  const hostileValue = (random: () => number, honest: number[], own: number): number => {
    const pick = random();
    if (pick < 0.2) return 1e5;
    if (pick < 0.4) return -1e5;
    if (pick < 0.45) return MAX_COORDINATE;
    if (pick < 0.5) return -MAX_COORDINATE;
    if (pick < 0.6) return own; // equal to ours
    if (pick < 0.7 && honest.length > 0) return honest[Math.floor(random() * honest.length)]!; // a copy of an honest value
    return (random() * 2 - 1) * 10 ** (random() * 6); // anything, any scale
  };

  it('for any degree, any F the degree allows and any hostile values (100,000 random cases)', () => {
    const random = seededRandom(2024);
    // Plain comparisons in the loop (an expect per case would take most of the time); failures are collected.
    const failures: string[] = [];
    for (let t = 0; t < 100_000; t++) {
      const degree = 1 + Math.floor(random() * 12);
      const f = random() < 0.5 ? wmsrTrim(degree) : Math.floor(random() * (Math.floor((degree - 1) / 2) + 1));
      const hostile = Math.floor(random() * (f + 1));
      const scale = random() < 0.5 ? 1 : 100;
      const own: Vec2 = [(random() * 2 - 1) * scale, (random() * 2 - 1) * scale];
      const honest: Vec2[] = Array.from({ length: degree - hostile }, (): Vec2 => [own[0] + (random() * 2 - 1) * scale, own[1] + (random() * 2 - 1) * scale]);
      const hx = honest.map((h) => h[0]);
      const hy = honest.map((h) => h[1]);
      const liars: Vec2[] = Array.from({ length: hostile }, (): Vec2 => [hostileValue(random, hx, own[0]), hostileValue(random, hy, own[1])]);
      // Liars anywhere in the list.
      const peers = [...honest];
      for (const l of liars) peers.splice(Math.floor(random() * (peers.length + 1)), 0, l);
      const pull = wmsrPull(own, peers, f);
      for (const axis of [0, 1] as const) {
        const values = axis === 0 ? hx : hy;
        const lo = Math.min(own[axis], ...values);
        const hi = Math.max(own[axis], ...values);
        const target = own[axis] + pull[axis];
        const slack = 1e-12 * Math.max(1, Math.abs(lo), Math.abs(hi));
        if (!(target >= lo - slack && target <= hi + slack)) {
          failures.push(`case ${t} axis ${axis}: target ${target} outside [${lo}, ${hi}] (F ${f}, ${hostile} liars, peers ${JSON.stringify(peers)})`);
        }
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
  }, 60_000);

  it('the step (alpha = gamma = 0, 0 < beta <= 1) lands inside that hull', () => {
    const random = seededRandom(77);
    for (let t = 0; t < 10_000; t++) {
      const degree = 3 + Math.floor(random() * 8);
      const f = wmsrTrim(degree);
      const p: DriftParams = { alpha: 0, beta: 0.01 + 0.99 * random(), gamma: 0 };
      const own: Vec2 = [random(), random()];
      const honest = Array.from({ length: degree - f }, (): Vec2 => [random(), random()]);
      const peers = [...honest, ...Array.from({ length: f }, (): Vec2 => [1e5, -1e5])];
      const { drift } = wmsrStep(own, peers, [1, 0], p);
      for (const axis of [0, 1] as const) {
        expect(drift[axis]).toBeGreaterThanOrEqual(Math.min(own[axis], ...honest.map((h) => h[axis])) - 1e-12);
        expect(drift[axis]).toBeLessThanOrEqual(Math.max(own[axis], ...honest.map((h) => h[axis])) + 1e-12);
      }
    }
  });

  it('F + 1 liars on one side can pull out (the bound is tight)', () => {
    // degree 5, F = 1: two liars above both survive... one is dropped, one is kept.
    const pull = wmsrPull([0, 0], [[1e5, 0], [1e5, 0], [0.1, 0], [-0.1, 0], [0, 0]]);
    expect(pull[0]).toBeGreaterThan(1e4);
  });

  it('no NaN with empty, single, equal or extreme peers', () => {
    const cases: [Vec2, Vec2[]][] = [
      [[0, 0], []],
      [[1, 1], [[1, 1]]],
      [[MAX_COORDINATE, -MAX_COORDINATE], [[-MAX_COORDINATE, MAX_COORDINATE], [-MAX_COORDINATE, MAX_COORDINATE], [-MAX_COORDINATE, MAX_COORDINATE]]],
      [[0, 0], Array.from({ length: 9 }, (): Vec2 => [0, 0])],
    ];
    for (const [x, peers] of cases) {
      for (const f of [0, 1, 2, 5, Number.NaN, -1]) {
        const e = wmsrEvaluate(x, peers, f);
        expect(Number.isFinite(e.pull[0]) && Number.isFinite(e.pull[1])).toBe(true);
        expect(e.outliers).toHaveLength(peers.length);
      }
    }
  });
});

describe('outliers: the trust evidence W-MSR gives', () => {
  it('a stubborn peer far out is an outlier; the honest extremes W-MSR drops every cycle are not', () => {
    const random = seededRandom(3);
    let honestFlags = 0;
    for (let t = 0; t < 1000; t++) {
      // Seven honest peers around us at the noise floor (per-axis std ~0.08), one liar.
      const near = (): Vec2 => [0.08 * (random() + random() + random() - 1.5) * 2, 0.08 * (random() + random() + random() - 1.5) * 2];
      const peers = [...Array.from({ length: 7 }, near), [1e5, 1e5] as Vec2];
      const e = wmsrEvaluate(near(), peers);
      expect(e.outliers[7]).toBe(true);
      honestFlags += e.outliers.slice(0, 7).filter(Boolean).length;
      // W-MSR did drop honest values (F = 2 at degree 8): the trim alone is not evidence.
      expect(Array.from(e.trimmed.slice(0, 7)).some((b) => b !== 0)).toBe(true);
    }
    expect(honestFlags).toBe(0);
  });
  it('an outlier must lie more than WMSR_OUTLIER_MIN_MARGIN and one kept width outside the kept values', () => {
    const base: Vec2[] = [[0.1, 0], [0.2, 0], [-0.1, 0], [-0.2, 0]];
    // F = 1: the extra value above and -0.2 are dropped; kept x values (ours included) span
    // [-0.1, 0.2], width 0.3, so the margin is max(WMSR_OUTLIER_MIN_MARGIN, 0.3) = 1.
    const just = wmsrEvaluate([0, 0], [...base, [0.2 + WMSR_OUTLIER_MIN_MARGIN * 0.99, 0]]);
    expect(just.trimmed[4]! & TRIMMED_X).toBe(TRIMMED_X);
    expect(just.outliers[4]).toBe(false);
    const beyond = wmsrEvaluate([0, 0], [...base, [0.2 + WMSR_OUTLIER_MIN_MARGIN * 1.01, 0]]);
    expect(beyond.outliers[4]).toBe(true);
    // A wide kept range (a network still converging) widens the margin.
    const wide = wmsrEvaluate([0, 0], [[5, 0], [6, 0], [-5, 0], [-6, 0], [14, 0]]);
    expect(wide.trimmed[4]).toBe(TRIMMED_X);
    expect(wide.outliers[4]).toBe(false); // kept [-5, 6], width 11: 14 is 8 beyond it, inside the margin
  });
});

describe('the weighting', () => {
  it("'wmsr' is a weighting, the default, and pulls with beta", () => {
    expect(isWeighting('wmsr')).toBe(true);
    expect(WEIGHTINGS).toEqual(['seed', 'metropolis', 'wmsr']);
    expect(DEFAULT_WEIGHTING).toBe('wmsr');
    const p: DriftParams = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
    expect(pullParams(p, 'wmsr')).toBe(p);
  });
});
