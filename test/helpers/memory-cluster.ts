import { DriftNode, type DriftNodeOptions } from '../../main/node/drift-node.js';
import { seededRandom } from '../../main/model/prng.js';
import { MemoryNetwork, MemoryTransport } from '../../main/transport/memory.js';
import type { Link, TransportHandler } from '../../main/transport/transport.js';

/** Ids in the node id format, ordered A < B < C ... */
export function testId(n: number): string {
  const c = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n]!;
  return `${c.repeat(7)}-${c.repeat(7)}-${c.repeat(7)}-${c.repeat(5)}`;
}

export function makeNode(
  network: MemoryNetwork,
  n: number,
  drift: [number, number],
  overrides: Partial<DriftNodeOptions> = {},
): { node: DriftNode; transport: MemoryTransport } {
  const transport = new MemoryTransport(network, testId(n), `node${n}:7710`);
  const node = new DriftNode({
    id: testId(n),
    name: `node${n}`,
    transport,
    params: { alpha: 0, beta: 0.1, gamma: 0 },
    cycleMs: 100,
    maxPeers: 8,
    initial: { drift, vu: 1, tc: 1, cycle: 0 },
    random: seededRandom(1000 + n),
    ...overrides,
  });
  return { node, transport };
}

/** A bare transport endpoint with no node: tests speak raw frames through it. */
export function rawPeer(network: MemoryNetwork, n: number) {
  const transport = new MemoryTransport(network, testId(n), `raw${n}:7710`);
  const received: string[] = [];
  const links: Link[] = [];
  const handler: TransportHandler = {
    onLink: (link) => links.push(link),
    onFrame: (_link, frame) => received.push(typeof frame === 'string' ? frame : '<binary>'),
    onUnlink: () => {},
  };
  transport.setHandler(handler);
  return { transport, received, links };
}

/** The k-th id of a family of valid node ids (k < 32^5): for tests that need many distinct peers. */
export function indexedId(k: number, prefix = 'MANYIDS'): string {
  const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digits = Array.from({ length: 5 }, (_, i) => B32[Math.floor(k / 32 ** (4 - i)) % 32]).join('');
  return `${prefix}-${prefix}-${prefix}-${digits}`;
}
