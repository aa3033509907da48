/**
 * BrowserTransport: the Transport of a browser node (docs/browser-nodes.md).
 * Links are RTCDataChannels (`lvs`, reliable and ordered) whose peers prove
 * their ids exactly as native nodes do (main/protocol/handshake.ts, with
 * WebCrypto), set up through one of two signaling pipes:
 *
 * - a WebSocket to a node's `/signal` (the tab dials and offers, the node
 *   answers), for "host:port" addresses: the node that served the page;
 * - signaling relayed by a node both ends are linked to (`sig` frames over
 *   the relay's proven links), for "relay:<relay id>:<peer id>" addresses,
 *   and for sessions another tab opens to this one: a tab has no port, so
 *   this is how it is reached. The DataChannel itself goes straight between
 *   the two tabs; the relay carries signaling only.
 *
 * The conflict rules are the native transport's (main/transport/webrtc.ts),
 * applied once the peer has proven its id: a peer that restarted replaces
 * its old link, crossing dials keep the one dialled by the lower id, and a
 * redial replaces the link on the acceptor's side and yields on the dialer's.
 */
import {
  MAX_FRAMES_BEFORE_PROOF,
  MAX_RELAYED_SESSIONS,
  MAX_RELAYED_SESSIONS_PER_PEER,
  MAX_REMOTE_CANDIDATES,
  SIGNAL_TIMEOUT_MS,
} from '../../main/model/limits.js';
import { authContextOf, buildAuthFrame, checkAuthFrame, fingerprintFromSdp, makeNonce, type AuthContext, type AuthFailure, type HandshakeCrypto } from '../../main/protocol/handshake.js';
import { parseHostPort } from '../../main/protocol/host-port.js';
import { nodeIdPattern } from '../../main/protocol/messages.js';
import { SIGNAL_PATH, SIGNAL_VERSION, SignalClose, closeReason, encodeSignalFrame, parseSignalFrame, type SignalFrame, type SignalHello } from '../../main/protocol/signal-frames.js';
import type { RelayedSignal } from '../../main/node/drift-node.js';
import { DialError, type AdmissionHint, type Link, type Transport, type TransportHandler, type TransportStats } from '../../main/transport/transport.js';

/** A dialer whose connection dropped during its proof waits this long for the acceptor's close code (the reason), as native dialers do. */
const CLOSE_REASON_WAIT_MS = 3000;

/** Label of the one DataChannel a link uses (as on native nodes). */
const LVS_CHANNEL_LABEL = 'lvs';
/** A relayed-dial address: "relay:<relay id>:<peer id>". */
const RELAY_ADDRESS = /^relay:([A-Z2-7-]{29}):([A-Z2-7-]{29})$/;

/** Sends a relayed signaling frame through the relay `via` to its peer `to`; false if it could not be sent. */
export type RelaySender = (via: string, to: string, sid: string, payload: { body: SignalFrame } | { end: { code: number; reason: string } }) => boolean;

export interface BrowserTransportOptions {
  localId: string;
  auth: HandshakeCrypto;
  /** ICE servers for RTCPeerConnection (default none: host candidates, the LAN). */
  iceServers?: RTCIceServer[];
  /** ws: or wss: for "host:port" dials (default: wss: when the page is https:). */
  secureSignaling?: boolean;
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void;
}

/** How a session's signaling travels: a WebSocket to a node, or a relay. */
interface SignalPipe {
  send(frame: SignalFrame): void;
  /** Ends the signaling (code 1000 once the link is open, a 4xxx code for a refusal). */
  close(code: number, reason: string): void;
}

type Phase = 'signaling' | 'open' | 'closed';

interface Waiter {
  resolve(peerId: string): void;
  reject(error: DialError): void;
}

function randomId(bytes: number): string {
  return makeNonce(() => crypto.getRandomValues(new Uint8Array(bytes))).slice(0, Math.ceil((bytes * 4) / 3));
}

class Session {
  phase: Phase = 'signaling';
  peerId: string | undefined;
  peerInstance: string | undefined;
  peerNonce: string | undefined;
  dialerId: string | undefined;
  pc: RTCPeerConnection | undefined;
  dc: RTCDataChannel | undefined;
  link: BrowserLink | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly waiters: Waiter[] = [];
  readonly localNonce = makeNonce((n) => crypto.getRandomValues(new Uint8Array(n)));
  localFingerprint: string | null = null;
  remoteFingerprint: string | null = null;
  remoteDescriptionSet = false;
  readonly pendingRemote: RTCIceCandidateInit[] = [];
  readonly pendingLocal: RTCIceCandidateInit[] = [];
  remoteCandidates = 0;
  gotHello = false;
  gotOffer = false;
  gotAnswer = false;
  authSent = false;
  authReceived = false;
  /** Why the connection went while our proof was out: reported unless the acceptor's close code says more. */
  lostReason: string | undefined;
  readonly framesBeforeProof: string[] = [];
  pipe: SignalPipe | undefined;
  /** Relayed sessions: the relay, the session id and the far end as the relay proved it. */
  relay: { via: string; sid: string; from: string } | undefined;
  /** The far end ended this relayed session (an `end` came): ours is not answered with another. */
  relayEnded = false;

  constructor(
    readonly role: 'dialer' | 'acceptor',
    readonly remoteAddress: string,
    readonly dialledAddress: string | undefined,
  ) {}
}

class BrowserLink implements Link {
  constructor(
    readonly peerId: string,
    readonly peerInstance: string,
    readonly dialledAddress: string | undefined,
    readonly remoteAddress: string,
    private readonly s: Session,
    private readonly closeLink: (s: Session, reason: string) => void,
  ) {}

  get isOpen(): boolean {
    return this.s.phase === 'open' && this.s.dc?.readyState === 'open';
  }

  send(frame: string): boolean {
    if (typeof frame !== 'string' || !this.isOpen) return false;
    try {
      this.s.dc!.send(frame);
      return true;
    } catch {
      return false;
    }
  }

  close(reason: string): void {
    this.closeLink(this.s, reason);
  }
}

export class BrowserTransport implements Transport {
  readonly localId: string;
  readonly instance = randomId(16);
  private handler: TransportHandler = { onLink() {}, onFrame() {}, onUnlink() {} };
  private admit: (peerId: string, hint?: AdmissionHint) => boolean = () => true;
  private readonly sessions = new Set<Session>();
  private readonly links = new Map<string, Session>();
  /** Relayed sessions by "<via> <from> <sid>". */
  private readonly relayed = new Map<string, Session>();
  private relaySend: RelaySender | null = null;
  private closing = false;
  private readonly auth: HandshakeCrypto;
  private readonly iceServers: RTCIceServer[];
  private readonly secure: boolean;
  private readonly logFn: BrowserTransportOptions['log'];
  private readonly counters = { proven: 0, proofFailures: {} as Record<string, number>, refused: {} as Record<string, number> };

  constructor(options: BrowserTransportOptions) {
    this.localId = options.localId;
    this.auth = options.auth;
    this.iceServers = options.iceServers ?? [];
    this.secure = options.secureSignaling ?? (typeof location !== 'undefined' && location.protocol === 'https:');
    this.logFn = options.log;
  }

  setHandler(handler: TransportHandler): void {
    this.handler = handler;
  }

  setAdmission(admit: (peerId: string, hint?: AdmissionHint) => boolean): void {
    this.admit = admit;
  }

  /** Where relayed signaling goes out (the node's sendSignal); inbound relayed frames come in through deliverRelayed. */
  setRelay(send: RelaySender | null): void {
    this.relaySend = send;
  }

  stats(): TransportStats {
    return { proven: this.counters.proven, proofFailures: { ...this.counters.proofFailures }, refused: { ...this.counters.refused }, trackedAddresses: 0 };
  }

  // ---------------------------------------------------------------- dialling

  dial(address: string): Promise<string> {
    if (this.closing) return Promise.reject(new DialError('closed', 'transport is shut down'));
    const relay = RELAY_ADDRESS.exec(address);
    if (relay) return this.dialRelayed(address, relay[1]!, relay[2]!);
    const parsed = parseHostPort(address);
    if (!parsed.ok) return Promise.reject(new DialError('unreachable', `invalid address ${JSON.stringify(address)?.slice(0, 80)}: ${parsed.detail}`));
    const url = new URL(`${this.secure ? 'wss' : 'ws'}://${parsed.value.address}${SIGNAL_PATH}`);
    return new Promise<string>((resolve, reject) => {
      const s = new Session('dialer', address, address);
      s.waiters.push({ resolve, reject });
      let ws: WebSocket;
      try {
        ws = new WebSocket(url.href);
      } catch (err) {
        reject(new DialError('unreachable', `cannot connect to ${address}: ${(err as Error).message}`));
        return;
      }
      s.pipe = {
        send: (frame) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(encodeSignalFrame(frame));
        },
        close: (code, reason) => {
          try {
            if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, closeReason(reason));
          } catch {
            ws.close();
          }
        },
      };
      this.startSession(s);
      ws.onopen = () => {
        if (s.phase === 'signaling') this.sendHello(s);
      };
      ws.onmessage = (event) => {
        if (s.phase !== 'signaling') return;
        if (typeof event.data !== 'string') return this.protocolError(s, 'binary frame');
        const parsed = parseSignalFrame(event.data);
        if (!parsed.ok) return this.protocolError(s, parsed.detail);
        this.onSignal(s, parsed.frame);
      };
      ws.onclose = (event) => this.onPipeClosed(s, event.code, event.reason);
    });
  }

  private dialRelayed(address: string, via: string, to: string): Promise<string> {
    if (to === this.localId) return Promise.reject(new DialError('self', `${address} is this node (own id)`));
    if (!this.relaySend) return Promise.reject(new DialError('unreachable', 'this node relays no signaling'));
    return new Promise<string>((resolve, reject) => {
      const s = new Session('dialer', `via ${via.slice(0, 7)}`, address);
      s.waiters.push({ resolve, reject });
      s.relay = { via, sid: randomId(16), from: to };
      s.peerId = to;
      this.wireRelayPipe(s);
      this.startSession(s);
      this.sendHello(s);
    });
  }

  // ---------------------------------------------------------------- relayed signaling

  /** A signaling frame (or the end of a session) a relay delivered to us. */
  deliverRelayed(signal: RelayedSignal): void {
    if (this.closing || !nodeIdPattern.test(signal.from)) return;
    const key = `${signal.via} ${signal.from} ${signal.sid}`;
    let s = this.relayed.get(key);
    if (!s) {
      // Only a hello opens a session; anything else belongs to one that is gone.
      if (signal.end || signal.body?.type !== 'hello') return;
      if (signal.from === this.localId) return;
      // Sessions others opened to us: one peer may hold only a few, and a hello beyond that gets no answer
      // (answering each would spend our own relay budget on the sender's flood).
      let inbound = 0;
      let fromSender = 0;
      for (const r of this.relayed.values()) {
        if (r.role !== 'acceptor') continue;
        inbound++;
        if (r.relay!.from === signal.from) fromSender++;
      }
      if (fromSender >= MAX_RELAYED_SESSIONS_PER_PEER) return this.count('refused', 'too many relayed sessions from one peer');
      if (inbound >= MAX_RELAYED_SESSIONS) {
        this.count('refused', 'too many relayed sessions');
        this.relaySend?.(signal.via, signal.from, signal.sid, { end: { code: SignalClose.full, reason: 'too many sessions' } });
        return;
      }
      s = new Session('acceptor', `via ${signal.via.slice(0, 7)}`, undefined);
      s.relay = { via: signal.via, sid: signal.sid, from: signal.from };
      this.wireRelayPipe(s);
      this.startSession(s);
    }
    if (signal.end) {
      s.relayEnded = true; // the far end has gone: nothing to tell it
      return this.onPipeClosed(s, signal.end.code, signal.end.reason);
    }
    if (signal.body) this.onSignal(s, signal.body);
  }

  private wireRelayPipe(s: Session): void {
    const r = s.relay!;
    this.relayed.set(`${r.via} ${r.from} ${r.sid}`, s);
    s.pipe = {
      send: (frame) => {
        this.relaySend?.(r.via, r.from, r.sid, { body: frame });
      },
      close: (code, reason) => {
        if (!s.relayEnded && (code !== 1000 || s.phase !== 'open')) this.relaySend?.(r.via, r.from, r.sid, { end: { code, reason: closeReason(reason) } });
        this.relayed.delete(`${r.via} ${r.from} ${r.sid}`);
      },
    };
  }

  // ---------------------------------------------------------------- sessions

  private startSession(s: Session): void {
    this.sessions.add(s);
    s.timer = setTimeout(() => {
      this.endSession(s, new DialError('timeout', `no open DataChannel within ${SIGNAL_TIMEOUT_MS} ms`), { code: SignalClose.timeout, reason: 'timeout' });
    }, SIGNAL_TIMEOUT_MS);
  }

  private sendHello(s: Session): void {
    const alone = s.role === 'dialer' && this.links.size === 0;
    s.pipe?.send({ type: 'hello', v: SIGNAL_VERSION, id: this.localId, instance: this.instance, nonce: s.localNonce, ...(alone ? { alone: true } : {}) });
  }

  private protocolError(s: Session, detail: string): void {
    this.log('info', `signaling with ${s.remoteAddress}: protocol error: ${detail}`);
    this.endSession(s, new DialError('protocol', `signaling with ${s.remoteAddress}: ${detail}`), { code: SignalClose.protocol, reason: detail });
  }

  private onSignal(s: Session, frame: SignalFrame): void {
    if (s.phase !== 'signaling') return;
    if (!s.gotHello && frame.type !== 'hello') return this.protocolError(s, `${frame.type} before hello`);
    switch (frame.type) {
      case 'hello':
        if (s.gotHello) return this.protocolError(s, 'second hello');
        s.gotHello = true;
        return this.onHello(s, frame);
      case 'offer':
        if (s.role !== 'acceptor' || s.gotOffer) return this.protocolError(s, 'unexpected offer');
        s.gotOffer = true;
        return void this.onOffer(s, frame.sdp);
      case 'answer':
        if (s.role !== 'dialer' || !s.pc || s.gotAnswer) return this.protocolError(s, 'unexpected answer');
        s.gotAnswer = true;
        return void this.onAnswer(s, frame.sdp);
      case 'candidate': {
        if (++s.remoteCandidates > MAX_REMOTE_CANDIDATES) return this.protocolError(s, 'too many candidates');
        // libdatachannel writes "a=candidate:..."; the browser wants the attribute value.
        const init: RTCIceCandidateInit = { candidate: frame.candidate.replace(/^a=/, ''), sdpMid: frame.mid };
        if (!s.remoteDescriptionSet) s.pendingRemote.push(init);
        else this.addRemoteCandidate(s, init);
        return;
      }
    }
  }

  private onHello(s: Session, hello: SignalHello): void {
    if (hello.id === this.localId) {
      return this.endSession(s, new DialError('self', `${s.remoteAddress} is this node (own id)`), { code: SignalClose.self, reason: 'self' });
    }
    if (hello.v < SIGNAL_VERSION || hello.nonce === undefined) {
      this.count('refused', 'protocol v1');
      return this.endSession(s, new DialError('protocol', `${s.remoteAddress} speaks protocol v${hello.v}; v${SIGNAL_VERSION} is required`, hello.id), {
        code: SignalClose.version,
        reason: `protocol v${SIGNAL_VERSION} required`,
      });
    }
    // Through a relay, the far end is whom the relay proved: a hello claiming anyone else is refused.
    if (s.relay && hello.id !== s.relay.from) {
      this.count('refused', 'relayed hello names another id');
      return this.endSession(s, new DialError('protocol', `relayed hello from ${s.relay.from} claims ${hello.id}`), { code: SignalClose.protocol, reason: 'id does not match the relay' });
    }
    s.peerId = hello.id;
    s.peerInstance = hello.instance;
    s.peerNonce = hello.nonce;
    s.dialerId = s.role === 'dialer' ? this.localId : hello.id;
    if (!this.links.has(hello.id) && !this.safeAdmit(hello.id, { alone: s.role === 'acceptor' && hello.alone === true })) {
      return this.endSession(s, new DialError('full', `link to ${hello.id} refused: no room (admission)`, hello.id), { code: SignalClose.full, reason: 'full' });
    }
    if (s.role === 'dialer') {
      const open = this.links.get(hello.id);
      if (open && open.peerInstance === hello.instance && open.dialerId === s.dialerId) {
        return this.endSession(s, new DialError('duplicate', `already linked to ${hello.id}`), { code: SignalClose.duplicate, reason: 'duplicate' }, open);
      }
      void this.startOffer(s);
    } else {
      this.sendHello(s);
    }
  }

  private createPeer(s: Session): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    s.pc = pc;
    pc.onicecandidate = (event) => {
      if (s.phase !== 'signaling' || !event.candidate || !event.candidate.candidate) return;
      s.pendingLocal.push({ candidate: event.candidate.candidate, sdpMid: event.candidate.sdpMid ?? '0' });
      this.flushLocalCandidates(s);
    };
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      if (state === 'failed') this.lost(s, 'connection failed');
      else if (state === 'closed') this.lost(s, 'connection closed');
    };
    return pc;
  }

  private async startOffer(s: Session): Promise<void> {
    try {
      const pc = this.createPeer(s);
      this.wireChannel(s, pc.createDataChannel(LVS_CHANNEL_LABEL, { ordered: true }));
      await pc.setLocalDescription(await pc.createOffer());
      if (s.phase !== 'signaling') return;
      const sdp = pc.localDescription!.sdp;
      s.localFingerprint = fingerprintFromSdp(sdp);
      s.pipe?.send({ type: 'offer', sdp });
    } catch (err) {
      this.protocolError(s, `cannot make an offer: ${(err as Error).message}`);
    }
  }

  private async onOffer(s: Session, sdp: string): Promise<void> {
    try {
      const pc = this.createPeer(s);
      pc.ondatachannel = (event) => {
        if (s.dc || event.channel.label !== LVS_CHANNEL_LABEL) return event.channel.close();
        this.wireChannel(s, event.channel);
        if (event.channel.readyState === 'open') this.onChannelOpen(s);
      };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      s.remoteFingerprint = fingerprintFromSdp(sdp);
      this.remoteDescriptionReady(s);
      await pc.setLocalDescription(await pc.createAnswer());
      if (s.phase !== 'signaling') return;
      const answer = pc.localDescription!.sdp;
      s.localFingerprint = fingerprintFromSdp(answer);
      s.pipe?.send({ type: 'answer', sdp: answer });
      this.flushLocalCandidates(s);
    } catch (err) {
      this.protocolError(s, `bad offer: ${(err as Error).message}`);
    }
  }

  private async onAnswer(s: Session, sdp: string): Promise<void> {
    try {
      await s.pc!.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      return this.protocolError(s, `bad answer: ${(err as Error).message}`);
    }
    // The browser checked the DTLS certificate against this very line: it is the connection's fingerprint.
    s.remoteFingerprint = fingerprintFromSdp(sdp);
    this.remoteDescriptionReady(s);
  }

  private remoteDescriptionReady(s: Session): void {
    if (s.phase !== 'signaling') return;
    s.remoteDescriptionSet = true;
    for (const c of s.pendingRemote.splice(0)) this.addRemoteCandidate(s, c);
    this.flushLocalCandidates(s);
  }

  private addRemoteCandidate(s: Session, init: RTCIceCandidateInit): void {
    s.pc?.addIceCandidate(init).catch((err: Error) => {
      // One unusable candidate (an address family we cannot reach, a .local name) is not fatal.
      this.log('debug', `signaling with ${s.remoteAddress}: candidate ignored: ${err.message}`);
    });
  }

  /**
   * Our candidates follow our description; a dialer's also wait for the
   * answer to be applied, so a native acceptor never reaches us before it
   * has our fingerprint (the native transport's order, mayLeave there).
   */
  private flushLocalCandidates(s: Session): void {
    if (s.phase !== 'signaling' || !s.localFingerprint) return;
    if (s.role === 'dialer' && !s.remoteDescriptionSet) return;
    for (const c of s.pendingLocal.splice(0)) s.pipe?.send({ type: 'candidate', candidate: c.candidate!, mid: c.sdpMid ?? '0' });
  }

  private wireChannel(s: Session, dc: RTCDataChannel): void {
    s.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => this.onChannelOpen(s);
    dc.onmessage = (event) => {
      const frame: string | Uint8Array = typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer);
      if (s.phase === 'signaling') return this.onFrameBeforeProof(s, frame);
      if (s.phase === 'open' && s.link) this.deliver('onFrame', () => this.handler.onFrame(s.link!, frame));
    };
    dc.onclose = () => this.lost(s, 'channel closed');
  }

  /** The dialer proves itself first; the acceptor answers only once that proof holds (as on native nodes). */
  private onChannelOpen(s: Session): void {
    if (s.phase !== 'signaling' || this.closing || s.role !== 'dialer' || s.authSent) return;
    void this.sendAuth(s);
  }

  private async sendAuth(s: Session): Promise<boolean> {
    if (s.authSent) return true;
    s.authSent = true;
    const context = this.authContext(s);
    if (!context) {
      this.failProof(s, 'no-fingerprint', 'no DTLS fingerprint for this connection');
      return false;
    }
    let frame: string;
    try {
      frame = await buildAuthFrame(s.role, context, this.auth);
    } catch (err) {
      this.failProof(s, 'no-fingerprint', (err as Error).message);
      return false;
    }
    if (s.phase !== 'signaling' || s.dc?.readyState !== 'open') return false;
    try {
      s.dc.send(frame);
      return true;
    } catch {
      this.lost(s, 'cannot send the proof of identity');
      return false;
    }
  }

  private authContext(s: Session): AuthContext | null {
    if (!s.remoteFingerprint || !s.localFingerprint || !s.peerId || !s.peerNonce) return null;
    return authContextOf({ role: s.role, localId: this.localId, peerId: s.peerId, localFingerprint: s.localFingerprint, remoteFingerprint: s.remoteFingerprint, localNonce: s.localNonce, peerNonce: s.peerNonce });
  }

  private onFrameBeforeProof(s: Session, frame: string | Uint8Array): void {
    if (s.authReceived) {
      if (s.framesBeforeProof.length >= MAX_FRAMES_BEFORE_PROOF) return this.failProof(s, 'bad-auth-frame', 'too many frames before the proof');
      if (typeof frame === 'string') s.framesBeforeProof.push(frame);
      return;
    }
    s.authReceived = true;
    const context = this.authContext(s);
    if (!context) return this.failProof(s, 'no-fingerprint', 'no DTLS fingerprint for this connection');
    void checkAuthFrame(frame, s.role, context, this.auth).then(async (result) => {
      if (s.phase !== 'signaling' || this.closing) return;
      if (!result.ok) return this.failProof(s, result.reason, result.detail);
      if (s.role === 'acceptor' && !(await this.sendAuth(s))) return;
      if (s.phase !== 'signaling' || this.closing) return;
      this.counters.proven++;
      this.onProven(s);
    });
  }

  private failProof(s: Session, reason: AuthFailure, detail: string): void {
    if (s.phase !== 'signaling') return;
    this.counters.proofFailures[reason] = (this.counters.proofFailures[reason] ?? 0) + 1;
    this.log('warn', `signaling with ${s.remoteAddress}: proof of identity failed (${reason}): ${detail}`);
    this.endSession(s, new DialError('protocol', `${s.remoteAddress} did not prove it is ${s.peerId ?? 'the node it claims'}: ${detail}`, s.peerId), {
      code: SignalClose.unproven,
      reason,
    });
  }

  /** Whether newly proven `s` replaces open link `o` to the same peer (the native transport's rules). */
  private beats(s: Session, o: Session): boolean {
    if (o.peerInstance !== s.peerInstance) return true;
    if (o.dialerId !== s.dialerId) return s.dialerId === (this.localId < s.peerId! ? this.localId : s.peerId);
    return s.role === 'acceptor';
  }

  private onProven(s: Session): void {
    const peerId = s.peerId!;
    const old = this.links.get(peerId);
    if (old && !this.beats(s, old)) {
      return this.endSession(s, new DialError('duplicate', `another connection to ${peerId} wins`), { code: SignalClose.duplicate, reason: 'duplicate' }, old);
    }
    if (old) this.closeLink(old, old.peerInstance !== s.peerInstance || old.dialerId === s.dialerId ? 'replaced' : 'duplicate');
    s.phase = 'open';
    clearTimeout(s.timer);
    this.links.set(peerId, s);
    s.link = new BrowserLink(peerId, s.peerInstance!, s.dialledAddress, s.remoteAddress, s, (session, reason) => this.closeLink(session, reason));
    s.pipe?.close(1000, 'link open'); // signaling is transient
    this.log('info', `link to ${peerId.slice(0, 7)} (${s.remoteAddress}) open (identity proven)`);
    this.deliver('onLink', () => this.handler.onLink(s.link!));
    for (const w of s.waiters.splice(0)) w.resolve(peerId);
    for (const frame of s.framesBeforeProof.splice(0)) {
      if (s.phase !== 'open' || !s.link) break;
      this.deliver('onFrame', () => this.handler.onFrame(s.link!, frame));
    }
  }

  /** The signaling pipe closed (a WebSocket close code, or a relayed `end`). */
  private onPipeClosed(s: Session, code: number, reason: string): void {
    if (s.phase !== 'signaling') return;
    const negotiated = s.remoteDescriptionSet && s.localFingerprint !== null;
    if (s.lostReason && (code === 1000 || code === 1005 || code === 1006)) {
      return this.endSession(s, new DialError('unreachable', `WebRTC connection to ${s.remoteAddress}: ${s.lostReason}`));
    }
    if (code === 1000 && negotiated) return; // the other side's channel opened first; ours follows (or times out)
    const why = reason ? `: ${reason}` : '';
    const codes: Record<number, DialError> = {
      [SignalClose.protocol]: new DialError('protocol', `${s.remoteAddress} refused the session${why}`),
      [SignalClose.self]: new DialError('self', `${s.remoteAddress} is this node (own id)`),
      [SignalClose.duplicate]: new DialError('duplicate', `${s.remoteAddress}: another connection to ${s.peerId ?? 'that node'} wins`),
      [SignalClose.full]: new DialError('full', `${s.remoteAddress} refused the session (no room)${why}`, s.peerId),
      [SignalClose.timeout]: new DialError('timeout', `${s.remoteAddress} timed out the session`),
      [SignalClose.shutdown]: new DialError('refused', `${s.remoteAddress} is shutting down`),
      [SignalClose.version]: new DialError('protocol', `${s.remoteAddress} refused our protocol version${why}`),
      [SignalClose.unproven]: new DialError('protocol', `${s.remoteAddress} did not accept our proof of identity${why}`),
    };
    const error = codes[code] ?? new DialError('unreachable', `signaling with ${s.remoteAddress} closed early (code ${code})${why}`);
    this.endSession(s, error, undefined, code === SignalClose.duplicate && s.peerId ? this.links.get(s.peerId) : undefined);
  }

  private lost(s: Session, reason: string): void {
    if (s.phase === 'open') return this.closeLink(s, reason);
    // A dialer whose proof is out: an acceptor that refused it closes the connection and says why on the signaling; wait for that, briefly.
    if (s.phase === 'signaling' && s.role === 'dialer' && s.authSent && !s.lostReason) {
      s.lostReason = reason;
      setTimeout(() => this.lost(s, reason), CLOSE_REASON_WAIT_MS);
      return;
    }
    if (s.phase === 'signaling') this.endSession(s, new DialError('unreachable', `WebRTC connection to ${s.remoteAddress}: ${reason}`), { code: SignalClose.protocol, reason });
  }

  private endSession(s: Session, error: DialError, close?: { code: number; reason: string }, winner?: Session): void {
    if (s.phase !== 'signaling') return;
    s.phase = 'closed';
    clearTimeout(s.timer);
    this.sessions.delete(s);
    s.pipe?.close(close?.code ?? 1000, close?.reason ?? 'done');
    this.closePeer(s);
    for (const w of s.waiters.splice(0)) {
      if (winner && winner.phase === 'open' && winner.peerId) w.resolve(winner.peerId);
      else w.reject(error);
    }
  }

  private closeLink(s: Session, reason: string): void {
    if (s.phase !== 'open') return;
    s.phase = 'closed';
    this.sessions.delete(s);
    if (s.peerId && this.links.get(s.peerId) === s) this.links.delete(s.peerId);
    this.closePeer(s);
    this.log('info', `link to ${s.peerId?.slice(0, 7)} closed: ${reason}`);
    const link = s.link!;
    this.deliver('onUnlink', () => this.handler.onUnlink(link, reason));
  }

  private closePeer(s: Session): void {
    try {
      s.dc?.close();
      s.pc?.close();
    } catch {
      // closed already
    }
  }

  private safeAdmit(peerId: string, hint: AdmissionHint): boolean {
    try {
      return this.admit(peerId, hint) !== false;
    } catch {
      return false;
    }
  }

  private count(kind: 'refused', reason: string): void {
    this.counters[kind][reason] = (this.counters[kind][reason] ?? 0) + 1;
  }

  private deliver(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log('warn', `handler ${what} threw: ${(err as Error).message}`);
    }
  }

  private log(level: 'debug' | 'info' | 'warn', message: string): void {
    try {
      this.logFn?.(level, message);
    } catch {
      // logging must never break the transport
    }
  }

  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const s of [...this.sessions]) {
      if (s.phase === 'open') this.closeLink(s, 'shutdown');
      else this.endSession(s, new DialError('closed', 'transport is shut down'), { code: SignalClose.shutdown, reason: 'shutting down' });
    }
  }
}
