import { describe, expect, it } from 'vitest';
import { MAX_COORDINATE, MAX_DIFF, MAX_FEATURE_LENGTH, MAX_FEATURES, MAX_FRAME_BYTES } from '../main/model/limits.js';
import { encodeMessage, parseFrame, utf8Length, type Message } from '../main/protocol/messages.js';

const id = 'ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ';

describe('parseFrame', () => {
  const valid: Message[] = [
    { type: 'hello', v: 2, id, name: 'n', state: { drift: [1, 2], vu: 0.5, tc: 1 }, seq: 0 },
    { type: 'ep', v: 2, seq: 3, e: [0.1, -0.9] },
    { type: 'sdm', v: 2, seq: 3, diff: [MAX_DIFF, -MAX_DIFF] },
    { type: 'sdm', v: 2, seq: 4, diff: [0.1, 0.2], e: [-0.5, 0.5] },
    { type: 'hello', v: 2, id, name: 'n', state: { drift: [1, 2], vu: 0.5, tc: 1 }, seq: 0, feat: ['sdm.e', 'from-the-future'] },
    { type: 'state', v: 2, seq: 3, drift: [MAX_COORDINATE, -MAX_COORDINATE], vu: 1, tc: 0 },
    { type: 'sync', v: 2 },
    { type: 'bye', v: 2, reason: 'shutdown' },
  ];

  it.each(valid)('accepts a valid %s message and round-trips it', (message) => {
    expect(parseFrame(encodeMessage(message))).toEqual({ ok: true, message });
  });

  it('accepts a newer protocol version for known types (fields we know are still checked)', () => {
    expect(parseFrame('{"type":"ep","v":2,"seq":1,"e":[0,0]}').ok).toBe(true);
  });

  it.each([
    [new Uint8Array([1]), 'binary-frame'],
    ['x'.repeat(MAX_FRAME_BYTES + 1), 'frame-too-large'],
    [`"${'é'.repeat(MAX_FRAME_BYTES / 2)}"`, 'frame-too-large'],
    ['{oops', 'bad-json'],
    ['42', 'not-an-object'],
    ['[{"type":"sync","v":2}]', 'not-an-object'],
    ['{"type":"sync"}', 'bad-version'],
    ['{"type":"sync","v":0}', 'bad-version'],
    ['{"type":"sync","v":1}', 'bad-version'],
    ['{"type":"sync","v":1.5}', 'bad-version'],
    ['{"type":"warp","v":2}', 'unknown-type'],
    ['{"type":"__proto__","v":2}', 'unknown-type'],
    ['{"type":"ep","v":2,"seq":1,"e":[1e999,0]}', 'non-finite-number'],
    ['{"type":"hello","v":2,"id":"' + id + '","name":"n","state":{"drift":[-1e999,0],"vu":1,"tc":1},"seq":0}', 'non-finite-number'],
    ['{"type":"ep","v":2,"seq":1,"e":[1000001,0]}', 'coordinate-out-of-range'],
    ['{"type":"state","v":2,"seq":1,"drift":[0,-1000001],"vu":1,"tc":1}', 'coordinate-out-of-range'],
    ['{"type":"hello","v":2,"id":"' + id + '","name":"n","state":{"drift":[2e6,0],"vu":1,"tc":1},"seq":0}', 'coordinate-out-of-range'],
    ['{"type":"sdm","v":2,"seq":1,"diff":[10.001,0]}', 'diff-out-of-range'],
    ['{"type":"sdm","v":2,"seq":-1,"diff":[0,0]}', 'invalid-fields'],
    ['{"type":"sdm","v":2,"seq":1.5,"diff":[0,0]}', 'invalid-fields'],
    ['{"type":"sdm","v":2,"seq":1,"diff":[0,0,0]}', 'invalid-fields'],
    ['{"type":"sdm","v":2,"seq":1,"diff":"0,0"}', 'invalid-fields'],
    ['{"type":"sdm","v":2,"seq":1,"diff":[0,0],"e":[1000001,0]}', 'coordinate-out-of-range'],
    ['{"type":"sdm","v":2,"seq":1,"diff":[0,0],"e":[0]}', 'invalid-fields'],
    ['{"type":"hello","v":2,"id":"' + id + '","name":"n","state":{"drift":[0,0],"vu":1,"tc":1},"seq":0,"feat":"sdm.e"}', 'invalid-fields'],
    ['{"type":"hello","v":2,"id":"' + id + '","name":"n","state":{"drift":[0,0],"vu":1,"tc":1},"seq":0,"feat":[' + Array(MAX_FEATURES + 1).fill('"x"').join(',') + ']}', 'invalid-fields'],
    ['{"type":"hello","v":2,"id":"' + id + '","name":"n","state":{"drift":[0,0],"vu":1,"tc":1},"seq":0,"feat":["' + 'f'.repeat(MAX_FEATURE_LENGTH + 1) + '"]}', 'invalid-fields'],
    ['{"type":"state","v":2,"seq":1,"drift":[0,0],"vu":2,"tc":1}', 'invalid-fields'],
    ['{"type":"hello","v":2,"id":"not-an-id","name":"n","state":{"drift":[0,0],"vu":1,"tc":1},"seq":0}', 'invalid-fields'],
    ['{"type":"bye","v":2,"reason":"' + 'r'.repeat(201) + '"}', 'invalid-fields'],
  ])('rejects %j as %s', (frame, reason) => {
    const result = parseFrame(frame);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.detail.length).toBeGreaterThan(0);
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
  });
});
