/**
 * The node believes only what it can verify (docs/security.md "Trust"): a
 * stubborn liar cannot steer honest nodes and is cut off, a flood of fresh
 * ids cannot evict established links, and a peer that floods invalid frames
 * is cut off and held off while honest peers carry on. The node code runs
 * for real over the in-memory transport with a manual clock, so every cycle
 * and every trust decay is deterministic (the transport's own proofs are
 * tested over real WebRTC in proof-of-identity.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { distance } from '../main/model/drift.js';
import { ESTABLISHED_PEER_CYCLES } from '../main/model/limits.js';
import type { Weighting } from '../main/model/weights.js';
import type { DriftNode } from '../main/node/drift-node.js';
import { MemoryNetwork, MemoryTransport } from '../main/transport/memory.js';
import { indexedId, makeNode } from './helpers/memory-cluster.js';

const CYCLE_MS = 100;

function clockedMesh(n: number, weights: Weighting, maxPeers = 8) {
  const network = new MemoryNetwork({ autoDeliver: false });
  const clock = { now: 0 };
  const nodes = Array.from({ length: n }, (_, i) =>
    makeNode(network, i, [((i * 7) % 11) - 5, ((i * 5) % 9) - 4], {
      params: { alpha: 0.05, beta: 0.1, gamma: 0.001 },
      weights,
      maxPeers,
      now: () => clock.now,
    }),
  );
  const cycle = (): void => {
    clock.now += CYCLE_MS;
    for (const { node } of nodes) node.runCycle();
    network.deliverAll();
  };
  return { network, clock, nodes, cycle };
}

/** A peer with no node behind it that says what the test tells it to. */
function liar(network: MemoryNetwork, k: number) {
  const id = indexedId(k, 'LIARLIA');
  const transport = new MemoryTransport(network, id, `liar${k}:7710`);
  transport.setHandler({ onLink() {}, onFrame() {}, onUnlink() {} });
  return { id, transport };
}

function honestBox(nodes: Array<{ node: DriftNode }>): { min: [number, number]; max: [number, number] } {
  const drifts = nodes.map(({ node }) => node.state.drift);
  return {
    min: [Math.min(...drifts.map((d) => d[0])), Math.min(...drifts.map((d) => d[1]))],
    max: [Math.max(...drifts.map((d) => d[0])), Math.max(...drifts.map((d) => d[1]))],
  };
}

describe('a stubborn liar', () => {
  async function stubbornRun(weights: Weighting) {
    const mesh = clockedMesh(6, weights);
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) await mesh.nodes[i]!.transport.dial(`node${j}:7710`);
    const s = liar(mesh.network, 1);
    for (let i = 0; i < 6; i++) await s.transport.dial(`node${i}:7710`);
    mesh.network.deliverAll();
    const links = () => mesh.nodes.map((_, i) => s.transport.linkTo(mesh.nodes[i]!.node.id));
    const say = (frame: object) => {
      for (const link of links()) link?.send(JSON.stringify(frame));
    };
    say({ type: 'hello', v: 2, id: s.id, name: 'liar', state: { drift: [1e5, 1e5], vu: 1, tc: 1 }, seq: 0 });
    const start = honestBox(mesh.nodes);
    let worst = 0;
    for (let c = 1; c <= 600; c++) {
      say({ type: 'state', v: 2, seq: c, drift: [1e5, 1e5], vu: 1, tc: 1 });
      mesh.cycle();
      const box = honestBox(mesh.nodes);
      for (const axis of [0, 1] as const) worst = Math.max(worst, box.max[axis] - start.max[axis], start.min[axis] - box.min[axis]);
    }
    return { mesh, s, worst };
  }

  it('moves no honest node out of the honest range under W-MSR, and is cut off; the network then converges', async () => {
    const { mesh, s, worst } = await stubbornRun('wmsr');
    // The honest range plus the noise floor of the entropy (alpha 0.05 a cycle).
    expect(worst).toBeLessThan(1);
    for (const { node } of mesh.nodes) {
      const st = node.status();
      expect(st.heldOff.map((h) => h.id)).toContain(s.id);
      expect(st.heldOff.find((h) => h.id === s.id)!.reason).toMatch(/trust .* fell below/);
      expect(st.peers.find((p) => p.id === s.id)!.connected).toBe(false);
      expect(st.state.tc).toBeGreaterThan(0.9); // the mean over the honest peers left
    }
    for (let c = 0; c < 200; c++) mesh.cycle();
    const drifts = mesh.nodes.map(({ node }) => node.state.drift);
    const far = Math.max(...drifts.flatMap((a) => drifts.map((b) => distance(a, b))));
    expect(far).toBeLessThan(1);
    // A cut-off liar cannot come straight back.
    await expect(s.transport.dial('node0:7710')).rejects.toMatchObject({ code: 'full' });
  });

  it('captures plain averaging (the reason W-MSR is the default)', async () => {
    const { worst } = await stubbornRun('seed');
    expect(worst).toBeGreaterThan(1000);
  });
});

describe('a flood of fresh ids', () => {
  it('at 5 per second against maxPeers 4 leaves the established honest links in place', async () => {
    const mesh = clockedMesh(5, 'wmsr', 4);
    const hub = mesh.nodes[0]!.node;
    for (let i = 1; i < 5; i++) await mesh.nodes[i]!.transport.dial('node0:7710');
    for (let c = 0; c < ESTABLISHED_PEER_CYCLES + 10; c++) mesh.cycle();
    const honest = mesh.nodes.slice(1).map(({ node }) => node.id);
    const unlinked: string[] = [];
    hub.events.on('peer', (e) => {
      if (e.kind === 'unlinked' && honest.includes(e.peer.id)) unlinked.push(e.peer.id);
    });
    for (let k = 0; k < 50; k++) {
      const sybil = liar(mesh.network, 100 + k);
      await sybil.transport.dial('node0:7710').catch(() => {});
      sybil.transport.linkTo(hub.id)?.send(JSON.stringify({ type: 'hello', v: 2, id: sybil.id, name: `sybil${k}`, state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0 }));
      mesh.cycle(); // 5 a second: one every other 100 ms cycle
      mesh.cycle();
    }
    expect(unlinked).toEqual([]);
    const connected = hub.status().peers.filter((p) => p.connected && honest.includes(p.id)).map((p) => p.id);
    expect(connected.sort()).toEqual([...honest].sort());
  });
});

describe('a flood of invalid frames', () => {
  it('10,000 a second: the peer is cut off at once and held off; the honest peer converges', async () => {
    const mesh = clockedMesh(2, 'wmsr');
    await mesh.nodes[1]!.transport.dial('node0:7710');
    const a = mesh.nodes[0]!.node;
    const g = liar(mesh.network, 9);
    await g.transport.dial('node0:7710');
    const link = g.transport.linkTo(a.id)!;
    link.send(JSON.stringify({ type: 'hello', v: 2, id: g.id, name: 'garbage', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0 }));
    mesh.network.deliverAll();
    // One cycle's worth (100 ms) of 10,000 frames a second.
    let sent = 0;
    for (; sent < 1000 && link.isOpen; sent++) {
      link.send(sent % 2 ? '{"type":"sdm","v":2,"seq":-1,"diff":[0,0]}' : '{not json');
      if (sent % 10 === 9) mesh.network.deliverAll();
    }
    mesh.cycle();
    expect(link.isOpen).toBe(false);
    expect(sent).toBeLessThan(200); // cut off within the burst window, long before the second is over
    const held = a.status().heldOff.find((h) => h.id === g.id)!;
    expect(held.reason).toMatch(/burst of invalid frames/);
    await expect(g.transport.dial('node0:7710')).rejects.toMatchObject({ code: 'full' });
    for (let c = 0; c < 40; c++) mesh.cycle();
    expect(distance(a.state.drift, mesh.nodes[1]!.node.state.drift)).toBeLessThan(0.5);
    expect(a.status().peers.find((p) => p.id === mesh.nodes[1]!.node.id)!.connected).toBe(true);
  });
});
