/**
 * Measures a node from outside through any Transport (the native one or a
 * browser tab's), for the benchmarks: how long a dial takes until the link
 * is proven, and how long one frame takes there and back on an open link
 * (`sync` out, the node's `state` back: a node answers a sync at once).
 * Pure: the same code runs in Node and, bundled, in a browser page.
 */
import { PROTOCOL_VERSION } from '../model/limits.js';
import type { Link, Transport } from './transport.js';

export interface ProbeTimes {
  /** Milliseconds from dial() to the proven link, one per dial. */
  setupMs: number[];
  /** Milliseconds from a `sync` sent to the `state` received, one per round trip. */
  roundTripMs: number[];
}

/**
 * Dials `address` `dials` times in a row (each link closed before the next
 * dial, `gapMs` apart; `transports()` gives each dial a transport of its own,
 * so every link is a first contact), then on one more link times `roundTrips` sync/state
 * round trips, one at a time.
 */
export async function probeNode(address: string, transports: () => Transport | Promise<Transport>, dials: number, roundTrips: number, gapMs = 0, now: () => number = () => performance.now()): Promise<ProbeTimes> {
  const setupMs: number[] = [];
  for (let i = 0; i < dials; i++) {
    // A node's port takes only so many new sessions per second from one address (docs/security.md): stay under it.
    if (i > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const t = await transports();
    let linked: Link | null = null;
    t.setHandler({ onLink: (l) => (linked = l), onFrame() {}, onUnlink() {} });
    const t0 = now();
    await t.dial(address);
    setupMs.push(now() - t0);
    (linked as Link | null)?.close('probe done');
    await t.shutdown();
  }
  const roundTripMs: number[] = [];
  const t = await transports();
  let waiting: ((frame: string) => void) | null = null;
  let link: Link | null = null;
  t.setHandler({
    onLink: (l) => (link = l),
    onFrame: (_l, frame) => {
      if (typeof frame === 'string' && frame.includes('"type":"state"')) waiting?.(frame);
    },
    onUnlink() {},
  });
  await t.dial(address);
  const open = link as Link | null;
  if (!open) throw new Error('probe: no link');
  // The node answers frames only after our hello; its own hello and first state come first.
  open.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, id: t.localId, name: 'probe', state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0 }));
  await new Promise<void>((resolve) => (waiting = () => resolve()));
  for (let i = 0; i < roundTrips; i++) {
    const got = new Promise<void>((resolve) => (waiting = () => resolve()));
    const t0 = now();
    open.send(JSON.stringify({ type: 'sync', v: PROTOCOL_VERSION }));
    await got;
    roundTripMs.push(now() - t0);
  }
  open.close('probe done');
  await t.shutdown();
  return { setupMs, roundTripMs };
}
