/**
 * The degree cap (maxPeers) over the in-memory transport, in simulated time:
 * a full node takes a newcomer and drops a random older link politely
 * (`bye` 'over peer limit'), neither side redials the other before the
 * peer-limit hold ends, and a crowd where everyone dials everyone settles
 * into a connected mesh with every degree at most maxPeers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PEER_LIMIT_BACKOFF_MAX_MS, PEER_LIMIT_BACKOFF_MS } from '../main/model/limits.js';
import { peerLimitDelay } from '../main/node/dialer.js';
import type { DriftNode, PeerEvent } from '../main/node/drift-node.js';
import { BYE_OVER_PEER_LIMIT } from '../main/protocol/messages.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { makeNode, testId } from './helpers/memory-cluster.js';

afterEach(() => {
  vi.useRealTimers();
});

type Cluster = ReturnType<typeof makeNode>[];

function cluster(size: number, maxPeers: number): Cluster {
  const network = new MemoryNetwork({ autoDeliver: true });
  return Array.from({ length: size }, (_, i) => makeNode(network, i, [0, 0], { maxPeers }));
}

function adjacency(nodes: Cluster): Map<string, Set<string>> {
  return new Map(nodes.map(({ node }) => [node.id, new Set(node.status().peers.filter((p) => p.connected).map((p) => p.id))]));
}

function linkedTo(node: DriftNode): string[] {
  return node.status().peers.filter((p) => p.connected).map((p) => p.id).sort();
}

function components(adj: Map<string, Set<string>>): number {
  const seen = new Set<string>();
  let count = 0;
  for (const start of adj.keys()) {
    if (seen.has(start)) continue;
    count++;
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      for (const next of adj.get(stack.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
  }
  return count;
}

/** Every peer event of every node, with the simulated time it happened at. */
function recordPeerEvents(nodes: Cluster): Array<PeerEvent & { node: string; at: number }> {
  const events: Array<PeerEvent & { node: string; at: number }> = [];
  for (const { node } of nodes) node.events.on('peer', (e) => events.push({ ...e, node: node.id, at: Date.now() }));
  return events;
}

/** Stops nodes under fake timers (stop waits a moment for its bye frames). */
async function stopAll(nodes: Cluster): Promise<void> {
  const stopped = Promise.all(nodes.map(({ node }) => node.stop()));
  await vi.advanceTimersByTimeAsync(1000);
  await stopped;
}

function logsOf(nodes: Cluster): string[] {
  const lines: string[] = [];
  for (const { node } of nodes) node.events.on('log', (e) => lines.push(e.message));
  return lines;
}

describe('the degree cap (maxPeers)', () => {
  it('20 nodes with maxPeers 4, each dialling all others, settle connected with every degree <= 4 and spread', async () => {
    vi.useFakeTimers();
    const nodes = cluster(20, 4);
    const events = recordPeerEvents(nodes);
    const logs = logsOf(nodes);
    const start = Date.now();
    for (const a of nodes) for (const b of nodes) if (a !== b) a.node.addPeer(b.transport.address);

    const maxDegreeSeen: number[] = [];
    for (let second = 0; second < 600; second += 5) {
      await vi.advanceTimersByTimeAsync(5000);
      const adj = adjacency(nodes);
      maxDegreeSeen.push(Math.max(...[...adj.values()].map((s) => s.size)));
      // Connected all along, not only at the end: a newcomer is always taken in.
      expect(components(adj), `components after ${second + 5} s`).toBe(1);
    }

    const adj = adjacency(nodes);
    const degrees = [...adj.values()].map((s) => s.size).sort((a, b) => a - b);
    expect(Math.max(...degrees)).toBeLessThanOrEqual(4);
    // Spread, not a star or a chain: every node has several links and the mesh is close to 4-regular.
    expect(Math.min(...degrees)).toBeGreaterThanOrEqual(3);
    expect(degrees.reduce((s, d) => s + d, 0) / 2).toBeGreaterThanOrEqual(38);
    expect(components(adj)).toBe(1);
    // Links are symmetric: both ends see the same graph.
    for (const [id, peers] of adj) for (const peer of peers) expect(adj.get(peer)!.has(id)).toBe(true);
    // Counted while links close (a dropped link counts until its bye is answered), never above cap.
    expect(Math.max(...maxDegreeSeen)).toBeLessThanOrEqual(4);

    // Politely: every drop said bye first, and every unlink is one of those drops.
    const drops = logs.filter((l) => l.startsWith('dropping ') && l.includes('over the peer limit')).length;
    expect(drops).toBeGreaterThan(0);
    expect(logs.filter((l) => l.endsWith(`said bye (${BYE_OVER_PEER_LIMIT})`))).toHaveLength(drops);
    // (A link replaced by a crossing dial to the same peer is no drop: the two stay linked; its far end reads 'closed by peer'.)
    const unlinked = events.filter((e) => e.kind === 'unlinked');
    const replaced = unlinked.filter((e) => e.detail === 'replaced').length;
    expect(unlinked).toHaveLength(2 * (drops + replaced));
    for (const e of unlinked) expect(['closed by peer', `bye: ${BYE_OVER_PEER_LIMIT}`, BYE_OVER_PEER_LIMIT, 'replaced']).toContain(e.detail);

    // Neither side of a dropped link links with the other again before the hold ends.
    const droppedAt = new Map<string, number>();
    const pair = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);
    for (const e of events) {
      const key = pair(e.node, e.peer.id);
      if (e.kind === 'unlinked' && e.detail === `bye: ${BYE_OVER_PEER_LIMIT}`) droppedAt.set(key, e.at);
      if (e.kind === 'linked' && droppedAt.has(key)) {
        expect(e.at - droppedAt.get(key)!, `${key} relinked ${e.at - start} ms into the run`).toBeGreaterThanOrEqual(0.75 * PEER_LIMIT_BACKOFF_MS);
      }
    }
    await stopAll(nodes);
    // Ten simulated minutes of 20 nodes are pure CPU work: about 3 s alone, several times that on a busy machine.
  }, 120_000);

  it('a full node takes a newcomer and drops a random older link with bye; both sides hold off', async () => {
    vi.useFakeTimers();
    const [a, b, c, d] = cluster(4, 8);
    a!.node.configure({ maxPeers: 2 });
    await b!.transport.dial(a!.transport.address);
    await c!.transport.dial(a!.transport.address);
    await vi.advanceTimersByTimeAsync(10);
    const logs = logsOf([b!, c!]);

    await d!.transport.dial(a!.transport.address);
    await vi.advanceTimersByTimeAsync(10);
    const kept = linkedTo(a!.node);
    expect(kept).toHaveLength(2);
    expect(kept).toContain(testId(3)); // the newcomer stays
    const dropped = [b!, c!].find((x) => !kept.includes(x.node.id))!;
    expect(logs).toContain(`node0 (${testId(0).slice(0, 7)}) said bye (${BYE_OVER_PEER_LIMIT})`);
    expect(linkedTo(dropped.node)).toEqual([]);

    // The dropping node does not take it back while it is on hold, even if it dials at once...
    await expect(dropped.transport.dial(a!.transport.address)).rejects.toMatchObject({ code: 'full' });
    // ...and a dropped node left with no link may try again (its own holds are waived while it is
    // alone), but the full node keeps refusing it: no link comes back while A is full.
    dropped.node.addPeer(a!.transport.address, a!.node.id);
    await vi.advanceTimersByTimeAsync(0.75 * PEER_LIMIT_BACKOFF_MS - 1000);
    expect(linkedTo(dropped.node)).toEqual([]);
    expect(linkedTo(a!.node)).toEqual(kept);
    const target = dropped.node.status().dialTargets[0]!;
    expect(target.address).toBe(a!.transport.address);
    expect(target.lastError).toMatch(/peer limit|full/);
    expect(target.nextDialAt).toBeGreaterThan(Date.now());
    await stopAll([a!, b!, c!, d!]);
  });

  it('a node left alone is taken back into a free slot at once, despite the peer-limit hold', async () => {
    vi.useFakeTimers();
    const [a, b, c, d] = cluster(4, 8);
    a!.node.configure({ maxPeers: 2 });
    await b!.transport.dial(a!.transport.address);
    await c!.transport.dial(a!.transport.address);
    await vi.advanceTimersByTimeAsync(10);
    await d!.transport.dial(a!.transport.address);
    await vi.advanceTimersByTimeAsync(10);
    const dropped = [b!, c!].find((x) => !linkedTo(a!.node).includes(x.node.id))!;
    const other = [b!, c!].find((x) => x !== dropped)!;
    expect(linkedTo(dropped.node)).toEqual([]);
    // While A is full the hold stands...
    await expect(dropped.transport.dial(a!.transport.address)).rejects.toMatchObject({ code: 'full' });
    // ...once a slot frees up, the lonely node gets it well before the hold ends.
    const stopping = other.node.stop();
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect(linkedTo(a!.node)).toEqual([testId(3)]);
    await expect(dropped.transport.dial(a!.transport.address)).resolves.toBe(a!.node.id);
    expect(linkedTo(a!.node)).toEqual([dropped.node.id, testId(3)].sort());
    await stopAll([a!, dropped, d!]);
  });

  it('a node dropped by its last peers dials the addresses that waited for a free slot at once', async () => {
    vi.useFakeTimers();
    const network = new MemoryNetwork({ autoDeliver: true });
    const [x, p1, p2, q, r1, r2] = [0, 1, 2, 3, 4, 5].map((i) => makeNode(network, i, [0, 0], { maxPeers: 8 }));
    x!.node.configure({ maxPeers: 2 });
    p1!.node.configure({ maxPeers: 1 });
    p2!.node.configure({ maxPeers: 1 });
    x!.node.addPeer(p1!.transport.address);
    x!.node.addPeer(p2!.transport.address);
    await vi.advanceTimersByTimeAsync(1000);
    x!.node.addPeer(q!.transport.address); // comes due while x is full: put off by PEER_LIMIT_RECHECK_MS
    await vi.advanceTimersByTimeAsync(1000);
    const linked = (n: typeof x) => n!.node.status().peers.filter((p) => p.connected).map((p) => p.id).sort();
    expect(linked(x)).toEqual([testId(1), testId(2)]);
    // Newcomers reach the full peers, which drop x (their only older link) for their limit.
    await r1!.transport.dial(p1!.transport.address);
    await r2!.transport.dial(p2!.transport.address);
    await vi.advanceTimersByTimeAsync(1000);
    expect(linked(x)).toEqual([testId(3)]);
    const stopped = Promise.all([x, p1, p2, q, r1, r2].map((n) => n!.node.stop()));
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
  });

  it('lowering maxPeers at run time drops links the same way, at random, down to the new limit', async () => {
    vi.useFakeTimers();
    const nodes = cluster(7, 8);
    const [hub, ...spokes] = nodes;
    for (const s of spokes) s.node.addPeer(hub!.transport.address);
    await vi.advanceTimersByTimeAsync(1000);
    expect(linkedTo(hub!.node)).toHaveLength(6);
    const byes = logsOf(spokes);

    hub!.node.configure({ maxPeers: 2 });
    expect(hub!.node.status().config.maxPeers).toBe(2);
    await vi.advanceTimersByTimeAsync(10);
    const kept = linkedTo(hub!.node);
    expect(kept).toHaveLength(2);
    expect(byes.filter((l) => l.endsWith(`said bye (${BYE_OVER_PEER_LIMIT})`))).toHaveLength(4);
    // At random, not the first or last two to arrive (this seed keeps neither pair).
    expect(kept).not.toEqual([testId(1), testId(2)]);
    expect(kept).not.toEqual([testId(5), testId(6)]);

    // The dropped spokes keep the hub's address but hold off: nothing comes back for the hold...
    for (let second = 0; second < 20; second++) {
      await vi.advanceTimersByTimeAsync(1000);
      expect(linkedTo(hub!.node)).toEqual(kept);
    }
    // ...and from then on the hub never goes above its new limit.
    for (let second = 0; second < 600; second += 5) {
      await vi.advanceTimersByTimeAsync(5000);
      expect(linkedTo(hub!.node).length).toBeLessThanOrEqual(2);
    }
    await stopAll(nodes);
  });

  it('a node at maxPeers does not dial more addresses', async () => {
    vi.useFakeTimers();
    const [a, b, c, d] = cluster(4, 8);
    a!.node.configure({ maxPeers: 2 });
    a!.node.addPeer(b!.transport.address);
    a!.node.addPeer(c!.transport.address);
    await vi.advanceTimersByTimeAsync(1000);
    expect(linkedTo(a!.node)).toEqual([testId(1), testId(2)]);
    a!.node.addPeer(d!.transport.address);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(linkedTo(d!.node)).toEqual([]);
    expect(a!.node.status().dialTargets.find((t) => t.address === d!.transport.address)).toMatchObject({
      failures: 0,
      lastError: expect.stringMatching(/at its peer limit/),
    });
    // A free slot is filled from the waiting addresses.
    await stopAll([b!]);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(linkedTo(a!.node)).toEqual([testId(2), testId(3)]);
    await stopAll([a!, c!, d!]);
  });

  it('the peer-limit hold doubles per repeated drop up to its maximum', () => {
    const mid = () => 0.5;
    expect(peerLimitDelay(1, mid)).toBe(PEER_LIMIT_BACKOFF_MS);
    expect(peerLimitDelay(2, mid)).toBe(2 * PEER_LIMIT_BACKOFF_MS);
    expect(peerLimitDelay(30, mid)).toBe(PEER_LIMIT_BACKOFF_MAX_MS);
    expect(peerLimitDelay(1, () => 0)).toBe(0.75 * PEER_LIMIT_BACKOFF_MS);
  });
});
