import { describe, expect, it } from 'vitest';
import { distance } from '../main/model/drift.js';
import { DEAD_LINK_CYCLES, DEFAULT_STALE_CYCLES, MAX_FRAME_BYTES, SNAPSHOT_EVERY_CYCLES } from '../main/model/limits.js';
import { REJECT_REASONS } from '../main/protocol/messages.js';
import { MemoryNetwork, MemoryTransport } from '../main/transport/memory.js';
import { makeNode, rawPeer, testId } from './helpers/memory-cluster.js';

function manualNetwork() {
  return new MemoryNetwork({ autoDeliver: false });
}

async function linkPair(network: MemoryNetwork, a: ReturnType<typeof makeNode>, b: ReturnType<typeof makeNode>) {
  await a.transport.dial(b.transport.address);
  network.deliverAll();
}

/** A node at the origin and a raw peer linked to it (the raw side sends hand-written frames). */
async function nodeWithRawPeer() {
  const network = manualNetwork();
  const a = makeNode(network, 0, [0, 0]);
  const raw = rawPeer(network, 1);
  await raw.transport.dial(a.transport.address);
  network.deliverAll();
  return { network, a, raw, link: raw.links[0]! };
}

describe('DriftNode over the in-memory transport', () => {
  it('two nodes without entropy contract by exactly 1 - 2*beta per cycle', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [5, 1]);
    const b = makeNode(network, 1, [-2, -3]);
    await linkPair(network, a, b);
    let d = distance(a.node.state.drift, b.node.state.drift);
    for (let i = 0; i < 30; i++) {
      a.node.runCycle();
      b.node.runCycle();
      network.deliverAll();
      const next = distance(a.node.state.drift, b.node.state.drift);
      expect(next / d).toBeCloseTo(0.8, 12);
      d = next;
    }
    expect(a.node.status().peers[0]).toMatchObject({ id: testId(1), connected: true, fresh: true, name: 'node1' });
    expect(a.node.status().peers[0]!.drift![0]).toBeCloseTo(b.node.state.drift[0], 12);
  });

  it('three nodes in a line converge through the middle one', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [10, 0]);
    const b = makeNode(network, 1, [0, 0]);
    const c = makeNode(network, 2, [-10, 5]);
    await linkPair(network, a, b);
    await linkPair(network, b, c);
    for (let i = 0; i < 200; i++) {
      for (const n of [a, b, c]) n.node.runCycle();
      network.deliverAll();
    }
    expect(distance(a.node.state.drift, c.node.state.drift)).toBeLessThan(1e-3);
    expect(a.node.status().peers.map((p) => p.id)).toEqual([testId(1)]);
  });

  it('marks a silent peer stale, keeps cycling, then closes the dead link', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [1, 1]);
    const b = makeNode(network, 1, [0, 0]);
    await linkPair(network, a, b);
    const kinds: string[] = [];
    a.node.events.on('peer', (e) => kinds.push(e.kind));
    for (let i = 0; i < DEFAULT_STALE_CYCLES + 1; i++) {
      a.node.runCycle();
      network.deliverAll();
    }
    expect(kinds).toContain('stale');
    expect(a.node.status().peers[0]!.fresh).toBe(false);
    const frozen = a.node.state.drift;
    a.node.runCycle();
    // Stale peers do not pull: without entropy and gravity the drift stays put.
    expect(a.node.state.drift).toEqual(frozen);
    for (let i = 0; i < DEAD_LINK_CYCLES; i++) a.node.runCycle();
    expect(kinds).toContain('unlinked');
    expect(a.node.status().peers[0]!.connected).toBe(false);
  });

  it('resyncs a replica by snapshot after a seq gap', async () => {
    const { network, a, raw, link } = await nodeWithRawPeer();
    link.send(JSON.stringify({ type: 'hello', v: 2, id: testId(1), name: 'raw', state: { drift: [1, 1], vu: 1, tc: 1 }, seq: 0 }));
    link.send(JSON.stringify({ type: 'sdm', v: 2, seq: 1, diff: [1, 0] }));
    link.send(JSON.stringify({ type: 'sdm', v: 2, seq: 5, diff: [1, 0] }));
    network.deliverAll();
    expect(raw.received.map((f) => JSON.parse(f).type)).toContain('sync');
    link.send(JSON.stringify({ type: 'state', v: 2, seq: 6, drift: [7, 7], vu: 1, tc: 1 }));
    network.deliverAll();
    expect(a.node.status().peers[0]!.drift).toEqual([7, 7]);
    link.send(JSON.stringify({ type: 'sdm', v: 2, seq: 7, diff: [0.5, -0.5] }));
    network.deliverAll();
    expect(a.node.status().peers[0]!.drift).toEqual([7.5, 6.5]);
  });

  it('sends a state snapshot every SNAPSHOT_EVERY_CYCLES cycles and answers sync', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [0, 0]);
    const raw = rawPeer(network, 1);
    await raw.transport.dial(a.transport.address);
    const link = raw.links[0]!;
    link.send(JSON.stringify({ type: 'hello', v: 2, id: testId(1), name: 'raw', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0 }));
    network.deliverAll();
    raw.received.length = 0;
    for (let i = 0; i < SNAPSHOT_EVERY_CYCLES; i++) a.node.runCycle();
    network.deliverAll();
    const types = raw.received.map((f) => JSON.parse(f).type);
    expect(types.filter((t) => t === 'state')).toHaveLength(1);
    expect(types.filter((t) => t === 'sdm')).toHaveLength(SNAPSHOT_EVERY_CYCLES);
    raw.received.length = 0;
    link.send(JSON.stringify({ type: 'sync', v: 2 }));
    network.deliverAll();
    expect(JSON.parse(raw.received[0]!)).toMatchObject({ type: 'state', seq: SNAPSHOT_EVERY_CYCLES });
  });

  it('sends a v1 peer ep + sdm, and a peer that announced sdm.e one sdm frame carrying the entropy', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [0, 0]);
    const old = rawPeer(network, 1);
    const current = rawPeer(network, 2);
    await old.transport.dial(a.transport.address);
    await current.transport.dial(a.transport.address);
    network.deliverAll();
    const hello = (n: number, feat?: string[]) =>
      JSON.stringify({ type: 'hello', v: 2, id: testId(n), name: `raw${n}`, state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0, ...(feat ? { feat } : {}) });
    old.links[0]!.send(hello(1));
    current.links[0]!.send(hello(2, ['sdm.e']));
    network.deliverAll();
    // Our own hello announces the feature.
    expect(JSON.parse(old.received.find((f) => JSON.parse(f).type === 'hello')!).feat).toContain('sdm.e');
    old.received.length = 0;
    current.received.length = 0;
    for (let i = 0; i < 5; i++) a.node.runCycle();
    network.deliverAll();
    const oldFrames = old.received.map((f) => JSON.parse(f));
    const newFrames = current.received.map((f) => JSON.parse(f));
    expect(oldFrames.map((m) => m.type)).toEqual(['ep', 'sdm', 'ep', 'sdm', 'ep', 'sdm', 'ep', 'sdm', 'ep', 'sdm']);
    expect(oldFrames.every((m) => m.e === undefined || m.type === 'ep')).toBe(true);
    expect(newFrames.map((m) => m.type)).toEqual(['sdm', 'sdm', 'sdm', 'sdm', 'sdm']);
    // Same cycle, same sample and diff either way.
    for (let i = 0; i < 5; i++) {
      expect(newFrames[i].seq).toBe(oldFrames[2 * i].seq);
      expect(newFrames[i].e).toEqual(oldFrames[2 * i].e);
      expect(newFrames[i].diff).toEqual(oldFrames[2 * i + 1].diff);
    }
  });

  it('takes the entropy intensity from sdm.e as from ep', async () => {
    const { network, a, raw, link } = await nodeWithRawPeer();
    link.send(JSON.stringify({ type: 'hello', v: 2, id: testId(1), name: 'raw', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0, feat: ['sdm.e'] }));
    for (let seq = 1; seq <= 40; seq++) link.send(JSON.stringify({ type: 'sdm', v: 2, seq, diff: [0, 0], e: [0.6, 0.8] }));
    network.deliverAll();
    const peer = a.node.status().peers[0]!;
    expect(peer.intensity).toBeGreaterThan(0.5);
    expect(peer.intensity).toBeLessThanOrEqual(1);
    expect(peer.rejects).toEqual({});
    expect(peer.drift).toEqual([0, 0]);
  });

  it('reaches every reject reason and counts it on the peer', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [0, 0]);
    const raw = rawPeer(network, 1);
    await raw.transport.dial(a.transport.address);
    const link = a.transport.linkTo(testId(0)) ? undefined : raw.transport.linkTo(testId(0))!;
    const send = (frame: unknown) => link!.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    send({ type: 'ep', v: 2, seq: 1, e: [0, 0] }); // before-hello
    send({ type: 'hello', v: 2, id: testId(5), name: 'liar', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0 }); // id-mismatch closes the link
    network.deliverAll();
    expect(a.node.status().peers[0]!.connected).toBe(false);
    await raw.transport.dial(a.transport.address);
    const link2 = raw.transport.linkTo(testId(0))!;
    const send2 = (frame: unknown) => link2.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    send2({ type: 'hello', v: 2, id: testId(1), name: 'raw', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 10 });
    link2.sendBinary(new Uint8Array([1, 2, 3]));
    send2('x'.repeat(MAX_FRAME_BYTES + 1));
    send2('{not json');
    send2('[1,2]');
    send2({ type: 'ep', v: 0, seq: 11, e: [0, 0] });
    send2('{"type":"ep","v":2,"seq":11,"e":[1e999,0]}');
    send2({ type: 'state', v: 2, seq: 11, drift: [2e6, 0], vu: 1, tc: 1 });
    send2({ type: 'sdm', v: 2, seq: 11, diff: [11, 0] });
    send2({ type: 'sdm', v: 2, seq: 'eleven', diff: [0, 0] });
    send2({ type: 'teleport', v: 2 });
    send2({ type: 'ep', v: 2, seq: 3, e: [0, 0] });
    network.deliverAll();
    const status = a.node.status();
    const peer = status.peers.find((p) => p.id === testId(1))!;
    expect(peer.connected).toBe(true);
    for (const reason of REJECT_REASONS) expect(status.rejects[reason], reason).toBeGreaterThanOrEqual(1);
    expect(peer.rejects['binary-frame']).toBe(1);
  });

  it('survives 10,000 random and mutated frames with finite state', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [3, -2], { params: { alpha: 0.05, beta: 0.1, gamma: 0.001 } });
    // A peer sending this much garbage is cut off (trust, reject bursts) and held off: each
    // relink comes from a fresh id, the way a fuzzer that cycles keys would.
    let fuzzer = 0;
    const fuzzId = (k: number): string => {
      const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
      const digits = Array.from({ length: 5 }, (_, i) => B32[Math.floor(k / 32 ** (4 - i)) % 32]).join('');
      return `FUZZAAA-FUZZAAA-FUZZAAA-${digits}`;
    };
    const newRaw = () => {
      const id = fuzzId(++fuzzer);
      const transport = new MemoryTransport(network, id, `fuzz${fuzzer}:7710`);
      transport.setHandler({ onLink() {}, onFrame() {}, onUnlink() {} });
      return { id, transport };
    };
    let raw = newRaw();
    await raw.transport.dial(a.transport.address);
    let link = raw.transport.linkTo(testId(0))!;
    let relinks = 0;
    const { seededRandom } = await import('../main/model/prng.js');
    const rnd = seededRandom(42);
    const valid = [
      { type: 'hello', v: 2, id: raw.id, name: 'fuzz', state: { drift: [1, 2], vu: 0.5, tc: 1 }, seq: 0 },
      { type: 'ep', v: 2, seq: 1, e: [0.3, -0.2] },
      { type: 'sdm', v: 2, seq: 1, diff: [0.01, 0.02] },
      { type: 'state', v: 2, seq: 1, drift: [1, 2], vu: 0.5, tc: 1 },
      { type: 'sync', v: 2 },
    ];
    const weird: unknown[] = [null, true, -1, 1e308, -1e308, 'x', '', [], {}, [1e6, -1e6], 0.5, Number.MAX_SAFE_INTEGER, 2 ** 60];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    function mutate(value: unknown, depth: number): unknown {
      if (rnd() < 0.15) return pick(weird);
      if (Array.isArray(value)) return value.map((v) => mutate(v, depth + 1));
      if (value && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) if (rnd() > 0.05) out[k] = depth < 3 ? mutate(v, depth + 1) : v;
        if (rnd() < 0.05) out[pick(['type', 'v', 'seq', 'extra', '__proto__'])] = pick(weird);
        return out;
      }
      if (typeof value === 'number' && rnd() < 0.3) return value * pick([-1, 10, 1e6, 0.5]) + pick([0, 1, -1]);
      return value;
    }
    let seq = 1;
    for (let i = 0; i < 10_000; i++) {
      const roll = rnd();
      let frame: string;
      if (roll < 0.2) {
        const base = pick(valid);
        frame = JSON.stringify({ ...base, ...(base.type === 'hello' ? { id: raw.id } : {}), seq: seq++ });
      } else if (roll < 0.8) {
        frame = JSON.stringify(mutate(pick(valid), 0)) ?? 'null';
      } else {
        const base = JSON.stringify(pick(valid));
        const at = Math.floor(rnd() * base.length);
        frame = base.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 128)) + base.slice(at + 1);
      }
      if (!link.isOpen) {
        // A mutated hello that claims another id gets the link closed, garbage gets the peer cut off: a new one carries on.
        raw = newRaw();
        await raw.transport.dial(a.transport.address);
        link = raw.transport.linkTo(testId(0))!;
        relinks++;
      }
      link.send(frame);
      if (i % 10 === 0) {
        network.deliverAll();
        a.node.runCycle();
      }
    }
    network.deliverAll();
    const status = a.node.status();
    expect(status.cycle).toBe(1000);
    for (const v of [...status.state.drift, status.state.vu, status.state.tc]) expect(Number.isFinite(v)).toBe(true);
    for (const p of status.peers) if (p.drift) expect(p.drift.every(Number.isFinite)).toBe(true);
    expect(status.peers.filter((p) => p.connected).length).toBeLessThanOrEqual(1);
    expect(status.heldOff.length).toBeGreaterThan(0);
    for (const p of status.peers) expect(p.trust).toBeGreaterThan(0);
    const total = Object.values(status.rejects).reduce((s, n) => s + (n ?? 0), 0);
    expect(total).toBeGreaterThan(5000);
    expect(relinks).toBeGreaterThan(0);
  });

  it('beyond maxPeers takes the newcomer, says bye to an older peer and refuses it while on hold', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [0, 0], { maxPeers: 1 });
    const b = makeNode(network, 1, [0, 0]);
    const c = makeNode(network, 2, [0, 0]);
    await b.transport.dial(a.transport.address);
    network.deliverAll();
    await c.transport.dial(a.transport.address);
    network.deliverAll();
    expect(a.node.status().peers.filter((p) => p.connected).map((p) => p.id)).toEqual([testId(2)]);
    expect(b.node.status().peers[0]).toMatchObject({ id: testId(0), connected: false });
    await expect(b.transport.dial(a.transport.address)).rejects.toMatchObject({ code: 'full' });
    await Promise.all([a.node.stop(), b.node.stop(), c.node.stop()]);
  });

  it('a paused node holds its drift but stays fresh for its peers', async () => {
    const network = manualNetwork();
    const a = makeNode(network, 0, [4, 4]);
    const b = makeNode(network, 1, [0, 0]);
    await linkPair(network, a, b);
    a.node.setPaused(true);
    for (let i = 0; i < DEFAULT_STALE_CYCLES * 6; i++) {
      a.node.runCycle();
      b.node.runCycle();
      network.deliverAll();
    }
    expect(a.node.state.drift).toEqual([4, 4]);
    expect(b.node.status().peers[0]!.fresh).toBe(true);
    expect(b.node.state.drift[0]).toBeCloseTo(4, 1);
  });

  it('says bye on stop and the peer records the link as closed', async () => {
    const network = new MemoryNetwork({ autoDeliver: true });
    const a = makeNode(network, 0, [0, 0]);
    const b = makeNode(network, 1, [0, 0]);
    await a.transport.dial(b.transport.address);
    await new Promise((r) => setTimeout(r, 10));
    const logs: string[] = [];
    b.node.events.on('log', (e) => logs.push(e.message));
    await a.node.stop();
    expect(logs.some((l) => l.includes('said bye (shutdown)'))).toBe(true);
    expect(b.node.status().peers[0]!.connected).toBe(false);
  });
});
