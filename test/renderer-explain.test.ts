/** What the dashboard says vu, tc, intensity and a peer's trust mean (renderer/explain.ts). */
import { describe, expect, it } from 'vitest';
import { TRUST_DROP_MIN, TRUST_ESTABLISHED_MIN, TRUST_PULL_MIN } from '../main/model/limits.js';
import { EXPLAIN, formatTrust, NEWCOMER_TRUST, trustLevel } from '../renderer/explain.js';
import { TrustScore } from '../main/model/trust.js';

describe('EXPLAIN', () => {
  it('gives every figure a short legend and a fuller tooltip', () => {
    for (const [term, e] of Object.entries(EXPLAIN)) {
      expect(e.legend.length, term).toBeGreaterThan(20);
      expect(e.legend.length, term).toBeLessThanOrEqual(100);
      expect(e.tooltip.length, term).toBeGreaterThan(e.legend.length);
    }
  });

  it('says vu is 1 / (1 + distance to the peers\' mean), 1 when alone', () => {
    expect(EXPLAIN.vu.tooltip).toContain('1 / (1 + distance');
    expect(EXPLAIN.vu.tooltip).toMatch(/no linked peers has vu 1/);
    expect(EXPLAIN.vu.legend).toMatch(/1 when alone/);
  });

  it('says tc is the mean trust of the linked peers, with the node\'s own thresholds', () => {
    expect(EXPLAIN.tc.tooltip).toContain('mean trust score of the peers linked now');
    for (const text of [EXPLAIN.tc.tooltip, EXPLAIN.trust.tooltip]) {
      expect(text).toContain(`Below ${TRUST_PULL_MIN} `);
      expect(text).toMatch(new RegExp(`below ${TRUST_DROP_MIN} it is cut off and held off for 5 min`, 'i'));
      expect(text).toMatch(new RegExp(`newcomer starts at ${NEWCOMER_TRUST}|${NEWCOMER_TRUST} for a newcomer`));
      expect(text).toMatch(/fresh, plausible messages/);
      expect(text).toMatch(/outliers, invalid frames and silence/);
    }
  });

  it('says intensity is the smoothed |entropy sample|, the colour of the dots', () => {
    expect(EXPLAIN.intensity.tooltip).toContain('smoothed |entropy sample|');
    expect(EXPLAIN.intensity.legend).toMatch(/colour of the dot/);
  });

  it('states the newcomer trust the node really starts from', () => {
    expect(new TrustScore(0).value(0)).toBeCloseTo(NEWCOMER_TRUST, 12);
  });
});

describe('trustLevel and formatTrust', () => {
  it('reads a trust figure against the node\'s thresholds', () => {
    expect(trustLevel(TRUST_PULL_MIN - 0.001)).toBe('low');
    expect(trustLevel(TRUST_PULL_MIN)).toBe('new');
    expect(trustLevel(NEWCOMER_TRUST)).toBe('new');
    expect(trustLevel(TRUST_ESTABLISHED_MIN)).toBe('trusted');
    expect(trustLevel(Number.NaN)).toBe('low');
  });

  it('shows two decimals', () => {
    expect(formatTrust(0.5)).toBe('trust 0.50');
    expect(formatTrust(0.98765)).toBe('trust 0.99');
    expect(formatTrust(Number.NaN)).toBe('trust —');
  });
});
