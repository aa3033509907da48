/** Metropolis–Hastings weights (main/model/weights.ts) and the optional `deg` on the wire. */
import { describe, expect, it } from 'vitest';
import { metropolisPull, metropolisStep, metropolisWeight, pullParams, isWeighting } from '../main/model/weights.js';
import { encodeMessage, parseFrame } from '../main/protocol/messages.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { makeNode } from './helpers/memory-cluster.js';

describe('metropolis weights', () => {
  it('w_ij = 1/(1 + max(d_i, d_j)); a peer without a degree counts as ours', () => {
    expect(metropolisWeight(2, 5)).toBe(1 / 6);
    expect(metropolisPull([0, 0], [{ r: [6, 0], deg: 5 }, { r: [0, 3], deg: undefined }])).toEqual([1, 1]);
    expect(pullParams({ alpha: 0.05, beta: 0.1, gamma: 0.001 }, 'metropolis').beta).toBe(1);
    expect(isWeighting('metropolis') && isWeighting('seed') && !isWeighting('x')).toBe(true);
  });
  it('two nodes of degree 1 meet at the midpoint in one step', () => {
    const step = metropolisStep([0, 0], [{ r: [4, 2], deg: 1 }], [1, 0], { alpha: 0, beta: 0.1, gamma: 0 });
    expect(step.drift).toEqual([2, 1]);
  });
  it('deg is optional on hello/state/sdm and round-trips', () => {
    const sdm = parseFrame(encodeMessage({ type: 'sdm', v: 2, seq: 3, diff: [0.1, 0], deg: 6 }));
    expect(sdm.ok && sdm.message.type === 'sdm' && sdm.message.deg).toBe(6);
    const old = parseFrame('{"type":"sdm","v":2,"seq":3,"diff":[0.1,0]}');
    expect(old.ok && old.message.type === 'sdm' && old.message.deg).toBe(undefined);
    expect(parseFrame('{"type":"sdm","v":2,"seq":3,"diff":[0.1,0],"deg":-1}').ok).toBe(false);
  });
  it('a metropolis node advertises its degree; a seed-rule node sends no deg', async () => {
    const network = new MemoryNetwork({ autoDeliver: false });
    const a = makeNode(network, 0, [0, 0], { weights: 'metropolis' });
    const b = makeNode(network, 1, [1, 1]);
    const framesA: string[] = [];
    const framesB: string[] = [];
    await a.transport.dial(b.transport.address);
    const la = a.transport.linkTo(b.node.id)!;
    const lb = b.transport.linkTo(a.node.id)!;
    const sa = la.send.bind(la);
    const sb = lb.send.bind(lb);
    la.send = (f: string) => (framesA.push(f), sa(f));
    lb.send = (f: string) => (framesB.push(f), sb(f));
    network.deliverAll();
    a.node.runCycle();
    b.node.runCycle();
    network.deliverAll();
    expect(framesA.some((f) => f.includes('"type":"sdm"') && f.includes('"deg":1'))).toBe(true);
    expect(framesB.some((f) => f.includes('"deg"'))).toBe(false);
    await a.node.stop();
    await b.node.stop();
  });
});
