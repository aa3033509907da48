/**
 * A hand-driven signaling + WebRTC endpoint for attack tests: it says
 * whatever hello it is told to, sets up a real node-datachannel connection
 * (ICE on 127.0.0.1) and hands out the DataChannel's frames, without any of
 * the transport's rules. A relay in the middle is two of these back to back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataChannel } from 'node-datachannel';
import { WebSocket, WebSocketServer } from 'ws';
import { acquireNative, type NativeLease, type NativePeer } from '../../main/transport/native.js';

export interface RawLeg {
  /** The hello the other side sent. */
  readonly peerHello: Record<string, unknown>;
  readonly peer: NativePeer;
  /** Resolves with the open DataChannel. */
  readonly channel: Promise<DataChannel>;
  /** Every text frame received on the DataChannel, in order. */
  readonly frames: string[];
  /** Resolves with the next frame (or one already received and not yet taken). */
  nextFrame(): Promise<string>;
  /** How the signaling WebSocket closed, once it has. */
  readonly wsClosed: Promise<{ code: number; reason: string }>;
  /** Every description and candidate frame this leg sent ('out') and received ('in'), in order. */
  readonly signals: Array<{ dir: 'in' | 'out'; type: string; candidate?: string; sdp?: string }>;
  close(): void;
}

const legs: RawLeg[] = [];
let lease: NativeLease | null = null;

function nativeLease(): NativeLease {
  lease ??= acquireNative();
  return lease;
}

/** Closes every leg and gives the native lease back (call in afterEach). */
export async function closeRawPeers(): Promise<void> {
  for (const leg of legs.splice(0)) leg.close();
  const l = lease;
  lease = null;
  await l?.release();
}

function makeLeg(ws: WebSocket, peerHello: Record<string, unknown>, role: 'dialer' | 'acceptor', mangle: (sdp: string) => string = (sdp) => sdp): RawLeg {
  const frames: string[] = [];
  const waiting: Array<(frame: string) => void> = [];
  let taken = 0;
  const peer = nativeLease().createPeer(`raw-${role}`, { iceServers: [], bindAddress: '127.0.0.1' }, () => {});
  const wsClosed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const signals: RawLeg['signals'] = [];
  const send = (frame: { type: string; candidate?: string; [field: string]: unknown }): void => {
    signals.push({
      dir: 'out',
      type: frame.type,
      ...(frame.candidate !== undefined ? { candidate: frame.candidate } : {}),
      ...(typeof frame.sdp === 'string' ? { sdp: frame.sdp } : {}),
    });
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };
  peer.pc.onLocalDescription((sdp, type) => send({ type: type.toLowerCase(), sdp: mangle(sdp) }));
  peer.pc.onLocalCandidate((candidate, mid) => send({ type: 'candidate', candidate, mid }));
  let resolveChannel!: (dc: DataChannel) => void;
  const channel = new Promise<DataChannel>((resolve) => {
    resolveChannel = resolve;
  });
  const wire = (dc: DataChannel): void => {
    dc.onMessage((msg) => {
      if (typeof msg !== 'string') return;
      frames.push(msg);
      const w = waiting.shift();
      if (w) {
        taken++;
        w(msg);
      }
    });
    dc.onOpen(() => resolveChannel(dc));
    if (dc.isOpen()) resolveChannel(dc);
  };
  if (role === 'dialer') wire(peer.createDataChannel('lvs', {}));
  else
    peer.pc.onDataChannel((dc) => {
      peer.adoptChannel(dc);
      wire(dc);
    });
  ws.on('message', (data) => {
    let frame: { type?: string; sdp?: string; candidate?: string; mid?: string };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (frame.type === 'offer' || frame.type === 'answer' || frame.type === 'candidate') {
      signals.push({
        dir: 'in',
        type: frame.type,
        ...(frame.candidate !== undefined ? { candidate: frame.candidate } : {}),
        ...(frame.sdp !== undefined ? { sdp: frame.sdp } : {}),
      });
    }
    try {
      if (frame.type === 'offer' || frame.type === 'answer') peer.pc.setRemoteDescription(frame.sdp!, frame.type);
      else if (frame.type === 'candidate') peer.pc.addRemoteCandidate(frame.candidate!, frame.mid!);
    } catch {
      // a bad candidate is not our concern here
    }
  });
  const leg: RawLeg = {
    peerHello,
    peer,
    channel,
    frames,
    wsClosed,
    signals,
    nextFrame: () =>
      taken < frames.length
        ? Promise.resolve(frames[taken++]!)
        : new Promise<string>((resolve) => {
            waiting.push(resolve);
          }),
    close: () => {
      ws.terminate();
      peer.close();
    },
  };
  legs.push(leg);
  return leg;
}

/** Dials `address`'s /signal, sends `hello`, and once the node's hello arrives offers a DataChannel. */
export async function rawDial(address: string, hello: object): Promise<RawLeg> {
  const ws = new WebSocket(`ws://${address}/signal`, { perMessageDeflate: false });
  ws.on('error', () => {});
  const peerHello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify(hello)));
    ws.once('message', (data) => resolve(JSON.parse(data.toString())));
    ws.once('close', (code) => reject(new Error(`signaling closed with ${code} before a hello`)));
  });
  return makeLeg(ws, peerHello, 'dialer');
}

/**
 * A /signal endpoint that answers a dialer with a hello made from the dialer's
 * hello, and accepts its offer. `legs` resolves with the first session,
 * `all` lists every session; `mangleAnswer` may rewrite the answer of the
 * n-th session (0-based) before it is sent.
 */
export async function rawListen(
  makeHello: (dialerHello: Record<string, unknown>) => object | Promise<object>,
  options: { mangleAnswer?: (sdp: string, session: number) => string } = {},
): Promise<{ address: string; legs: Promise<RawLeg>; all: RawLeg[]; close(): Promise<void> }> {
  const all: RawLeg[] = [];
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  let resolveLeg!: (leg: RawLeg) => void;
  const legPromise = new Promise<RawLeg>((resolve) => {
    resolveLeg = resolve;
  });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.once('message', async (data) => {
        const dialerHello = JSON.parse(data.toString()) as Record<string, unknown>;
        const session = all.length;
        const leg = makeLeg(ws, dialerHello, 'acceptor', options.mangleAnswer ? (sdp) => options.mangleAnswer!(sdp, session) : undefined);
        all.push(leg);
        ws.send(JSON.stringify(await makeHello(dialerHello)));
        resolveLeg(leg);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    legs: legPromise,
    all,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
