/** Dashboard text (renderer/format.ts) and the intensity colour scale (renderer/colour.ts). */
import { describe, expect, it } from 'vitest';
import { intensityCss, intensityFraction, intensityRgb, legendStops } from '../renderer/colour.js';
import {
  dialableAddress,
  joinPageHref,
  formatDuration,
  formatLastSeen,
  formatPoint,
  formatSig,
  formatUntil,
  nodeLabel,
  shortId,
} from '../renderer/format.js';

describe('formatSig (the spread readout)', () => {
  it('gives at least three significant digits that Number() reads back', () => {
    const cases: [number, string][] = [
      [0, '0.000'],
      [0.052345, '0.0523'],
      [1.2749, '1.27'],
      [12.345, '12.3'],
      [123.45, '123'],
      [1234.5, '1235'],
      [0.000012345, '1.23e-5'],
    ];
    for (const [value, text] of cases) {
      expect(formatSig(value)).toBe(text);
      expect(Math.abs(Number(text) - value) / (value || 1)).toBeLessThan(0.005);
    }
  });
});

describe('other formats', () => {
  it('formats points with explicit signs and no negative zero', () => {
    expect(formatPoint([0.125, -3.4])).toBe('(+0.125, -3.400)');
    expect(formatPoint([-0.0001, 0])).toBe('(\u20070.000, \u20070.000)');
  });

  it('shortens ids to their first group and labels by name first', () => {
    const id = 'ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ';
    expect(shortId(id)).toBe('ABCDEFG');
    expect(shortId('abcdefghijkl')).toBe('abcdefgh');
    expect(nodeLabel('  kitchen ', id)).toBe('kitchen');
    expect(nodeLabel('', id)).toBe('ABCDEFG');
  });

  it('says durations, next dials and last-seen plainly', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(7_440_000)).toBe('2 h 4 min');
    expect(formatUntil(null, 0)).toBe('not scheduled');
    expect(formatUntil(1000, 900)).toBe('now');
    expect(formatUntil(5200, 1000)).toBe('in 4.2 s');
    expect(formatLastSeen(null)).toBe('never');
    expect(formatLastSeen(0)).toBe('this cycle');
    expect(formatLastSeen(1)).toBe('1 cycle ago');
    expect(formatLastSeen(12)).toBe('12 cycles ago');
  });

  it('turns a wildcard listen address into one another node can dial', () => {
    expect(dialableAddress('127.0.0.1:7710', 'localhost')).toBe('127.0.0.1:7710');
    expect(dialableAddress('0.0.0.0:7710', '192.168.1.5')).toBe('192.168.1.5:7710');
    expect(dialableAddress('[::]:7710', '::1')).toBe('[::1]:7710');
    expect(dialableAddress('0.0.0.0:7710', '')).toBe('THIS-MACHINE:7710');
  });

  it("links to the node's /join page where this page can reach it (the desktop app: loopback)", () => {
    expect(joinPageHref('0.0.0.0:7710', '192.168.1.5')).toBe('http://192.168.1.5:7710/join');
    expect(joinPageHref('0.0.0.0:7710', '')).toBe('http://127.0.0.1:7710/join');
    expect(joinPageHref('127.0.0.1:7712', 'localhost')).toBe('http://127.0.0.1:7712/join');
  });
});

describe('intensity colour scale', () => {
  it('clamps to 0..1 and treats NaN as 0', () => {
    expect(intensityFraction(-1)).toBe(0);
    expect(intensityFraction(1.4)).toBe(1);
    expect(intensityFraction(NaN)).toBe(0);
    expect(intensityRgb(5)).toEqual(intensityRgb(1));
  });

  it('runs from the first legend stop to the last, continuously', () => {
    const stops = legendStops();
    expect(intensityCss(0)).toBe(stops[0]![1]);
    expect(intensityCss(1)).toBe(stops[stops.length - 1]![1]);
    let prev = intensityRgb(0);
    for (let i = 1; i <= 100; i++) {
      const c = intensityRgb(i / 100);
      for (let k = 0; k < 3; k++) expect(Math.abs(c[k]! - prev[k]!)).toBeLessThanOrEqual(12);
      prev = c;
    }
    expect(intensityCss(0.77, 0.5)).toMatch(/^rgba\(\d+, \d+, \d+, 0\.5\)$/);
  });
});
