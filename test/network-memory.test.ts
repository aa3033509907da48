/**
 * The network memory wired into the node (issue 12): real nodes over real
 * WebRTC (WebRtcTransport on 127.0.0.1 in this process, and real node
 * processes through the CLI), real Ed25519 records, real store files. The
 * cap on remembered nodes is checked over the in-memory transport, where a
 * flood of fresh ids costs nothing to make. Waits are on state (polled
 * status), with generous timeouts only as a backstop.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkNode, NodeStatus } from '../main/bridge/api.js';
import { nodeHandshakeCrypto } from '../main/identity/handshake-crypto.js';
import { createIdentity } from '../main/identity/identity.js';
import { recordsFrame } from '../main/memory/frames.js';
import { signRecord, type VerifiedRecord } from '../main/memory/record.js';
import { REJECT_BURST_FRAMES } from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { DriftNode, type DriftNodeOptions } from '../main/node/drift-node.js';
import { refreshInterval } from '../main/node/network-memory.js';
import { FEATURE_MEMORY } from '../main/protocol/messages.js';
import { MemoryNetwork, MemoryTransport } from '../main/transport/memory.js';
import type { Link } from '../main/transport/transport.js';
import type { HandshakeCrypto } from '../main/protocol/handshake.js';
import { WebRtcTransport } from '../main/transport/webrtc.js';
import { authFor, testIds } from './helpers/identities.js';
import { CLI, killAll, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

/** `lvs-node identity ...` to completion: its exit code. */
function identityCommand(args: string[]): Promise<number | null> {
  return new Promise((resolve) => execFile(process.execPath, [CLI, 'identity', ...args], { timeout: 30_000 }, (err) => resolve(err ? ((err as { code?: number }).code ?? -1) : 0)));
}

const TEST_MS = 180_000;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface InProcessNode {
  id: string;
  node: DriftNode;
  address: string;
  network(): NonNullable<NodeStatus['network']>;
  known(id: string): NetworkNode | undefined;
}

/** A DriftNode with the network memory on a real WebRtcTransport, signaling on 127.0.0.1 port 0. */
async function memoryNode(id: string, n: number, drift: [number, number], over: Partial<DriftNodeOptions> = {}): Promise<InProcessNode> {
  const transport = new WebRtcTransport({ localId: id, auth: authFor(id), bindAddress: '127.0.0.1' });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/signal') transport.handleSignalUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const node = new DriftNode({
    id,
    name: `n${n}`,
    transport,
    params: { alpha: 0.05, beta: 0.1, gamma: 0 },
    cycleMs: 100,
    maxPeers: 8,
    initial: { drift, vu: 1, tc: 1, cycle: 0 },
    random: seededRandom(500 + n),
    memory: { crypto: authFor(id) },
    ...over,
  });
  cleanups.push(async () => {
    await node.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  node.start();
  const network = () => node.status().network!;
  return { id, node, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, network, known: (other) => network().nodes.find((k) => k.id === other) };
}

describe('network memory over real WebRTC', () => {
  it(
    'five nodes in a line: the first sees the fifth, with its drift and its links, within the rounds push-pull predicts',
    async () => {
      const ids = testIds(5);
      const nodes = await Promise.all(ids.map((id, i) => memoryNode(id, i, [10 * i, -5 * i])));
      for (let i = 0; i + 1 < nodes.length; i++) nodes[i]!.node.addPeer(nodes[i + 1]!.address);
      const last = nodes[4]!;
      const first = nodes[0]!;
      // Node 5 signs again once its link to node 4 is up (its peer list changed): that record is the one we follow.
      const signed = await waitFor('the fifth node to sign a record listing its link', () => {
        const own = last.known(last.id);
        return own && own.peers.includes(ids[3]!) ? own : null;
      }, 60_000);
      const startExchanges = first.network().exchanges;
      const seen = await waitFor('the first node to hold that record', () => {
        const k = first.known(last.id);
        return k && k.seq >= signed.seq ? k : null;
      }, 60_000);
      const rounds = first.network().exchanges - startExchanges;
      // Per round, hop i -> i+1 happens unless neither end picks the other: an end node always picks its one
      // peer (p = 1), an inner pair misses with (1/2)^2 (p = 3/4). Expected rounds over the 4 hops: 1 + 4/3 + 4/3 + 1.
      const expected = 1 + 4 / 3 + 4 / 3 + 1;
      expect(rounds).toBeLessThanOrEqual(Math.ceil(3 * expected));
      expect(seen.drift).toEqual(signed.drift);
      expect(seen.peers).toEqual([ids[3]!]);
      expect(seen.status).toBe('fresh');
      // The whole line is in the first node's view, each with its own links: the graph beyond its own peer.
      await waitFor('every link of the line in the first node\'s view', () =>
        ids.every((id, i) => {
          const k = first.known(id);
          const want = [ids[i - 1], ids[i + 1]].filter((x): x is string => x !== undefined).sort();
          return k && JSON.stringify(k.peers) === JSON.stringify(want);
        }),
      );
      // Every node knows who holds its copy: R = 3 of the other four.
      for (const n of nodes) await waitFor(`holders of ${n.id}`, () => n.network().holders.length === 3);
    },
    TEST_MS,
  );

  it(
    'refuses a forged record and an older one, counts them, and cuts off a peer that floods records it was not asked for',
    async () => {
      const [victimId, attackerId] = testIds(2) as [string, string];
      const victim = await memoryNode(victimId, 0, [1, 1]);
      const attackerAuth = authFor(attackerId);
      const attacker = new WebRtcTransport({ localId: attackerId, auth: attackerAuth, bindAddress: '127.0.0.1' });
      cleanups.push(() => attacker.shutdown());
      const digests: string[] = [];
      let link: Link | null = null;
      attacker.setHandler({
        onLink: (l) => {
          link = l;
          l.send(JSON.stringify({ type: 'hello', v: 2, id: attackerId, name: 'mallory', state: { drift: [1, 1], vu: 1, tc: 1 }, seq: 0, feat: [FEATURE_MEMORY] }));
        },
        onFrame: (_l, frame) => {
          if (typeof frame === 'string' && frame.includes('"type":"mdig"')) digests.push(frame);
        },
        onUnlink: () => {
          link = null;
        },
      });
      await attacker.dial(victim.address);
      const fields = { name: 'mallory', drift: [1, 1] as const, tc: 1, cycle: 5, peers: [victimId] };
      const newer = await signRecord({ ...fields, seq: 10 }, attackerAuth);
      const older = await signRecord({ ...fields, seq: 5 }, attackerAuth);
      const forged = { ...(await signRecord({ ...fields, seq: 20 }, attackerAuth)), drift: [900, 900] } as unknown as VerifiedRecord;
      /** Answers the victim's next digest with these records (an answer is what the victim takes). */
      const answerNextDigest = async (records: VerifiedRecord[]) => {
        const seenDigests = digests.length;
        await waitFor('a digest from the victim', () => digests.length > seenDigests);
        link!.send(recordsFrame(records.map((record) => ({ record, ageMs: 0 }))));
      };
      await answerNextDigest([newer]);
      await waitFor('the victim to hold the attacker\'s record', () => victim.known(attackerId)?.seq === 10);
      await answerNextDigest([older, forged]);
      await waitFor('both refused', () => {
        const r = victim.network().refusals;
        return r['older-seq'] === 1 && r['bad-signature'] === 1;
      });
      expect(victim.known(attackerId)).toMatchObject({ seq: 10, drift: [1, 1] });

      // A flood of records nobody asked for: dropped unchecked, counted, and a burst cuts the sender off.
      const flood = recordsFrame(Array.from({ length: 12 }, () => ({ record: newer, ageMs: 0 })));
      for (let i = 0; i < 2 * REJECT_BURST_FRAMES && link; i++) (link as Link).send(flood);
      await waitFor('the flooder cut off', () => victim.node.status().heldOff.some((h) => h.id === attackerId && /network-memory/.test(h.reason)));
      expect(victim.network().refusals['unsolicited']).toBeGreaterThanOrEqual(REJECT_BURST_FRAMES);
      expect(victim.node.status().peers.find((p) => p.id === attackerId)?.trust).toBeLessThan(0.5);
      expect(victim.network().nodes.length).toBe(2);
    },
    TEST_MS,
  );
});

describe('who gets the gossip, and how often records refresh', () => {
  it('sends memory frames only to peers whose hello listed mem.v1', async () => {
    const network = new MemoryNetwork();
    const [nodeId, plainId, memId] = testIds(3) as [string, string, string];
    const node = new DriftNode({
      id: nodeId,
      name: 'n',
      transport: new MemoryTransport(network, nodeId, 'n:7710'),
      params: { alpha: 0, beta: 0.1, gamma: 0 },
      cycleMs: 100,
      maxPeers: 8,
      initial: { drift: [0, 0], vu: 1, tc: 1, cycle: 0 },
      memory: { crypto: authFor(nodeId), gossipIntervalMs: 20 },
    });
    cleanups.push(() => node.stop());
    const peer = (id: string, address: string, feat: string[]) => {
      const transport = new MemoryTransport(network, id, address);
      const frames: string[] = [];
      transport.setHandler({
        onLink: (l) => l.send(JSON.stringify({ type: 'hello', v: 2, id, name: id.slice(0, 4), state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0, feat })),
        onFrame: (_l, frame) => {
          if (typeof frame === 'string') frames.push(frame);
        },
        onUnlink: () => {},
      });
      return { transport, frames };
    };
    const plain = peer(plainId, 'plain:7710', ['sdm.e']);
    const mem = peer(memId, 'mem:7710', ['sdm.e', FEATURE_MEMORY]);
    node.start();
    await plain.transport.dial('n:7710');
    await mem.transport.dial('n:7710');
    const hello = JSON.parse(plain.frames.find((f) => f.includes('"type":"hello"'))!) as { feat: string[] };
    expect(hello.feat).toContain(FEATURE_MEMORY);
    await waitFor('ten digests to the memory peer', () => mem.frames.filter((f) => f.startsWith('{"type":"mdig"')).length >= 10);
    expect(plain.frames.filter((f) => /^\{"type":"m(dig|rec|want)"/.test(f))).toEqual([]);
  });

  it('signs and checks through a crypto that answers with promises (as a browser node\'s WebCrypto does)', async () => {
    const network = new MemoryNetwork();
    const ids = testIds(2) as [string, string];
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 2));
    const asyncCrypto = (id: string): HandshakeCrypto => {
      const sync = authFor(id);
      return {
        ...sync,
        sign: async (message) => later(await sync.sign(message)),
        verify: async (key, message, signature) => later(await sync.verify(key, message, signature)),
        idOf: async (key) => later(await sync.idOf(key)),
      };
    };
    const nodes = ids.map((id, i) => {
      const node = new DriftNode({
        id,
        name: `async${i}`,
        transport: new MemoryTransport(network, id, `async${i}:7710`),
        params: { alpha: 0, beta: 0.1, gamma: 0 },
        cycleMs: 100,
        maxPeers: 8,
        initial: { drift: [i, -i], vu: 1, tc: 1, cycle: 0 },
        // The real interval: a peer's requests beyond 2 a second are refused as too frequent (and cost it trust).
        memory: { crypto: asyncCrypto(id) },
      });
      cleanups.push(() => node.stop());
      node.start();
      return node;
    });
    nodes[0]!.addPeer('async1:7710');
    for (const [i, node] of nodes.entries()) {
      const other = ids[1 - i]!;
      await waitFor(`node ${i} to know the other`, () => node.status().network!.nodes.find((k) => k.id === other));
    }
    expect(nodes[0]!.status().network!.refusals).toEqual({});
  });

  it('stretches the refresh interval with the known nodes: 30 s up to 60 nodes, then 0.5 s per node', () => {
    expect([1, 20, 60, 100, 1000, 4096].map(refreshInterval)).toEqual([30_000, 30_000, 30_000, 50_000, 500_000, 2_048_000]);
  });
});

describe('the cap on remembered nodes', () => {
  it('holds under a flood of fresh, validly signed ids (in-memory transport, manual clock)', async () => {
    const network = new MemoryNetwork();
    const [victimId, flooderId] = testIds(2) as [string, string];
    const clock = 0;
    const victimTransport = new MemoryTransport(network, victimId, 'victim:7710');
    const maxKnown = 40;
    const victim = new DriftNode({
      id: victimId,
      name: 'victim',
      transport: victimTransport,
      params: { alpha: 0, beta: 0.1, gamma: 0 },
      cycleMs: 100,
      maxPeers: 8,
      initial: { drift: [0, 0], vu: 1, tc: 1, cycle: 0 },
      now: () => clock,
      memory: { crypto: authFor(victimId), maxKnown, gossipIntervalMs: 20 },
    });
    cleanups.push(() => victim.stop());
    const flooder = new MemoryTransport(network, flooderId, 'flood:7710');
    let link: Link | null = null;
    let answered = 0;
    flooder.setHandler({
      onLink: (l) => {
        link = l;
        l.send(JSON.stringify({ type: 'hello', v: 2, id: flooder.localId, name: 'flood', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0, feat: [FEATURE_MEMORY] }));
      },
      onFrame: (_l, frame) => {
        if (typeof frame !== 'string' || !frame.includes('"type":"mdig"')) return;
        // Every digest is answered with 12 records of brand-new identities (the clock stands still: none goes stale to make room).
        answered++;
        void Promise.all(
          Array.from({ length: 12 }, () => {
            const crypto = nodeHandshakeCrypto(createIdentity());
            return signRecord({ name: 'sybil', drift: [0, 0], tc: 1, cycle: 1, peers: [], seq: 1 }, crypto);
          }),
        ).then((records) => link?.send(recordsFrame(records.map((record) => ({ record, ageMs: 0 })))));
      },
      onUnlink: () => {
        link = null;
      },
    });
    victim.start();
    await flooder.dial('victim:7710');
    await waitFor('the book to fill and refuse', () => (victim.status().network!.refusals['book-full'] ?? 0) >= 24, 60_000);
    const status = victim.status().network!;
    expect(status.nodes.length).toBeLessThanOrEqual(maxKnown);
    expect(answered).toBeGreaterThan(maxKnown / 12);
  }, TEST_MS);
});

describe('network memory across stops, restarts and a lost state (node processes)', () => {
  it(
    'a stopped node stays visible from its holders, marked offline; holders keep copies across restarts; a node whose state was lost continues from its copy',
    async () => {
      const dirs = ['a', 'b', 'c', 'd'].map((name) => tempDir(`lvs-mem-${name}-`));
      for (const dir of dirs) cleanups.push(() => dir.remove());
      const common = ['--port', '0', '--cycle-ms', '100'];
      const a = await startNode([...common, '--data-dir', dirs[0]!.path, '--drift', '40,30']);
      const others = await Promise.all(
        dirs.slice(1).map((dir, i) => startNode([...common, '--data-dir', dir.path, '--drift', `${41 + i},${29 - i}`, '--peer', `127.0.0.1:${a.port}`])),
      );
      const [b, c, d] = others as [NodeProcess, NodeProcess, NodeProcess];
      const all = [a, b, c, d];
      const view = async (p: NodeProcess) => (await p.status()).network!;
      const knownBy = async (p: NodeProcess, id: string) => (await view(p)).nodes.find((k) => k.id === id);
      // N = 4 and R = 3: every node holds the copies of the three others.
      for (const p of all) await waitFor(`${p.id} to know all four and hold three copies`, async () => {
        const v = await view(p);
        return v.nodes.length === 4 && v.nodes.filter((k) => k.held).length === 3;
      }, 60_000);

      // D's identity is backed up; D stops. A saw it leave: offline. B and C, holders not linked to it, still show it.
      const backup = path.join(dirs[3]!.path, '..', `${path.basename(dirs[3]!.path)}-identity.json`);
      cleanups.push(() => fs.rmSync(backup, { force: true }));
      // The record to continue from is one D signed once linked and converged (its first one, signed at start, had neither).
      const lastRecord = await waitFor('a record of D, linked and converged, held by A', async () => {
        const k = await knownBy(a, d.id);
        const own = (await a.status()).state.drift;
        return k && k.peers.includes(a.id) && Math.hypot(k.drift[0] - own[0], k.drift[1] - own[1]) < 0.5 ? k : null;
      }, 60_000);
      for (const p of [b, c]) await waitFor(`${p.id} to hold that record`, async () => ((await knownBy(p, d.id))?.seq ?? 0) >= lastRecord.seq);
      d.child.kill('SIGINT');
      expect(await d.exited).toBe(0);
      expect(await identityCommand(['export', backup, '--data-dir', dirs[3]!.path])).toBe(0);
      await waitFor('A to mark D offline', async () => (await knownBy(a, d.id))?.status === 'offline');
      for (const p of [b, c]) expect(await knownBy(p, d.id)).toMatchObject({ held: true });

      // The holders stop and come back, alone (A and C stay down): B shows D from its store, before any peer could tell it.
      for (const p of [a, b, c]) p.child.kill('SIGINT');
      for (const p of [a, b, c]) expect(await p.exited).toBe(0);
      const stored = JSON.parse(fs.readFileSync(path.join(dirs[1]!.path, 'lvs-node.json'), 'utf8')) as { memory: { copies: Array<{ rec: { id: string } }> } };
      expect(stored.memory.copies.map((c) => c.rec.id)).toContain(d.id);
      const b2 = await startNode([...common, '--data-dir', dirs[1]!.path]);
      const kept = await waitFor('B to show D from its store', () => knownBy(b2, d.id));
      expect(kept).toMatchObject({ held: true, seq: expect.any(Number) });
      expect((await b2.status()).peers.filter((p) => p.connected)).toEqual([]);

      // D's state is lost: a new data dir with its identity imported. Started next to B, it continues from B's copy.
      const fresh = tempDir('lvs-mem-d2-');
      cleanups.push(() => fresh.remove());
      expect(await identityCommand(['import', backup, '--data-dir', fresh.path])).toBe(0);
      const startedAt = Date.now();
      const d2 = await startNode([...common, '--data-dir', fresh.path, '--peer', `127.0.0.1:${b2.port}`]);
      expect(d2.id).toBe(d.id);
      const restored = await waitFor('D to restore', async () => {
        const s = await d2.status();
        return s.network!.restore.state === 'restored' ? s : null;
      }, 60_000);
      const restoreMs = Date.now() - startedAt;
      expect(restored.network!.restore.seq).toBeGreaterThanOrEqual(lastRecord.seq);
      // The cycle goes on from the copy's (not from 0), and the drift is the copy's, within a few cycles of noise (far from a fresh [0, 0]).
      expect(restored.cycle).toBeGreaterThanOrEqual(restored.network!.restore.cycle!);
      expect(restored.network!.restore.cycle!).toBeGreaterThanOrEqual(lastRecord.cycle);
      expect(restored.network!.restore.seq).toBe(kept.seq);
      expect(Math.hypot(restored.state.drift[0] - kept.drift[0], restored.state.drift[1] - kept.drift[1])).toBeLessThan(1);
      expect(Math.hypot(...restored.state.drift)).toBeGreaterThan(10); // gravity (gamma) pulls the cloud in slowly, never this far
      expect(restoreMs).toBeLessThan(60_000);
      // Its next record is newer than the copy, so the network takes it.
      await waitFor('B to take D\'s new record', async () => ((await knownBy(b2, d.id))?.seq ?? 0) > lastRecord.seq);
    },
    TEST_MS,
  );
});
