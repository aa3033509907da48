/**
 * docs/protocol.md's own examples, run through the node's parsers, the
 * handshake checker and a node: the spec cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveNetworkKey, nodeHandshakeCrypto } from '../main/identity/handshake-crypto.js';
import { checkIdentity, idFromPublicKey } from '../main/identity/identity.js';
import { buildAuthFrame, checkAuthFrame, type AuthContext } from '../main/protocol/handshake.js';
import { nodeIdPattern, parseFrame } from '../main/protocol/messages.js';
import { parseSignalFrame } from '../main/transport/signaling.js';
import { DriftNode } from '../main/node/drift-node.js';
import { MemoryNetwork, MemoryTransport } from '../main/transport/memory.js';
import { seededRandom } from '../main/model/prng.js';

const spec = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

function examples(kind: string): string[] {
  const found = [...spec.matchAll(new RegExp(`<!-- example: ${kind} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'g'))].map((m) => m[1]!);
  expect(found.length, `examples of ${kind}`).toBeGreaterThan(0);
  return found;
}

describe('docs/protocol.md examples', () => {
  it('every signaling example parses', () => {
    for (const text of examples('signal')) expect(parseSignalFrame(text), text).toMatchObject({ ok: true });
  });

  it('every DataChannel example parses', () => {
    for (const text of examples('frame')) expect(parseFrame(text), text).toMatchObject({ ok: true });
  });

  it('the worked handshake verifies both ways, is reproduced exactly, and needs the network key it names', async () => {
    const vector = JSON.parse(examples('auth-vector')[0]!) as {
      dialerIdentity: { id: string; publicKey: string; privateKey: string };
      acceptorIdentity: { id: string; publicKey: string; privateKey: string };
      context: AuthContext;
      dialerAuth: object;
      acceptorAuth: object;
      dialerAuthWithNetworkKey: object;
      networkPassphrase: string;
    };
    const dialer = checkIdentity(vector.dialerIdentity)!;
    const acceptor = checkIdentity(vector.acceptorIdentity)!;
    expect(dialer).not.toBeNull();
    expect(acceptor).not.toBeNull();
    expect(dialer.id).toMatch(nodeIdPattern);
    expect(idFromPublicKey(dialer.publicKey)).toBe(vector.context.dialerId);
    const c = vector.context;
    const dialerFrame = JSON.stringify(vector.dialerAuth);
    const acceptorFrame = JSON.stringify(vector.acceptorAuth);
    await expect(checkAuthFrame(dialerFrame, 'acceptor', c, nodeHandshakeCrypto(acceptor))).resolves.toMatchObject({ ok: true });
    await expect(checkAuthFrame(acceptorFrame, 'dialer', c, nodeHandshakeCrypto(dialer))).resolves.toMatchObject({ ok: true });
    // Ed25519 is deterministic: our own signer produces the published frames byte for byte.
    expect(await buildAuthFrame('dialer', c, nodeHandshakeCrypto(dialer))).toBe(dialerFrame);
    expect(await buildAuthFrame('acceptor', c, nodeHandshakeCrypto(acceptor))).toBe(acceptorFrame);
    const key = deriveNetworkKey(vector.networkPassphrase);
    const keyed = JSON.stringify(vector.dialerAuthWithNetworkKey);
    expect(await buildAuthFrame('dialer', c, nodeHandshakeCrypto(dialer, key))).toBe(keyed);
    await expect(checkAuthFrame(keyed, 'acceptor', c, nodeHandshakeCrypto(acceptor, key))).resolves.toMatchObject({ ok: true });
    await expect(checkAuthFrame(dialerFrame, 'acceptor', c, nodeHandshakeCrypto(acceptor, key))).resolves.toMatchObject({ ok: false, reason: 'network-key-missing' });
    // The transcript printed in the spec is the one that was signed.
    const transcript = /The dialer's transcript for it is:\n\n```\n([\s\S]*?)\n```/.exec(spec)![1]!;
    expect(transcript.split('\n')).toHaveLength(8);
    expect(transcript).toContain(`dialer-nonce ${c.dialerNonce}`);
  });

  it('a node fed the DataChannel examples in order keeps the replica they describe and rejects none', async () => {
    const frames = examples('frame').map((text) => JSON.parse(text) as { type: string; id?: string; diff?: [number, number] });
    const senderId = frames.find((f) => f.type === 'hello')!.id!;
    const network = new MemoryNetwork({ autoDeliver: false });
    const transport = new MemoryTransport(network, 'MNOPQRS-MNOPQRS-MNOPQRS-MNOPQ', 'node:7710');
    const node = new DriftNode({
      id: transport.localId,
      name: 'spec',
      transport,
      params: { alpha: 0.05, beta: 0.1, gamma: 0.001 },
      cycleMs: 100,
      maxPeers: 8,
      initial: { drift: [0, 0], vu: 1, tc: 1, cycle: 0 },
      random: seededRandom(1),
    });
    const sender = new MemoryTransport(network, senderId, 'sender:7710');
    sender.setHandler({ onLink() {}, onFrame() {}, onUnlink() {} });
    await sender.dial('node:7710');
    const link = sender.linkTo(transport.localId)!;
    for (const frame of frames.filter((f) => f.type !== 'bye')) link.send(JSON.stringify(frame));
    network.deliverAll();
    const peer = node.status().peers.find((p) => p.id === senderId)!;
    const diffs = frames.filter((f) => f.type === 'sdm').map((f) => f.diff!);
    expect(peer.drift![0]).toBeCloseTo(5 + diffs.reduce((s, d) => s + d[0], 0), 12);
    expect(peer.drift![1]).toBeCloseTo(1 + diffs.reduce((s, d) => s + d[1], 0), 12);
    expect(peer.name).toBe('kitchen-AYZO');
    expect(peer.rejects).toEqual({});
    link.send(JSON.stringify(frames.find((f) => f.type === 'bye')));
    network.deliverAll();
    expect(node.status().peers.find((p) => p.id === senderId)!.connected).toBe(false);
    await node.stop();
  });
});
