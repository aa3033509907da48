import { describe, expect, it } from 'vitest';
import { seededRandom } from '../main/model/prng.js';

const take = (random: () => number, n: number): number[] => Array.from({ length: n }, () => random());

describe('seededRandom', () => {
  it('gives the same sequence for the same seed', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef]) {
      expect(take(seededRandom(seed), 1000)).toEqual(take(seededRandom(seed), 1000));
    }
  });

  it('gives different sequences for different seeds', () => {
    const seqs = [0, 1, 2, 3, 42, 0xdeadbeef].map((s) => take(seededRandom(s), 16));
    for (let i = 0; i < seqs.length; i++) {
      for (let j = i + 1; j < seqs.length; j++) {
        // Not just a different first value: most positions differ.
        const same = seqs[i]!.filter((v, k) => v === seqs[j]![k]).length;
        expect(same).toBeLessThan(2);
      }
    }
  });

  it('draws in [0, 1), roughly uniform and uncorrelated over 1e5 draws', () => {
    const n = 100_000;
    const xs = take(seededRandom(7), n);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let sumSq = 0;
    let lag = 0;
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const v = xs[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      sumSq += v * v;
      if (i > 0) lag += (v - 0.5) * (xs[i - 1]! - 0.5);
      bins[Math.floor(v * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // Uniform: mean 1/2 (standard error 0.29/sqrt(n) ≈ 0.0009), variance 1/12 (s.e. ≈ 0.0002).
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
    // Chi-square over 10 bins, 9 degrees of freedom: 40 is far beyond p = 1e-5.
    const expected = n / 10;
    const chi2 = bins.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(40);
    // Lag-1 correlation: s.e. 1/sqrt(n) ≈ 0.003.
    expect(Math.abs(lag / (n - 1) / (1 / 12))).toBeLessThan(0.02);
  });
});
