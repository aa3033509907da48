/**
 * Attacks on the relay and on a browser node's relayed sessions
 * (docs/security.md "Browser nodes and the relay"). The node side runs the
 * real DriftNode over the in-memory transport with a manual clock, the
 * "tabs" are raw endpoints that say exactly what the test tells them, so
 * every forwarded frame can be counted. The browser side runs the real
 * BrowserTransport in Node, driven through its relay seam (deliverRelayed /
 * setRelay), up to the point where a session would need a peer connection.
 */
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentity } from '../main/identity/identity.js';
import { nodeHandshakeCrypto } from '../main/identity/handshake-crypto.js';
import { MAX_FRAME_BYTES, MAX_RELAYED_SESSIONS, MAX_RELAYED_SESSIONS_PER_PEER, MAX_REMOTE_CANDIDATES, RELAY_FRAMES_BURST } from '../main/model/limits.js';
import type { DriftNode } from '../main/node/drift-node.js';
import { BROWSER_FEATURES, OWN_FEATURES } from '../main/protocol/messages.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import type { Link } from '../main/transport/transport.js';
import type { SignalFrame } from '../main/protocol/signal-frames.js';
import { BrowserTransport } from '../web/node/browser-transport.js';
import { makeNode, rawPeer, testId } from './helpers/memory-cluster.js';

const NONCE = 'q3vX0Zb7m9Lr2sT4uV6wY8zA1cE3gI5kM7oQ9sU1wY0';

interface Sig {
  type: 'sig';
  sid: string;
  to?: string;
  from?: string;
  body?: Record<string, unknown>;
  end?: { code: number; reason: string };
}

function signalHello(id: string): SignalFrame {
  return { type: 'hello', v: 2, id, instance: 'inst-0001', nonce: NONCE };
}

/** A hub (a native DriftNode) and a manual clock; `tab(n)` links a raw endpoint that claims to be a browser node. */
function relayBench() {
  const network = new MemoryNetwork({ autoDeliver: false });
  const clock = { now: 0 };
  const hub = makeNode(network, 0, [0, 0], { now: () => clock.now }).node;
  const deliver = (): number => network.deliverAll();
  async function endpoint(n: number, feat: readonly string[], kind?: 'browser') {
    const raw = rawPeer(network, n);
    await raw.transport.dial('node0:7710');
    const link = raw.transport.linkTo(hub.id)!;
    const id = testId(n);
    const say = (frame: object): boolean => link.send(JSON.stringify(frame));
    say({ type: 'hello', v: 2, id, name: `tab${n}`, state: { drift: [0, 0], vu: 1, tc: 1 }, seq: 0, feat: [...feat], ...(kind ? { kind } : {}) });
    deliver();
    /** The sig frames the hub delivered to this endpoint so far (and forgets them). */
    const sigs = (): Sig[] => {
      const out = raw.received.filter((f) => f.includes('"type":"sig"')).map((f) => JSON.parse(f) as Sig);
      raw.received.length = 0;
      return out;
    };
    const rawSigs = (): string[] => raw.received.filter((f) => f.includes('"type":"sig"'));
    return { id, link, say, sigs, rawSigs };
  }
  const tab = (n: number) => endpoint(n, BROWSER_FEATURES, 'browser');
  const heldOff = (node: DriftNode): string[] => node.status().heldOff.map((h) => h.id);
  return { network, clock, hub, deliver, tab, endpoint, heldOff };
}

describe('the relay (a native node forwarding sig frames between its browser peers)', () => {
  it('forwards a signaling frame between two tabs with `from` set to the proven sender', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    const y = await b.tab(2);
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: y.id, body: signalHello(x.id) });
    b.deliver();
    const got = y.sigs();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ sid: 'session-0001', from: x.id, body: { type: 'hello', id: x.id } });
    expect(got[0]!.to).toBeUndefined();
    expect(b.hub.status().relay.forwarded).toBe(1);
  });

  it('forwards only the frame it checked: unknown fields are dropped, so what comes out is never larger than the frame cap', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    const y = await b.tab(2);
    // 1e20 is 4 characters on the wire and 21 once re-encoded: a frame under the cap would come out five times over it.
    const junk = Array.from({ length: 2900 }, () => 1e20);
    const frame = `{"type":"sig","v":2,"sid":"session-0001","to":"${y.id}","body":{"type":"candidate","candidate":"a=candidate:1 1 UDP 1 10.0.0.1 5000 typ host","mid":"0","junk":[${junk.map(() => '1e20').join(',')}]}}`;
    expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    x.link.send(frame);
    b.deliver();
    const out = y.rawSigs();
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(Object.keys((JSON.parse(out[0]!) as Sig).body!).sort()).toEqual(['candidate', 'mid', 'type']);
  });

  it('refuses a relayed hello that claims an id other than its sender, and charges the sender for it', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    const y = await b.tab(2);
    const z = await b.tab(3);
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: y.id, body: signalHello(z.id) });
    b.deliver();
    expect(y.sigs()).toEqual([]);
    expect(b.hub.status().relay.dropped).toMatchObject({ 'hello-not-sender': 1 });
    expect(b.hub.status().peers.find((p) => p.id === x.id)!.trust).toBeLessThan(0.5);
  });

  it('does not reflect a frame back to its own sender, nor to itself', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: x.id, body: signalHello(x.id) });
    x.say({ type: 'sig', v: 2, sid: 'session-0002', to: b.hub.id, body: signalHello(x.id) });
    b.deliver();
    expect(x.sigs()).toEqual([]);
    expect(b.hub.status().relay.forwarded).toBe(0);
    expect(b.hub.status().relay.dropped).toMatchObject({ 'target-is-sender': 1, 'target-not-linked': 1 });
  });

  it('a flood between two tabs: at most the burst is forwarded, one frame out per frame in, and the flooder is cut off; the target stays', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    const y = await b.tab(2);
    let sent = 0;
    for (; sent < 1000 && x.link.isOpen; sent++) {
      x.say({ type: 'sig', v: 2, sid: `flood-${String(sent).padStart(6, '0')}`, to: y.id, body: signalHello(x.id) });
      if (sent % 10 === 9) b.deliver();
    }
    b.deliver();
    expect(y.sigs().length).toBe(RELAY_FRAMES_BURST);
    expect(x.link.isOpen).toBe(false);
    expect(sent).toBeLessThan(RELAY_FRAMES_BURST + 100);
    expect(b.hub.status().heldOff.find((h) => h.id === x.id)!.reason).toMatch(/relayed signaling \(rate\)/);
    expect(b.hub.isLinked(y.id)).toBe(true);
  });

  it('a flood aimed at ids it does not hold is rate-limited and cut off like any other flood', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    let sent = 0;
    for (; sent < 1000 && x.link.isOpen; sent++) {
      x.say({ type: 'sig', v: 2, sid: `flood-${String(sent).padStart(6, '0')}`, to: testId(20 + (sent % 5)), body: signalHello(x.id) });
      if (sent % 10 === 9) b.deliver();
    }
    b.deliver();
    expect(x.link.isOpen).toBe(false);
    expect(b.heldOff(b.hub)).toContain(x.id);
  });

  it('an attacker cannot get an honest tab cut off by making it answer: answers within a session the far end opened cost the answerer no trust', async () => {
    const b = relayBench();
    const v = await b.tab(1);
    const attackers = [await b.tab(2), await b.tab(3)];
    // Each attacker opens as many sessions to the victim as its own budget allows; the victim answers every hello it is given.
    for (let i = 0; i < RELAY_FRAMES_BURST; i++) for (const a of attackers) a.say({ type: 'sig', v: 2, sid: `open-${String(i).padStart(6, '0')}`, to: v.id, body: signalHello(a.id) });
    b.deliver();
    const hellos = v.sigs().filter((s) => s.body?.type === 'hello');
    expect(hellos.length).toBe(2 * RELAY_FRAMES_BURST);
    for (const h of hellos) v.say({ type: 'sig', v: 2, sid: h.sid, to: h.from, body: signalHello(v.id) });
    b.deliver();
    expect(b.heldOff(b.hub)).not.toContain(v.id);
    expect(b.hub.isLinked(v.id)).toBe(true);
    expect(b.hub.status().peers.find((p) => p.id === v.id)!.trust).toBeGreaterThanOrEqual(0.5);
    // The answers beyond the victim's own budget were dropped and counted, not forwarded.
    expect(b.hub.status().relay.dropped['rate']).toBe(RELAY_FRAMES_BURST);
  });

  it('a node that takes no relayed signaling counts delivered frames as offences (an honest relay never sends them)', async () => {
    const b = relayBench();
    // A peer that claims to relay and delivers "relayed" frames to a native node, which never asked for any.
    const r = await b.endpoint(1, OWN_FEATURES);
    let sent = 0;
    for (; sent < 500 && r.link.isOpen; sent++) {
      r.say({ type: 'sig', v: 2, sid: `deliver-${String(sent).padStart(6, '0')}`, from: testId(9), body: signalHello(testId(9)) });
      if (sent % 10 === 9) b.deliver();
    }
    b.deliver();
    expect(r.link.isOpen).toBe(false);
    expect(b.hub.status().relay.dropped['not-relayed']).toBeGreaterThan(0);
  });

  it('refuses to relay for a peer that did not say `relayed`, or to a peer that did not', async () => {
    const b = relayBench();
    const native = await b.endpoint(1, OWN_FEATURES);
    const y = await b.tab(2);
    native.say({ type: 'sig', v: 2, sid: 'session-0001', to: y.id, body: signalHello(native.id) });
    y.say({ type: 'sig', v: 2, sid: 'session-0002', to: native.id, body: signalHello(y.id) });
    b.deliver();
    expect(y.sigs()).toEqual([]);
    expect(native.sigs()).toEqual([]);
    expect(b.hub.status().relay.dropped).toMatchObject({ 'sender-not-relayed': 1, 'target-not-relayed': 1 });
  });

  it('a tab cannot have a native node relay for it (a tab relays nothing)', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: testId(5), from: testId(6), body: signalHello(x.id) });
    x.say({ type: 'sig', v: 2, sid: 'session-0001', body: signalHello(x.id) });
    x.say({ type: 'sig', v: 2, sid: 'short', to: testId(5), body: signalHello(x.id) });
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: testId(5), body: { type: 'offer', sdp: 'x'.repeat(MAX_FRAME_BYTES) } });
    x.say({ type: 'sig', v: 2, sid: 'session-0001', to: testId(5), body: { type: 'hello', v: 2, id: x.id } });
    b.deliver();
    expect(b.hub.status().peers.find((p) => p.id === x.id)!.rejects).toMatchObject({ 'invalid-fields': 4, 'frame-too-large': 1 });
    expect(b.hub.status().relay.forwarded).toBe(0);
  });
});

describe('nbrs lists', () => {
  it('keep each id once and never the sender itself', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    const other = testId(7);
    const peers = [...Array.from({ length: 60 }, () => ({ id: other, d: [1, 1], k: 'browser' })), { id: x.id, d: null }, { id: testId(8), d: null }];
    x.say({ type: 'nbrs', v: 2, peers });
    b.deliver();
    expect(b.hub.neighboursOf(x.id)!.map((n) => n.id)).toEqual([other, testId(8)]);
  });

  it('earn no trust: a liar that sends a list with every lie is still cut off', async () => {
    const network = new MemoryNetwork({ autoDeliver: false });
    const clock = { now: 0 };
    const nodes = Array.from({ length: 4 }, (_, i) => makeNode(network, i, [i - 2, 2 - i], { params: { alpha: 0.05, beta: 0.1, gamma: 0.001 }, now: () => clock.now }));
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await nodes[i]!.transport.dial(`node${j}:7710`);
    const liar = rawPeer(network, 9);
    for (let i = 0; i < 4; i++) await liar.transport.dial(`node${i}:7710`);
    const say = (frame: object): void => {
      for (const { node } of nodes) liar.transport.linkTo(node.id)?.send(JSON.stringify(frame));
    };
    say({ type: 'hello', v: 2, id: testId(9), name: 'liar', state: { drift: [1e5, 1e5], vu: 1, tc: 1 }, seq: 0, feat: [...BROWSER_FEATURES], kind: 'browser' });
    for (let c = 1; c <= 600; c++) {
      say({ type: 'state', v: 2, seq: c, drift: [1e5, 1e5], vu: 1, tc: 1 });
      for (let k = 0; k < 20; k++) say({ type: 'nbrs', v: 2, peers: [] });
      clock.now += 100;
      for (const { node } of nodes) node.runCycle();
      network.deliverAll();
    }
    for (const { node } of nodes) expect(node.status().heldOff.map((h) => h.id)).toContain(testId(9));
  });

  it('a liar that sends many valid frames with every lie earns trust once a cycle at most, and is still cut off', async () => {
    const network = new MemoryNetwork({ autoDeliver: false });
    const clock = { now: 0 };
    const nodes = Array.from({ length: 4 }, (_, i) => makeNode(network, i, [i - 2, 2 - i], { params: { alpha: 0.05, beta: 0.1, gamma: 0.001 }, now: () => clock.now }));
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await nodes[i]!.transport.dial(`node${j}:7710`);
    const liar = rawPeer(network, 9);
    for (let i = 0; i < 4; i++) await liar.transport.dial(`node${i}:7710`);
    const say = (frame: object): void => {
      for (const { node } of nodes) liar.transport.linkTo(node.id)?.send(JSON.stringify(frame));
    };
    say({ type: 'hello', v: 2, id: testId(9), name: 'liar', state: { drift: [1e5, 1e5], vu: 1, tc: 1 }, seq: 0 });
    let seq = 0;
    for (let c = 1; c <= 600; c++) {
      for (let k = 0; k < 21; k++) say({ type: 'state', v: 2, seq: ++seq, drift: [1e5, 1e5], vu: 1, tc: 1 });
      clock.now += 100;
      for (const { node } of nodes) node.runCycle();
      network.deliverAll();
    }
    for (const { node } of nodes) expect(node.status().heldOff.map((h) => h.id)).toContain(testId(9));
  });

  it('are refused before hello and over MAX_NBRS_ENTRIES', async () => {
    const b = relayBench();
    const x = await b.tab(1);
    x.say({ type: 'nbrs', v: 2, peers: Array.from({ length: 65 }, (_, i) => ({ id: testId(i % 26), d: null })) });
    b.deliver();
    expect(b.hub.status().peers.find((p) => p.id === x.id)!.rejects).toMatchObject({ 'invalid-fields': 1 });
    expect(b.hub.neighboursOf(x.id)).toBeNull();
  });
});

describe("a browser node's relayed sessions (BrowserTransport)", () => {
  const transports: BrowserTransport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.shutdown();
  });

  function victim() {
    const identity = createIdentity();
    const t = new BrowserTransport({ localId: identity.id, auth: nodeHandshakeCrypto(identity) });
    transports.push(t);
    const out: Array<{ via: string; to: string; sid: string; payload: { body: SignalFrame } | { end: { code: number; reason: string } } }> = [];
    t.setRelay((via, to, sid, payload) => {
      out.push({ via, to, sid, payload });
      return true;
    });
    const hello = (from: string, sid: string): void => t.deliverRelayed({ via: HUB, from, sid, body: signalHello(from), end: null });
    return { t, out, hello, id: identity.id };
  }
  const HUB = testId(0);

  it('one peer cannot take every relayed session slot: another peer still gets an answer', () => {
    const v = victim();
    const x = testId(1);
    const y = testId(2);
    for (let i = 0; i < MAX_RELAYED_SESSIONS; i++) v.hello(x, `x-session-${i}`);
    v.out.length = 0;
    v.hello(y, 'y-session-0');
    expect(v.out).toHaveLength(1);
    expect(v.out[0]).toMatchObject({ to: y, sid: 'y-session-0', payload: { body: { type: 'hello', id: v.id } } });
  });

  it('a flood of hellos from one peer is not answered frame for frame', () => {
    const v = victim();
    const x = testId(1);
    for (let i = 0; i < 100; i++) v.hello(x, `x-session-${String(i).padStart(4, '0')}`);
    const toX = v.out.filter((o) => o.to === x);
    expect(toX.length).toBeLessThanOrEqual(MAX_RELAYED_SESSIONS_PER_PEER + 1);
    expect(v.t.stats().refused['too many relayed sessions from one peer']).toBeGreaterThan(0);
  });

  it('frames of a session go only to the session their sender opened: an end for another peer\'s session is ignored', () => {
    const v = victim();
    const x = testId(1);
    const z = testId(3);
    v.hello(x, 'x-session-0');
    v.out.length = 0;
    // z names x's session id; the relay set `from` to z, so it is not x's session.
    v.t.deliverRelayed({ via: HUB, from: z, sid: 'x-session-0', body: null, end: { code: 4000, reason: 'spoofed' } });
    v.t.deliverRelayed({ via: HUB, from: x, sid: 'x-session-0', body: signalHello(x), end: null });
    // x's own session is still there: its second hello is a protocol error of that session, answered with an end.
    expect(v.out).toEqual([expect.objectContaining({ to: x, sid: 'x-session-0', payload: { end: expect.objectContaining({ code: 4000 }) } })]);
  });

  it(`ends a session that brings more than ${MAX_REMOTE_CANDIDATES} candidates`, () => {
    const v = victim();
    const x = testId(1);
    v.hello(x, 'x-session-0');
    v.out.length = 0;
    for (let i = 0; i <= MAX_REMOTE_CANDIDATES; i++) {
      v.t.deliverRelayed({ via: HUB, from: x, sid: 'x-session-0', body: { type: 'candidate', candidate: `a=candidate:${i} 1 UDP 1 10.0.0.${i} 5000 typ host`, mid: '0' }, end: null });
    }
    expect(v.out).toEqual([expect.objectContaining({ to: x, payload: { end: { code: 4000, reason: 'too many candidates' } } })]);
  });

  it('does not answer an end with an end (the far end has gone already)', () => {
    const v = victim();
    const x = testId(1);
    v.hello(x, 'x-session-0');
    v.out.length = 0;
    v.t.deliverRelayed({ via: HUB, from: x, sid: 'x-session-0', body: null, end: { code: 4004, reason: 'timeout' } });
    expect(v.out).toEqual([]);
    // The session is gone: a frame for it now opens nothing and draws nothing.
    v.t.deliverRelayed({ via: HUB, from: x, sid: 'x-session-0', body: { type: 'offer', sdp: 'v=0' }, end: null });
    expect(v.out).toEqual([]);
  });

  it('a relayed hello that names another id than the relay proved is refused', () => {
    const v = victim();
    const x = testId(1);
    v.t.deliverRelayed({ via: HUB, from: x, sid: 'x-session-0', body: signalHello(testId(4)), end: null });
    expect(v.out).toEqual([expect.objectContaining({ to: x, payload: { end: expect.objectContaining({ code: 4000 }) } })]);
    expect(v.t.stats().refused['relayed hello names another id']).toBe(1);
  });
});

/**
 * Real WebRTC between two browser nodes in this process: node-datachannel's
 * RTCPeerConnection (the libdatachannel the native node runs), bound to
 * loopback, stands in for the browser's; the test itself is the relay, so it
 * can be an honest one or a lying one.
 */
describe('two browser nodes through a relay the test plays (real WebRTC)', () => {
  class LoopbackPeerConnection extends NdcPeerConnection {
    constructor(config?: RTCConfiguration) {
      super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration);
    }
  }
  const transports: BrowserTransport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.shutdown();
  });

  function tabTransport() {
    (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection = LoopbackPeerConnection;
    const identity = createIdentity();
    const logs: string[] = [];
    const t = new BrowserTransport({ localId: identity.id, auth: nodeHandshakeCrypto(identity), log: (_level, message) => logs.push(message) });
    transports.push(t);
    const links: Link[] = [];
    t.setHandler({ onLink: (l) => links.push(l), onFrame() {}, onUnlink() {} });
    return { t, id: identity.id, links, logs };
  }
  const HUB = testId(0);

  type Rewrite = (from: string, to: string, body: SignalFrame | null) => { from: string; to: string; body: SignalFrame | null };
  /** Carries each tab's relayed frames to the tab it names (through `rewrite`, when the relay lies); counts them. */
  function relay(tabs: Array<{ t: BrowserTransport; id: string }>, rewrite: Rewrite = (from, to, body) => ({ from, to, body })) {
    const carried = { frames: 0 };
    for (const tab of tabs) {
      tab.t.setRelay((via, to, sid, payload) => {
        const out = rewrite(tab.id, to, 'body' in payload ? payload.body : null);
        const target = tabs.find((x) => x.id === out.to);
        if (!target) return false;
        carried.frames++;
        setImmediate(() => target.t.deliverRelayed({ via, from: out.from, sid, body: out.body, end: 'end' in payload ? payload.end : null }));
        return true;
      });
    }
    return carried;
  }

  it('an honest relay: the two tabs link directly and prove their ids; the relay carried signaling only', async () => {
    const a = tabTransport();
    const b = tabTransport();
    const carried = relay([a, b]);
    await expect(a.t.dial(`relay:${HUB}:${b.id}`)).resolves.toBe(b.id);
    await expect.poll(() => b.links.length, { timeout: 15_000 }).toBe(1);
    expect(a.links[0]!.peerId).toBe(b.id);
    expect(b.links[0]!.peerId).toBe(a.id);
    const before = carried.frames;
    expect(a.links[0]!.send('{"type":"sync","v":2}')).toBe(true);
    expect(carried.frames).toBe(before);
  });

  it("a relay that replays a session's frames into a new session links nobody, and the open link stays", async () => {
    const a = tabTransport();
    const b = tabTransport();
    const recorded: SignalFrame[] = [];
    relay([a, b], (from, to, body) => {
      if (from === a.id && body) recorded.push(body);
      return { from, to, body };
    });
    await a.t.dial(`relay:${HUB}:${b.id}`);
    await expect.poll(() => b.links.length, { timeout: 15_000 }).toBe(1);
    // What b says in the replayed session the replaying relay keeps to itself (a would only refuse it).
    const answers: Array<{ type: string; code?: number }> = [];
    const honest = (b.t as unknown as { relaySend: (via: string, to: string, sid: string, p: object) => boolean }).relaySend;
    b.t.setRelay((via, to, sid, payload) => {
      if (sid !== 'replayed-session') return honest(via, to, sid, payload);
      answers.push('end' in payload ? { type: 'end', code: payload.end.code } : { type: payload.body.type });
      return true;
    });
    // The same hello (with its nonce), offer and candidates, delivered again as a session of its own.
    for (const body of [...recorded]) b.t.deliverRelayed({ via: HUB, from: a.id, sid: 'replayed-session', body, end: null });
    // b answers it, but the offer's other end is a's connection of the first session, which takes no second peer: no DataChannel, the session times out.
    await expect.poll(() => answers.find((x) => x.type === 'end'), { timeout: 20_000, interval: 200 }).toBeDefined();
    expect(answers.map((x) => x.type).slice(0, 2)).toEqual(['hello', 'answer']);
    expect(answers.find((x) => x.type === 'end')!.code).toBe(4004); // its own timer (SIGNAL_TIMEOUT_MS): nothing answered on the wire
    expect(b.t.stats().proven).toBe(1);
    expect(b.links).toHaveLength(1);
    expect(b.links[0]!.isOpen).toBe(true);
    expect(a.links).toHaveLength(1);
  }, 30_000);

  it('a relay that says a third tab is calling links nobody: the caller cannot prove that id', async () => {
    const a = tabTransport();
    const b = tabTransport();
    const c = createIdentity().id;
    // To b, the relay says a's frames come from c and rewrites a's hello to name c; b's answers to "c" go to a.
    const carried = relay([a, b], (from, to, body) => {
      if (from === a.id) return { from: c, to, body: body?.type === 'hello' ? { ...body, id: c } : body };
      return { from, to: to === c ? a.id : to, body };
    });
    await expect(a.t.dial(`relay:${HUB}:${b.id}`)).rejects.toMatchObject({ code: 'protocol' });
    expect(carried.frames).toBeGreaterThan(2);
    expect(a.links).toEqual([]);
    expect(b.links).toEqual([]);
    expect(b.t.stats().proofFailures['key-does-not-match-id']).toBe(1);
  });
});

