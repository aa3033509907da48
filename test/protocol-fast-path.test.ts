// parseFrame reads the hot `sdm` frame without JSON.parse and zod (main/protocol/messages.ts,
// fastSdm). It must give exactly what the general path gives (parseFrameGeneral: JSON.parse, the
// finite-number scan, the schemas) for every frame: valid ones, ones just past a bound, and
// malformed ones. Checked on generated frames from a seeded generator, so a failure reproduces.
import { describe, expect, it } from 'vitest';
import { MAX_COORDINATE, MAX_DIFF, PROTOCOL_VERSION } from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { encodeMessage, parseFrame, parseFrameGeneral, type SdmMessage } from '../main/protocol/messages.js';

const random = seededRandom(20261201);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const int = (max: number): number => Math.floor(random() * (max + 1));

/** Numbers near every bound and edge the schema has, and ordinary ones. */
function number(bound: number): number {
  return pick([
    () => (random() * 2 - 1) * bound,
    () => (random() * 2 - 1) * 1e-3,
    () => pick([bound, -bound, 0, -0, bound * (1 + 1e-15), -bound * (1 + 1e-15), bound + 1, Number.MIN_VALUE, 1e-300]),
    () => (random() * 2 - 1) * bound * 3,
    () => Number(((random() * 2 - 1) * bound).toPrecision(1 + int(16))),
  ])();
}

/** The text of a number as a sender might write it: JSON's own form or another spelling of it. */
function numberText(x: number): string {
  return pick([
    () => JSON.stringify(x),
    () => JSON.stringify(x),
    () => x.toExponential(int(20)),
    () => x.toExponential(int(5)).toUpperCase(),
    () => x.toFixed(int(20)),
    () => pick(['1e999', '-1e999', '1e400', '00', '01', '-01', '1.', '.5', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity', '-0', '0.0', '1E+2', '1e-400', ' 1', '1 ']),
  ])();
}

function integerText(max: number): string {
  return pick([
    () => String(int(max)),
    () => String(pick([0, 1, max, max + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, PROTOCOL_VERSION - 1])),
    () => pick(['-1', '01', '1.0', '1.5', '1e3', '2e0', '00', '9'.repeat(17), '-0']),
  ])();
}

/** An sdm frame in the node's layout, field by field, some fields left out or misspelled. */
function sdmText(): string {
  const parts = [
    `"type":${pick(['"sdm"', '"sdm"', '"sdm"', '"sdmx"', '"ep"'])}`,
    `"v":${pick([String(PROTOCOL_VERSION), String(PROTOCOL_VERSION), integerText(5)])}`,
    `"seq":${integerText(1e9)}`,
    `"diff":[${numberText(number(MAX_DIFF))},${numberText(number(MAX_DIFF))}${pick(['', '', '', ',0'])}]`,
  ];
  if (random() < 0.3) parts.push(`"deg":${integerText(1_000_000)}`);
  if (random() < 0.7) parts.push(`"e":[${numberText(number(MAX_COORDINATE))},${numberText(number(MAX_COORDINATE))}]`);
  if (random() < 0.05) parts.push(pick(['"x":1', '"e":[0,0]', '"seq":1', '"diff":[0,0]']));
  if (random() < 0.05) parts.splice(int(parts.length - 1), 1);
  if (random() < 0.05) parts.reverse();
  return `{${parts.join(pick([',', ',', ',', ', ', ' ,']))}}`;
}

/** One character changed, added or removed: frames a sender's bug or a stranger might send. */
function mutate(text: string): string {
  const at = int(text.length - 1);
  const ch = pick(['"', ',', ':', '[', ']', '{', '}', '0', '9', '-', '.', 'e', ' ', 'x', '\\', '\u00e9']);
  return pick([
    () => text.slice(0, at) + ch + text.slice(at + 1),
    () => text.slice(0, at) + ch + text.slice(at),
    () => text.slice(0, at) + text.slice(at + 1),
  ])();
}

describe('parseFrame fast path for sdm frames', () => {
  it('gives what the general path gives for the frames nodes send', () => {
    for (let i = 0; i < 20_000; i++) {
      const message: SdmMessage = { type: 'sdm', v: PROTOCOL_VERSION, seq: int(1e12), diff: [number(MAX_DIFF), number(MAX_DIFF)] };
      if (random() < 0.3) message.deg = int(1_000_000);
      if (random() < 0.8) message.e = [number(MAX_COORDINATE), number(MAX_COORDINATE)];
      const frame = encodeMessage(message);
      expect(parseFrame(frame), frame).toStrictEqual(parseFrameGeneral(frame));
    }
  });

  it('gives what the general path gives for other spellings, bounds and malformed frames', () => {
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      let frame = sdmText();
      if (random() < 0.3) frame = mutate(frame);
      const general = parseFrameGeneral(frame);
      if (general.ok) accepted++;
      expect(parseFrame(frame), frame).toStrictEqual(general);
    }
    // The generator reaches both sides of every check.
    expect(accepted).toBeGreaterThan(2000);
    expect(accepted).toBeLessThan(45_000);
  });

  it('takes the fast path for the node frame (same message, no JSON.parse)', () => {
    const frame = encodeMessage({ type: 'sdm', v: PROTOCOL_VERSION, seq: 7, diff: [0.25, -1e-7], e: [0.5, -0.5] });
    const parse = JSON.parse;
    let calls = 0;
    JSON.parse = ((text: string) => {
      calls++;
      return parse(text);
    }) as typeof JSON.parse;
    try {
      expect(parseFrame(frame)).toStrictEqual({ ok: true, message: { type: 'sdm', v: PROTOCOL_VERSION, seq: 7, diff: [0.25, -1e-7], e: [0.5, -0.5] } });
      expect(calls).toBe(0);
      // A frame past a bound goes the general way, which names the reason.
      expect(parseFrame(frame.replace('0.25', '10.5'))).toMatchObject({ ok: false, reason: 'diff-out-of-range' });
      expect(calls).toBe(1);
    } finally {
      JSON.parse = parse;
    }
  });
});
