/**
 * WebRtcTransport: links to peers over one node-datachannel DataChannel
 * (`lvs`, reliable and ordered) each, set up through a transient JSON
 * signaling session on a WebSocket at ws://host:port/signal (DESIGN.md §2,
 * frames in ./signaling.ts).
 *
 * Conflict rules, applied by both ends with nothing but what each end sees,
 * so they agree without extra messages. A "session" is one signaling
 * WebSocket plus the PeerConnection it sets up; its dialer is the node that
 * opened the WebSocket. When a session learns its peer's id and instance
 * (acceptor: from the dialer's hello; dialer: from the acceptor's hello) it
 * is compared with every other session and link to the same peer id:
 *
 * 1. Different instance: the peer restarted; the newer session wins. A
 *    pending older session is aborted at once; an open older link is closed
 *    (onUnlink reason 'replaced') when the newer link opens.
 * 2. Same instance, opposite dialers (simultaneous dial, or a dial crossing
 *    an open link): the session dialled by the lower id (string compare)
 *    wins. A pending loser is refused/aborted at once (close code 4002; an
 *    acceptor sends its hello before refusing, so the dialer knows whom it
 *    reached and its dial can follow the winner); an
 *    open loser stays usable until the winner opens, then is closed with
 *    onUnlink reason 'duplicate'. So an established link is replaced only by
 *    a link that actually opened.
 * 3. Same instance, same dialer (a redial). The dialer: if it still has an
 *    open link to that peer, the new session yields (4002) and the dial
 *    resolves with the existing link (no churn when a node dials a second
 *    address of a peer it is linked to); otherwise it goes on. The acceptor:
 *    newest wins (a pending older session is closed with 4002, an open older
 *    link is closed 'replaced' when the new one opens). So a node that
 *    dropped a dead link can redial at once even while the other side still
 *    thinks the old link open.
 *
 * Dial promises of a losing session follow the winner: they resolve with
 * the peer id when the winning link opens (at once if it is open already),
 * and reject only if the winner fails. Callers only want "a link to that
 * address exists"; 'duplicate' is reported when no winner is known.
 *
 * Admission is asked once per session, when the peer id is known, unless the
 * peer already has an open link (a replacement does not add a peer).
 *
 * Handler calls: onUnlink is delivered synchronously (also from
 * link.close()), before the onLink of a replacing link; onLink comes before
 * the dial promise resolves; nothing is delivered for a link after its
 * onUnlink; exceptions thrown by the handler are logged and swallowed.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type * as http from 'node:http';
import type * as stream from 'node:stream';
import type { DataChannel, RtcConfig } from 'node-datachannel';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData, type ServerOptions } from 'ws';
import {
  ACCEPTOR_ANSWER_HOLD_MS,
  DIALER_HOST_CANDIDATE_HOLD_MS,
  MAX_FRAMES_BEFORE_PROOF,
  MAX_PENDING_INBOUND_SESSIONS,
  MAX_REMOTE_CANDIDATES,
  MAX_SIGNAL_FRAME_BYTES,
  SETUP_FAST_ATTEMPTS,
  SIGNAL_HELLO_TIMEOUT_MS,
  SIGNAL_TIMEOUT_MS,
  WS_CLOSE_TIMEOUT_MS,
} from '../model/limits.js';
import {
  authContextOf,
  buildAuthFrame,
  checkAuthFrame,
  fingerprintFromSdp,
  makeNonce,
  normaliseFingerprint,
  type AuthContext,
  type AuthFailure,
  type HandshakeCrypto,
} from '../protocol/handshake.js';
import { nodeIdPattern } from '../protocol/messages.js';
import { AddressLedger } from './address-ledger.js';
import { checkIceServer } from '../store/schema.js';
import { acquireNative, type NativeLease, type NativeLog, type NativePeer } from './native.js';
import {
  SIGNAL_VERSION,
  SignalClose,
  closeReason,
  encodeSignalFrame,
  formatSocketAddress,
  parseSignalAddress,
  parseSignalFrame,
  type SignalAddress,
  type SignalFrame,
  type SignalHello,
} from './signaling.js';
import { DialError, type AdmissionHint, type Link, type Transport, type TransportHandler, type TransportStats } from './transport.js';

/** A dialer whose connection dropped during its proof waits this long for the acceptor's close code (the reason). */
const CLOSE_REASON_WAIT_MS = 3000;

/** Proof durations kept for stats() (a fixed window: the benchmark reads them, nothing else grows). */
const PROOF_TIMES_KEPT = 1024;

/**
 * The two orders a link can be set up in (docs/protocol.md, "Setup order").
 * - 'acceptor-first', tried first: the dialer's offer says a=setup:active, so
 *   the acceptor is the DTLS server; the dialer's candidates go at once, and
 *   the acceptor sends its answer only once its own ICE check has succeeded,
 *   i.e. once its DTLS server is listening. No ICE check of either side is a
 *   triggered one (which libjuice paces by 50 ms), so on a LAN the link is up
 *   in a few round trips.
 * - 'dialer-first', the fallback: the offer says actpass (the dialer is DTLS
 *   server), the dialer's candidates wait for the answer and its host
 *   candidates for its own check. Race-free inside libdatachannel 0.24.5, but
 *   the acceptor's first check is a triggered one: ~50 ms.
 * A dial whose acceptor-first setup fails before the DataChannel opens is set
 * up again (retrySetup): the one race the fast order leaves open (the
 * dialer's ICE can connect inside setRemoteDescription, before libdatachannel
 * has stored the answer it checks the certificate against) needs the calling
 * thread to be preempted at that moment, so a second try in the same order
 * nearly always works; the third is dialer-first.
 */
type SetupOrder = 'acceptor-first' | 'dialer-first';

/** a=setup:actpass in our offer becomes a=setup:active (RFC 5763 lets the offerer choose): the acceptor answers passive. */
function asActiveOffer(sdp: string): string {
  return sdp.replace(/^a=setup:actpass(?=\r?$)/gm, 'a=setup:active');
}

/** The peer's offer asks us to be the DTLS server. */
function offersActive(sdp: string): boolean {
  return /^a=setup:active\r?$/m.test(sdp);
}

/** Label of the one DataChannel a link uses. */
export const LVS_CHANNEL_LABEL = 'lvs';


export interface WebRtcTransportOptions {
  /** Our node id (DESIGN.md §3 format). */
  localId: string;
  /**
   * ICE bind address (RtcConfig.bindAddress). With '127.0.0.1' libjuice only
   * gathers loopback candidates: tests use it so no traffic leaves loopback.
   */
  bindAddress?: string;
  /** ICE servers, "stun:host:port" or "turn:user:password@host:port" (checkIceServer); default none: host candidates only (LAN). */
  iceServers?: string[];
  /** Signs and checks the proof of identity on every link; its key must be the key of localId. */
  auth: HandshakeCrypto;
  /** Apply the ids-per-address limit to loopback peers too (tests; default: loopback is exempt). */
  limitLoopbackIds?: boolean;
  /** UDP ports ICE may bind (RtcConfig.portRangeBegin/End), one per link; default any. */
  portRange?: { begin: number; end: number };
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void;
}

/** What a WebRtcLink needs from its session. */
export interface LinkBackend {
  isOpen(): boolean;
  send(data: string | Uint8Array): boolean;
  close(reason: string): void;
}

export class WebRtcLink implements Link {
  constructor(
    readonly peerId: string,
    readonly peerInstance: string,
    readonly dialledAddress: string | undefined,
    readonly remoteAddress: string,
    private readonly backend: LinkBackend,
  ) {}

  get isOpen(): boolean {
    return this.backend.isOpen();
  }

  send(frame: string): boolean {
    if (typeof frame !== 'string') return false;
    return this.backend.send(frame);
  }

  /** Sends one binary frame (not part of Link: the protocol is text; tests and tools use it). */
  sendBinary(data: Uint8Array): boolean {
    if (!(data instanceof Uint8Array)) return false;
    return this.backend.send(data);
  }

  close(reason: string): void {
    this.backend.close(reason);
  }
}

type Role = 'dialer' | 'acceptor';
type Phase = 'signaling' | 'open' | 'closed';

interface Waiter {
  resolve(peerId: string): void;
  reject(error: DialError): void;
}

let sessionCounter = 0;

class Session {
  readonly n = ++sessionCounter;
  phase: Phase = 'signaling';
  peerId: string | undefined;
  peerInstance: string | undefined;
  /** Node id of the side that opened the WebSocket; known with the peer id. */
  dialerId: string | undefined;
  peer: NativePeer | undefined;
  dc: DataChannel | undefined;
  link: WebRtcLink | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly waiters: Waiter[] = [];
  /** Dialer: the order this attempt uses. Acceptor: 'acceptor-first' when the offer asked for it (a=setup:active). */
  order: SetupOrder = 'dialer-first';
  /** Dialer: where it dials (a retry dials it again), and which attempt of the dial this session is (1, 2, ...). */
  target: SignalAddress | undefined;
  attempt = 1;
  /** Acceptor, acceptor-first: our answer, held until our ICE check succeeded (or ACCEPTOR_ANSWER_HOLD_MS). */
  heldAnswer: string | undefined;
  gotHello = false;
  sentOffer = false;
  gotOffer = false;
  gotAnswer = false;
  localDescriptionSent = false;
  remoteDescriptionSet = false;
  readonly pendingLocalCandidates: Array<{ candidate: string; mid: string }> = [];
  /** Our ICE agent has a working pair (its own check succeeded): the dialer's host candidates may go. */
  iceConnected = false;
  /** DIALER_HOST_CANDIDATE_HOLD_MS passed since the answer was applied: the dialer's host candidates go regardless. */
  candidateHoldOver = false;
  readonly pendingRemoteCandidates: Array<{ candidate: string; mid: string }> = [];
  remoteCandidates = 0;
  /** Our fresh signaling nonce for this session, and the peer's from its hello. */
  readonly localNonce = makeNonce((n) => new Uint8Array(randomBytes(n)));
  peerNonce: string | undefined;
  /** Our DTLS fingerprint, from our own SDP. */
  localFingerprint: string | null = null;
  /** The DataChannel is up and our auth frame is on its way. */
  authSent = false;
  /** The peer's auth frame arrived (being checked, or checked). */
  authReceived = false;
  /** The connection went away while signaling was still up: the WebSocket's close code will say why. */
  lostReason: string | undefined;
  /** performance.now() when the DataChannel came up: the proof's share of the setup time starts here. */
  channelUpAt: number | undefined;
  /** Frames that arrived after the peer's auth frame, before its proof was checked. */
  readonly framesBeforeProof: Array<string | Uint8Array> = [];

  constructor(
    readonly role: Role,
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly dialledAddress: string | undefined,
    /** The remote IP address (no port), the key of the address ledger. */
    readonly remoteIp: string,
  ) {}

  get label(): string {
    return `#${this.n} ${this.role === 'dialer' ? '→' : '←'} ${this.peerId ?? this.remoteAddress}`;
  }

  /** Both descriptions are exchanged: the WebSocket is no longer needed for the connection to come up. */
  get negotiated(): boolean {
    return this.role === 'dialer' ? this.sentOffer && this.gotAnswer : this.gotOffer && this.localDescriptionSent;
  }
}

/** The IP of a socket's remote end without the port; IPv4-mapped IPv6 as IPv4. */
function plainIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function noopHandler(): TransportHandler {
  return { onLink() {}, onFrame() {}, onUnlink() {} };
}

function toUint8(data: Buffer | ArrayBuffer): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function closeWs(ws: WebSocket, code: number, reason: string): void {
  try {
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason(reason));
  } catch {
    ws.terminate();
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'EPIPE',
]);

export class WebRtcTransport implements Transport {
  readonly localId: string;
  readonly instance: string;
  private handler: TransportHandler = noopHandler();
  private admit: (peerId: string, hint?: AdmissionHint) => boolean = () => true;
  private readonly sessions = new Set<Session>();
  /** Open sessions by peer id: at most one per peer. */
  private readonly links = new Map<string, Session>();
  private readonly sockets = new Set<WebSocket>();
  private readonly wss: WebSocketServer;
  private readonly rtcConfig: RtcConfig;
  private readonly logFn: NativeLog | undefined;
  private lease: NativeLease | undefined;
  private closing = false;
  private shutdownPromise: Promise<void> | undefined;
  private readonly auth: HandshakeCrypto;
  private readonly ledger: AddressLedger;
  private readonly counters: { proofFailures: Record<string, number>; refused: Record<string, number>; proven: number; setupRetries: number } = {
    proofFailures: {},
    refused: {},
    proven: 0,
    setupRetries: 0,
  };
  /** The last PROOF_TIMES_KEPT proof durations (channel up to proven, ms), for the benchmark's handshake row. */
  private readonly proofTimes: number[] = [];

  constructor(options: WebRtcTransportOptions) {
    if (typeof options.localId !== 'string' || !nodeIdPattern.test(options.localId)) {
      throw new TypeError(`WebRtcTransport: localId ${JSON.stringify(options.localId)} is not a node id`);
    }
    const iceServers = options.iceServers ?? [];
    for (const server of iceServers) {
      // libdatachannel accepts garbage here silently; catch typos early (the same check as the settings).
      const problem = checkIceServer(server);
      if (problem) throw new TypeError(`WebRtcTransport: ${problem}`);
    }
    if (!options.auth) throw new TypeError('WebRtcTransport: auth (the handshake crypto of localId) is required');
    this.auth = options.auth;
    this.ledger = new AddressLedger({ limitLoopback: options.limitLoopbackIds ?? false });
    this.localId = options.localId;
    this.instance = randomBytes(12).toString('base64url');
    this.logFn = options.log;
    this.rtcConfig = { iceServers: [...iceServers] };
    if (options.bindAddress !== undefined) this.rtcConfig.bindAddress = options.bindAddress;
    if (options.portRange) Object.assign(this.rtcConfig, { portRangeBegin: options.portRange.begin, portRangeEnd: options.portRange.end });
    const serverOptions: ServerOptions & { closeTimeout?: number } = {
      noServer: true,
      maxPayload: MAX_SIGNAL_FRAME_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
      closeTimeout: WS_CLOSE_TIMEOUT_MS,
    };
    this.wss = new WebSocketServer(serverOptions);
  }

  setHandler(handler: TransportHandler): void {
    this.handler = handler;
  }

  setAdmission(admit: (peerId: string, hint?: AdmissionHint) => boolean): void {
    this.admit = admit;
  }

  /** Open links, for diagnostics and tests. */
  openLinks(): WebRtcLink[] {
    return [...this.links.values()].flatMap((s) => (s.link ? [s.link] : []));
  }

  /** What the proof of identity refused, by reason, for the status and the logs. */
  stats(): TransportStats {
    return {
      proven: this.counters.proven,
      proofFailures: { ...this.counters.proofFailures },
      refused: { ...this.counters.refused },
      trackedAddresses: this.ledger.size,
      setupRetries: this.counters.setupRetries,
    };
  }

  /** Durations of the latest proofs (DataChannel up to identity proven), ms; for the benchmark's handshake row. */
  proofDurations(): number[] {
    return [...this.proofTimes];
  }

  /** Signaling sessions not yet open, for diagnostics and tests. */
  get pendingSessions(): number {
    let n = 0;
    for (const s of this.sessions) if (s.phase === 'signaling') n++;
    return n;
  }

  // ---------------------------------------------------------------- dialling

  dial(address: string): Promise<string> {
    if (this.closing) return Promise.reject(new DialError('closed', 'transport is shut down'));
    const parsed = parseSignalAddress(address);
    if (!parsed.ok) {
      return Promise.reject(
        new DialError('unreachable', `invalid address ${JSON.stringify(address)?.slice(0, 80)}: ${parsed.detail}`),
      );
    }
    return new Promise<string>((resolve, reject) => this.openDial(parsed.value, [{ resolve, reject }], 'acceptor-first'));
  }

  /** One signaling session to `target` for these dial promises, set up in `order`. */
  private openDial(target: SignalAddress, waiters: Waiter[], order: SetupOrder, attempt = 1): void {
    const reject = (error: DialError): void => {
      for (const w of waiters) w.reject(error);
    };
    const clientOptions: ClientOptions & { closeTimeout?: number } = {
      maxPayload: MAX_SIGNAL_FRAME_BYTES,
      handshakeTimeout: SIGNAL_TIMEOUT_MS,
      perMessageDeflate: false,
      followRedirects: false,
      closeTimeout: WS_CLOSE_TIMEOUT_MS,
    };
    let ws: WebSocket;
    try {
      ws = new WebSocket(target.url, clientOptions);
    } catch (err) {
      reject(new DialError('unreachable', `cannot connect to ${target.address}: ${(err as Error).message}`));
      return;
    }
    const s = new Session('dialer', ws, target.address, target.address, target.host);
    s.order = order;
    s.target = target;
    s.attempt = attempt;
    s.waiters.push(...waiters);
    this.startSession(s);
    ws.on('open', () => {
      if (s.phase === 'signaling') this.sendHello(s);
    });
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      this.endSession(
        s,
        new DialError('refused', `${target.address} answered HTTP ${res.statusCode ?? '?'} instead of signaling`),
      );
    });
  }

  // ---------------------------------------------------------------- accepting

  /** The node's HTTP server owns the port and routes WebSocket upgrades on path /signal here. */
  handleSignalUpgrade(req: http.IncomingMessage, socket: stream.Duplex, head: Buffer): void {
    const refuse = (status: string): void => {
      socket.on('error', () => {}); // a reset peer must not crash the process
      try {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } catch {
        // socket already gone
      }
      socket.destroy();
    };
    if (this.closing) return refuse('503 Service Unavailable');
    const ip = plainIp(req.socket.remoteAddress);
    if (this.ledger.heldUntil(ip) > 0) {
      this.count('refused', 'held-off after failed proofs');
      return refuse('403 Forbidden');
    }
    let inbound = 0;
    for (const s of this.sessions) if (s.role === 'acceptor' && s.phase === 'signaling') inbound++;
    if (inbound >= MAX_PENDING_INBOUND_SESSIONS) {
      const from = formatSocketAddress(req.socket.remoteAddress, req.socket.remotePort);
      this.log('warn', `refusing signaling from ${from}: too many pending sessions`);
      return refuse('503 Service Unavailable');
    }
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    } catch (err) {
      this.log('warn', `signaling upgrade failed: ${(err as Error).message}`);
      socket.destroy();
    }
  }

  private accept(ws: WebSocket, req: http.IncomingMessage): void {
    const remote = formatSocketAddress(req.socket.remoteAddress, req.socket.remotePort);
    if (this.closing) {
      closeWs(ws, SignalClose.shutdown, 'shutting down');
      ws.on('error', () => {});
      return;
    }
    const s = new Session('acceptor', ws, remote, undefined, plainIp(req.socket.remoteAddress));
    this.startSession(s);
    // An honest dialer sends its hello the moment the socket opens.
    const helloTimer = setTimeout(() => {
      if (!s.gotHello) {
        this.count('refused', 'no hello in time');
        this.endSession(s, new DialError('timeout', `no hello within ${SIGNAL_HELLO_TIMEOUT_MS} ms`), { code: SignalClose.timeout, reason: 'no hello' });
      }
    }, SIGNAL_HELLO_TIMEOUT_MS);
    helloTimer.unref?.();
    s.ws.once('close', () => clearTimeout(helloTimer));
  }

  // ---------------------------------------------------------------- sessions

  private startSession(s: Session): void {
    this.sessions.add(s);
    this.sockets.add(s.ws);
    s.timer = setTimeout(() => {
      this.endSession(s, new DialError('timeout', `no open DataChannel within ${SIGNAL_TIMEOUT_MS} ms`), {
        code: SignalClose.timeout,
        reason: 'timeout',
      });
    }, SIGNAL_TIMEOUT_MS);
    s.ws.on('message', (data, isBinary) => this.onSignalMessage(s, data, isBinary));
    s.ws.on('error', (err) => this.onSignalError(s, err));
    s.ws.on('close', (code, reason) => {
      this.sockets.delete(s.ws);
      this.onSignalClose(s, code, reason.toString('utf8'));
    });
    this.log('debug', `signaling ${s.label} started`);
  }

  private sendSignal(s: Session, frame: SignalFrame): void {
    if (s.ws.readyState !== WebSocket.OPEN) return;
    try {
      s.ws.send(encodeSignalFrame(frame));
    } catch (err) {
      this.log('debug', `signaling ${s.label}: send failed: ${(err as Error).message}`);
    }
  }

  private sendHello(s: Session): void {
    // A dialer with no open link says so: a full acceptor then admits it despite a peer-limit hold.
    const alone = s.role === 'dialer' && this.links.size === 0;
    this.sendSignal(s, { type: 'hello', v: SIGNAL_VERSION, id: this.localId, instance: this.instance, nonce: s.localNonce, ...(alone ? { alone: true } : {}) });
  }

  private protocolError(s: Session, detail: string): void {
    this.log('info', `signaling ${s.label}: protocol error: ${detail}`);
    this.endSession(s, new DialError('protocol', `signaling with ${s.remoteAddress}: ${detail}`), {
      code: SignalClose.protocol,
      reason: detail,
    });
  }

  private onSignalError(s: Session, err: Error & { code?: string }): void {
    if (s.phase !== 'signaling') return;
    const code = err.code ?? '';
    let error: DialError;
    if (UNREACHABLE_CODES.has(code)) {
      error = new DialError('unreachable', `${s.remoteAddress} is unreachable (${code})`);
    } else if (/handshake has timed out/i.test(err.message)) {
      error = new DialError('timeout', `${s.remoteAddress}: signaling handshake timed out`);
    } else if (code.startsWith('WS_ERR_') || err instanceof RangeError) {
      error = new DialError('protocol', `signaling with ${s.remoteAddress}: ${err.message}`);
    } else {
      error = new DialError('unreachable', `${s.remoteAddress}: ${err.message}`);
    }
    this.log('debug', `signaling ${s.label}: ${err.message}`);
    // ws closes the socket itself after an error (1009 for oversize frames).
    this.endSession(s, error);
  }

  private onSignalClose(s: Session, code: number, reason: string): void {
    if (s.phase !== 'signaling') return;
    // A normal close after the descriptions are exchanged: the other side's
    // channel opened first; ours follows (or the session times out).
    if (code === 1000 && s.negotiated && !s.lostReason) return;
    if (s.lostReason && (code === 1000 || code === 1005 || code === 1006)) {
      return this.endSession(s, new DialError('unreachable', `WebRTC connection to ${s.remoteAddress}: ${s.lostReason}`), undefined, this.winnerFor(s));
    }
    const why = reason ? `: ${reason}` : '';
    let error: DialError;
    let winner: Session | undefined;
    switch (code) {
      case SignalClose.protocol:
        error = new DialError('protocol', `${s.remoteAddress} refused the session${why}`);
        break;
      case SignalClose.self:
        error = new DialError('self', `${s.remoteAddress} is this node (own id)`);
        break;
      case SignalClose.duplicate:
        error = new DialError('duplicate', `${s.remoteAddress}: another connection to ${s.peerId ?? 'that node'} wins`);
        winner = this.winnerFor(s);
        break;
      case SignalClose.full:
        error = new DialError('full', `${s.remoteAddress} refused the session (no room)${why}`, s.peerId);
        break;
      case SignalClose.timeout:
        error = new DialError('timeout', `${s.remoteAddress} timed out the session`);
        break;
      case SignalClose.shutdown:
        error = new DialError('refused', `${s.remoteAddress} is shutting down`);
        break;
      case SignalClose.version:
        error = new DialError('protocol', `${s.remoteAddress} refused our protocol version${why}`);
        break;
      case SignalClose.unproven:
        error = new DialError('protocol', `${s.remoteAddress} did not accept our proof of identity${why}`);
        break;
      case 1002:
      case 1003:
      case 1007:
      case 1009:
        error = new DialError('protocol', `${s.remoteAddress} closed signaling (code ${code})${why}`);
        break;
      default:
        error =
          code >= 4000 && code <= 4999
            ? new DialError('refused', `${s.remoteAddress} refused the session (code ${code})${why}`)
            : new DialError('unreachable', `signaling with ${s.remoteAddress} closed early (code ${code})${why}`);
    }
    this.endSession(s, error, undefined, winner);
  }

  private onSignalMessage(s: Session, data: RawData, isBinary: boolean): void {
    if (s.phase !== 'signaling') return;
    if (isBinary) return this.protocolError(s, 'binary frame');
    const parsed = parseSignalFrame(rawToString(data));
    if (!parsed.ok) return this.protocolError(s, parsed.detail);
    const frame = parsed.frame;
    if (!s.gotHello && frame.type !== 'hello') return this.protocolError(s, `${frame.type} before hello`);
    switch (frame.type) {
      case 'hello':
        if (s.gotHello) return this.protocolError(s, 'second hello');
        s.gotHello = true;
        return this.onHello(s, frame);
      case 'offer':
        if (s.role !== 'acceptor' || s.gotOffer) return this.protocolError(s, 'unexpected offer');
        s.gotOffer = true;
        return this.onOffer(s, frame.sdp);
      case 'answer':
        if (s.role !== 'dialer' || !s.sentOffer || s.gotAnswer) return this.protocolError(s, 'unexpected answer');
        s.gotAnswer = true;
        return this.onAnswer(s, frame.sdp);
      case 'candidate':
        if (++s.remoteCandidates > MAX_REMOTE_CANDIDATES) return this.protocolError(s, 'too many candidates');
        if (!s.remoteDescriptionSet) {
          s.pendingRemoteCandidates.push({ candidate: frame.candidate, mid: frame.mid });
          return;
        }
        return this.addRemoteCandidate(s, frame.candidate, frame.mid);
    }
  }

  private onHello(s: Session, hello: SignalHello): void {
    if (hello.id === this.localId) {
      this.log('info', `signaling ${s.label}: peer has our own id`);
      return this.endSession(s, new DialError('self', `${s.remoteAddress} is this node (own id)`), {
        code: SignalClose.self,
        reason: 'self',
      });
    }
    if (hello.v < SIGNAL_VERSION || hello.nonce === undefined) {
      this.count('refused', 'protocol v1');
      this.log('warn', `signaling ${s.label}: ${hello.id} speaks protocol v${hello.v} without proof of identity; this node speaks v${SIGNAL_VERSION} only (upgrade that node)`);
      if (s.role === 'acceptor') this.sendHello(s); // so a v2 dialer's log says what happened too
      return this.endSession(s, new DialError('protocol', `${s.remoteAddress} speaks protocol v${hello.v}; v${SIGNAL_VERSION} is required`, hello.id), {
        code: SignalClose.version,
        reason: `protocol v${SIGNAL_VERSION} required`,
      });
    }
    s.peerId = hello.id;
    s.peerInstance = hello.instance;
    s.peerNonce = hello.nonce;
    s.dialerId = s.role === 'dialer' ? this.localId : hello.id;

    if (!this.links.has(hello.id) && !this.safeAdmit(hello.id, { alone: s.role === 'acceptor' && hello.alone === true })) {
      this.log('info', `signaling ${s.label}: admission refused`);
      return this.endSession(s, new DialError('full', `link to ${hello.id} refused: no room (admission)`, hello.id), {
        code: SignalClose.full,
        reason: 'full',
      });
    }
    if (!this.resolveConflicts(s)) return;

    if (s.role === 'acceptor') {
      this.sendHello(s);
    } else {
      this.startOffer(s);
    }
  }

  /**
   * At the signaling hello the peer's id is only a claim, so nothing here ends
   * another session or link (an unproven session never displaces a proven
   * link): the conflict rules run when the proof arrives (resolveAtProof).
   * The one decision taken now concerns `s` alone: a dial of ours that
   * reaches a peer our open link of the same direction already reaches
   * yields to that link. Returns false if `s` was ended.
   */
  private resolveConflicts(s: Session): boolean {
    if (s.role !== 'dialer') return true;
    const open = this.links.get(s.peerId!);
    if (open && open.peerInstance === s.peerInstance && open.dialerId === s.dialerId) {
      this.log('debug', `signaling ${s.label}: already linked by ${open.label}`);
      this.endSession(s, new DialError('duplicate', `already linked to ${s.peerId}`), { code: SignalClose.duplicate, reason: 'duplicate' }, open);
      return false;
    }
    return true;
  }

  /**
   * The conflict rules (module comment), applied when `s` has proven its
   * peer, against the open link to that peer. Returns false if `s` lost (it
   * is ended then and its dial promises follow the open link).
   */
  private resolveAtProof(s: Session): boolean {
    const peerId = s.peerId!;
    const o = this.links.get(peerId);
    if (!o || this.beats(s, o)) return true;
    this.log('debug', `signaling ${s.label}: loses to ${o.label}`);
    this.endSession(s, new DialError('duplicate', `another connection to ${peerId} wins`), { code: SignalClose.duplicate, reason: 'duplicate' }, o);
    return false;
  }

  /** Whether newly proven session `s` replaces open link `o` to the same peer (the module comment's rules). */
  private beats(s: Session, o: Session): boolean {
    if (o.peerInstance !== s.peerInstance) return true; // the peer restarted: the newer proven session wins
    if (o.dialerId !== s.dialerId) return s.dialerId === (this.localId < s.peerId! ? this.localId : s.peerId); // crossing dials: lower id's wins
    return s.role === 'acceptor'; // a redial: the acceptor takes the newest, a dialer keeps its open link
  }

  /**
   * Why open link `s` is going, if a session to the same peer whose proof is
   * under way would replace it ('replaced' or 'duplicate'): the far end
   * closes the old link as soon as the new one is proven there.
   */
  private pendingReplacement(s: Session): 'replaced' | 'duplicate' | undefined {
    for (const o of this.sessions) {
      if (o === s || o.phase !== 'signaling' || o.peerId !== s.peerId || !(o.authSent || o.authReceived)) continue;
      if (this.beats(o, s)) return o.peerInstance !== s.peerInstance || o.dialerId === s.dialerId ? 'replaced' : 'duplicate';
    }
    return undefined;
  }

  /** The session a refused duplicate's dial promises should follow: the open link, else a pending session. */
  private winnerFor(s: Session): Session | undefined {
    if (!s.peerId) return undefined;
    const open = this.links.get(s.peerId);
    if (open) return open;
    for (const o of this.sessions) {
      if (o !== s && o.phase === 'signaling' && o.peerId === s.peerId) return o;
    }
    return undefined;
  }

  private createPeer(s: Session): NativePeer | undefined {
    try {
      if (!this.lease) this.lease = acquireNative(this.logFn);
      const peer = this.lease.createPeer(`lvs-${s.n}`, this.rtcConfig, (state) => this.onPeerState(s, state));
      s.peer = peer;
      peer.pc.onLocalDescription((sdp, type) => this.onLocalDescription(s, sdp, type));
      peer.pc.onLocalCandidate((candidate, mid) => this.onLocalCandidate(s, candidate, mid));
      // Only the side that is DTLS server waits for its ICE check (SetupOrder). Every callback is a
      // thread-safe function with a libuv async handle for the connection's life, and libuv scans all
      // of them on each wake-up of the main thread (BENCHMARKS.md, row 14): only the side that needs it.
      if ((s.role === 'dialer') === (s.order === 'dialer-first')) peer.pc.onIceStateChange((state) => this.onIceState(s, state));
      return peer;
    } catch (err) {
      this.log('warn', `cannot create PeerConnection: ${(err as Error).message}`);
      this.endSession(s, new DialError('unreachable', `cannot create PeerConnection: ${(err as Error).message}`), {
        code: SignalClose.protocol,
        reason: 'internal error',
      });
      return undefined;
    }
  }

  private startOffer(s: Session): void {
    const peer = this.createPeer(s);
    if (!peer) return;
    try {
      const dc = peer.createDataChannel(LVS_CHANNEL_LABEL, {}); // reliable and ordered by default
      this.wireChannel(s, dc);
    } catch (err) {
      this.protocolError(s, `cannot create DataChannel: ${(err as Error).message}`);
    }
  }

  private onOffer(s: Session, sdp: string): void {
    if (offersActive(sdp)) s.order = 'acceptor-first';
    const peer = this.createPeer(s);
    if (!peer) return;
    try {
      peer.pc.onDataChannel((dc) => this.onRemoteChannel(s, dc));
      peer.pc.setRemoteDescription(sdp, 'offer');
    } catch (err) {
      return this.protocolError(s, `bad offer: ${(err as Error).message}`);
    }
    this.remoteDescriptionReady(s);
  }

  private onAnswer(s: Session, sdp: string): void {
    try {
      s.peer?.pc.setRemoteDescription(sdp, 'answer');
    } catch (err) {
      return this.protocolError(s, `bad answer: ${(err as Error).message}`);
    }
    this.remoteDescriptionReady(s);
  }

  private remoteDescriptionReady(s: Session): void {
    if (s.phase === 'closed') return;
    s.remoteDescriptionSet = true;
    for (const c of s.pendingRemoteCandidates.splice(0)) this.addRemoteCandidate(s, c.candidate, c.mid);
    if (s.role === 'dialer' && s.order === 'dialer-first') {
      this.sendLocalCandidates(s);
      setTimeout(() => {
        s.candidateHoldOver = true;
        this.sendLocalCandidates(s);
      }, DIALER_HOST_CANDIDATE_HOLD_MS).unref?.();
    }
  }

  private addRemoteCandidate(s: Session, candidate: string, mid: string): void {
    try {
      s.peer?.pc.addRemoteCandidate(candidate, mid);
    } catch (err) {
      // One unusable candidate (e.g. an address family we do not bind) is not fatal.
      this.log('debug', `signaling ${s.label}: candidate ignored: ${(err as Error).message}`);
    }
  }

  private onLocalDescription(s: Session, sdp: string, type: string): void {
    if (s.phase !== 'signaling') return;
    const expected = s.role === 'dialer' ? 'offer' : 'answer';
    if (type.toLowerCase() !== expected) {
      this.log('warn', `signaling ${s.label}: unexpected local ${type}`);
      return;
    }
    if (s.localDescriptionSent || s.heldAnswer !== undefined) return;
    if (s.role === 'acceptor' && s.order === 'acceptor-first' && !s.iceConnected) {
      s.heldAnswer = sdp;
      setTimeout(() => this.sendHeldAnswer(s), ACCEPTOR_ANSWER_HOLD_MS).unref?.();
      return;
    }
    this.sendLocalDescription(s, sdp);
  }

  private sendLocalDescription(s: Session, sdp: string): void {
    s.localDescriptionSent = true;
    s.localFingerprint = fingerprintFromSdp(sdp);
    if (s.role === 'dialer') {
      s.sentOffer = true;
      this.sendSignal(s, { type: 'offer', sdp: s.order === 'acceptor-first' ? asActiveOffer(sdp) : sdp });
    } else {
      this.sendSignal(s, { type: 'answer', sdp });
    }
    // Native callbacks of different kinds are not ordered: candidates that
    // overtook the description are sent now, after it.
    this.sendLocalCandidates(s);
  }

  /** Acceptor-first: our ICE check succeeded (our DTLS server is listening), or the hold is over. */
  private sendHeldAnswer(s: Session): void {
    if (s.phase !== 'signaling' || s.heldAnswer === undefined || s.localDescriptionSent) return;
    const sdp = s.heldAnswer;
    s.heldAnswer = undefined;
    this.sendLocalDescription(s, sdp);
  }

  private onLocalCandidate(s: Session, candidate: string, mid: string): void {
    if (s.phase !== 'signaling') return;
    s.pendingLocalCandidates.push({ candidate, mid });
    this.sendLocalCandidates(s);
  }

  private onIceState(s: Session, state: string): void {
    if (state !== 'connected' && state !== 'completed') return;
    s.iceConnected = true;
    this.sendHeldAnswer(s);
    this.sendLocalCandidates(s);
  }

  /** Sends the held local candidates that may leave now (mayLeave), in order; the rest stay held. */
  private sendLocalCandidates(s: Session): void {
    if (s.phase !== 'signaling') return;
    const held = s.pendingLocalCandidates.splice(0);
    for (const c of held) {
      if (this.mayLeave(s, c.candidate)) this.sendSignal(s, { type: 'candidate', ...c });
      else s.pendingLocalCandidates.push(c);
    }
  }

  /**
   * Whether a local candidate may go to the peer now. Candidates always
   * follow our description. The dialer's also wait for the answer to be
   * applied, and its host candidates for its own first successful ICE check
   * (at most DIALER_HOST_CANDIDATE_HOLD_MS). That works around two races in
   * libdatachannel 0.24.5 (BENCHMARKS.md, "Link setup"):
   * - An acceptor that can reach us before the answer is in makes our ICE
   *   agent connect inside setRemoteDescription, before libdatachannel has
   *   stored the answer; the DTLS certificate check then finds no remote
   *   fingerprint and fails ("DTLS alert: unknown CA", connection failed).
   * - A ClientHello that reaches our DTLS server (the dialer is DTLS server:
   *   the acceptor answers a=setup:active) before that server has started is
   *   buffered and then often not processed until the client resends it
   *   after OpenSSL's 1 s timer: the ~1 s setups.
   * So the acceptor can reach us only once our own check has succeeded, and
   * by then our DTLS server is listening. Server-reflexive and relay
   * candidates go with the answer: behind a NAT our checks need the
   * acceptor's to open the way.
   */
  private mayLeave(s: Session, candidate: string): boolean {
    if (!s.localDescriptionSent) return false;
    if (s.role === 'acceptor' || s.order === 'acceptor-first') return true;
    if (!s.remoteDescriptionSet) return false;
    return !/ typ host\b/.test(candidate) || s.iceConnected || s.candidateHoldOver;
  }

  private onRemoteChannel(s: Session, dc: DataChannel): void {
    s.peer?.adoptChannel(dc);
    let label = '';
    try {
      label = dc.getLabel();
    } catch {
      // destroyed already
    }
    if (s.phase === 'closed' || label !== LVS_CHANNEL_LABEL || s.dc) {
      if (s.phase !== 'closed') this.log('debug', `signaling ${s.label}: ignoring DataChannel ${JSON.stringify(label)}`);
      try {
        dc.close();
      } catch {
        // destroyed already
      }
      return;
    }
    this.wireChannel(s, dc);
    let open = false;
    try {
      open = dc.isOpen();
    } catch {
      // destroyed
    }
    if (open) this.onChannelOpen(s);
  }

  private wireChannel(s: Session, dc: DataChannel): void {
    s.dc = dc;
    dc.onOpen(() => this.onChannelOpen(s));
    dc.onMessage((msg) => {
      const frame = typeof msg === 'string' ? msg : toUint8(msg);
      if (s.phase === 'signaling') {
        this.onChannelOpen(s); // a message proves the channel open; callbacks are unordered
        return this.onFrameBeforeProof(s, frame);
      }
      if (s.phase !== 'open' || !s.link) return;
      // The hot path (one call per frame): no closure per frame, the same isolation as deliver().
      try {
        this.handler.onFrame(s.link, frame);
      } catch (err) {
        this.log('warn', `handler onFrame threw: ${(err as Error).stack ?? String(err)}`);
      }
    });
    dc.onClosed(() => this.lost(s, 'channel closed'));
    dc.onError((err) => this.lost(s, `channel error: ${err}`));
  }

  private onPeerState(s: Session, state: string): void {
    if (state === 'failed') this.lost(s, 'connection failed');
    else if (state === 'disconnected') this.lost(s, 'connection lost');
    else if (state === 'closed') this.lost(s, 'connection closed');
  }

  /** The PeerConnection or the channel went away. */
  private lost(s: Session, reason: string): void {
    if (s.phase === 'open') {
      // The far end may close this link because a newer session won there before its proof reached us.
      this.closeLink(s, this.pendingReplacement(s) ?? reason);
    } else if (s.phase === 'signaling') {
      // A dialer whose proof is out: the acceptor's close code says why (a refused proof, a duplicate); wait for it, briefly.
      if (s.role === 'dialer' && s.authSent && (s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CLOSING)) {
        if (s.lostReason) return;
        s.lostReason = reason;
        const timer = setTimeout(() => this.lost(s, reason), CLOSE_REASON_WAIT_MS);
        timer.unref?.();
        s.ws.once('close', () => clearTimeout(timer));
        return;
      }
      if (this.retrySetup(s, reason)) return;
      // The far end may close a crossing dial's connection as soon as the winner opens there: follow that winner (open or pending).
      this.endSession(
        s,
        new DialError('unreachable', `WebRTC connection to ${s.remoteAddress}: ${reason}`),
        { code: SignalClose.protocol, reason },
        this.winnerFor(s),
      );
    }
  }

  /**
   * An acceptor-first setup whose PeerConnection failed before its channel
   * opened is set up again for the same dial promises (SetupOrder): acceptor
   * first while it has had fewer than SETUP_FAST_ATTEMPTS tries (the race it
   * lost is rare and independent from one try to the next), then dialer
   * first, which cannot lose it. Returns false if this is not such a session.
   */
  private retrySetup(s: Session, reason: string): boolean {
    if (s.role !== 'dialer' || s.order !== 'acceptor-first' || s.channelUpAt !== undefined || !s.target || this.closing) return false;
    if (reason !== 'connection failed') return false;
    this.counters.setupRetries++;
    const order: SetupOrder = s.attempt < SETUP_FAST_ATTEMPTS ? 'acceptor-first' : 'dialer-first';
    this.log('debug', `signaling ${s.label}: acceptor-first setup failed; once more, ${order}`);
    const waiters = s.waiters.splice(0);
    this.endSession(s, new DialError('unreachable', 'setup retried'), { code: SignalClose.protocol, reason: 'setup failed, retrying' });
    this.openDial(s.target, waiters, order, s.attempt + 1);
    return true;
  }

  /**
   * The DataChannel is up. The dialer proves itself first; the acceptor
   * answers with its own proof only once the dialer's checked out, so a
   * stranger learns nothing and costs us one signature check, and neither
   * side opens a link the other refused.
   */
  private onChannelOpen(s: Session): void {
    s.channelUpAt ??= performance.now();
    if (s.phase !== 'signaling' || this.closing || s.role !== 'dialer' || s.authSent) return;
    void this.sendAuth(s);
  }

  /** Sends our auth frame once; false if it could not be sent (the session is ended then). */
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
    if (s.phase !== 'signaling' || !s.dc) return false;
    try {
      if (s.dc.sendMessage(frame)) return true;
    } catch {
      // fall through
    }
    this.lost(s, 'cannot send the proof of identity');
    return false;
  }

  /** Both ends' ids, DTLS fingerprints and nonces of this connection, or null if one is missing. */
  private authContext(s: Session): AuthContext | null {
    let remote: string | null = null;
    try {
      const fp = s.peer?.pc.remoteFingerprint();
      if (fp && fp.value) remote = normaliseFingerprint(String(fp.algorithm), fp.value);
    } catch {
      remote = null;
    }
    if (!remote || !s.localFingerprint || !s.peerId || !s.peerNonce) return null;
    return authContextOf({ role: s.role, localId: this.localId, peerId: s.peerId, localFingerprint: s.localFingerprint, remoteFingerprint: remote, localNonce: s.localNonce, peerNonce: s.peerNonce });
  }

  /** The first frame is the peer's auth frame; what follows waits (bounded) until it is checked. */
  private onFrameBeforeProof(s: Session, frame: string | Uint8Array): void {
    if (s.phase !== 'signaling') return;
    if (s.authReceived) {
      if (s.framesBeforeProof.length >= MAX_FRAMES_BEFORE_PROOF) return this.failProof(s, 'bad-auth-frame', 'too many frames before the proof');
      s.framesBeforeProof.push(frame);
      return;
    }
    s.authReceived = true;
    const context = this.authContext(s);
    if (!context) return this.failProof(s, 'no-fingerprint', 'no DTLS fingerprint for this connection');
    void checkAuthFrame(frame, s.role, context, this.auth).then(async (result) => {
      if (s.phase !== 'signaling' || this.closing) return;
      if (!result.ok) return this.failProof(s, result.reason, result.detail);
      if (!this.ledger.admitId(s.remoteIp, s.peerId!)) {
        this.count('refused', 'too many ids from one address');
        this.log('warn', `signaling ${s.label}: refused: more than the allowed number of node ids from ${s.remoteIp}`);
        return this.endSession(s, new DialError('refused', `${s.remoteAddress}: too many node ids from that address`, s.peerId), {
          code: SignalClose.full,
          reason: 'too many ids from this address',
        });
      }
      if (s.role === 'acceptor' && !(await this.sendAuth(s))) return;
      if (s.phase !== 'signaling' || this.closing) return;
      this.counters.proven++;
      if (s.channelUpAt !== undefined) {
        if (this.proofTimes.length >= PROOF_TIMES_KEPT) this.proofTimes.shift();
        this.proofTimes.push(performance.now() - s.channelUpAt);
      }
      this.onProven(s);
    });
  }

  /** A proof failed: logged (rate-limited per address), counted, and the address earns a hold-off. */
  private failProof(s: Session, reason: AuthFailure, detail: string): void {
    if (s.phase !== 'signaling') return;
    this.counters.proofFailures[reason] = (this.counters.proofFailures[reason] ?? 0) + 1;
    const held = this.ledger.proofFailed(s.remoteIp);
    if (this.ledger.mayLog(s.remoteIp)) {
      this.log('warn', `signaling ${s.label}: proof of identity failed (${reason}): ${detail}${held ? `; ${s.remoteIp} is held off` : ''}`);
    }
    this.endSession(s, new DialError('protocol', `${s.remoteAddress} did not prove it is ${s.peerId ?? 'the node it claims'}: ${detail}`, s.peerId), {
      code: SignalClose.unproven,
      reason,
    });
  }

  private count(kind: 'refused', reason: string): void {
    this.counters[kind][reason] = (this.counters[kind][reason] ?? 0) + 1;
  }

  /** The peer proved its id on this connection: apply the conflict rules, then the link opens. */
  private onProven(s: Session): void {
    if (!this.resolveAtProof(s)) return;
    const peerId = s.peerId!;
    const old = this.links.get(peerId);
    if (old) this.closeLink(old, old.peerInstance !== s.peerInstance || old.dialerId === s.dialerId ? 'replaced' : 'duplicate');
    s.phase = 'open';
    clearTimeout(s.timer);
    this.links.set(peerId, s);
    const backend: LinkBackend = {
      isOpen: () => {
        if (s.phase !== 'open' || !s.dc) return false;
        try {
          return s.dc.isOpen();
        } catch {
          return false;
        }
      },
      send: (data) => {
        if (s.phase !== 'open' || !s.dc) return false;
        try {
          return typeof data === 'string' ? s.dc.sendMessage(data) : s.dc.sendMessageBinary(data);
        } catch {
          return false;
        }
      },
      close: (reason) => this.closeLink(s, reason),
    };
    s.link = new WebRtcLink(peerId, s.peerInstance!, s.dialledAddress, s.remoteAddress, backend);
    closeWs(s.ws, 1000, 'link open'); // signaling is transient
    this.log('info', `link ${s.label} open (identity proven)`);
    this.deliver('onLink', () => this.handler.onLink(s.link!));
    // onLink may have closed it again; the dial still found its peer.
    for (const w of s.waiters.splice(0)) w.resolve(peerId);
    // Frames the peer sent right after its proof, in order.
    for (const frame of s.framesBeforeProof.splice(0)) {
      if (s.phase !== 'open' || !s.link) break;
      this.deliver('onFrame', () => this.handler.onFrame(s.link!, frame));
    }
  }

  /** Ends a session that is not open. Its dial promises follow `winner` if given and alive. */
  private endSession(s: Session, error: DialError, close?: { code: number; reason: string }, winner?: Session): void {
    if (s.phase !== 'signaling') return;
    s.phase = 'closed';
    clearTimeout(s.timer);
    this.sessions.delete(s);
    if (close) closeWs(s.ws, close.code, close.reason);
    else closeWs(s.ws, 1000, 'done');
    s.peer?.close();
    const waiters = s.waiters.splice(0);
    if (waiters.length === 0) this.log('debug', `signaling ${s.label} ended: ${error.message}`);
    for (const w of waiters) {
      if (winner && winner.phase === 'open' && winner.peerId) w.resolve(winner.peerId);
      else if (winner && winner.phase === 'signaling') winner.waiters.push(w);
      else w.reject(error);
    }
  }

  /** Closes an open link: onUnlink once, never an event after. */
  private closeLink(s: Session, reason: string): void {
    if (s.phase !== 'open') return;
    s.phase = 'closed';
    this.sessions.delete(s);
    if (s.peerId && this.links.get(s.peerId) === s) this.links.delete(s.peerId);
    closeWs(s.ws, 1000, 'link closed');
    s.peer?.close();
    this.log('info', `link ${s.label} closed: ${reason}`);
    const link = s.link!;
    this.deliver('onUnlink', () => this.handler.onUnlink(link, reason));
  }

  private safeAdmit(peerId: string, hint: AdmissionHint): boolean {
    try {
      return this.admit(peerId, hint) !== false;
    } catch (err) {
      this.log('warn', `admission callback threw: ${(err as Error).message}`);
      return false;
    }
  }

  private deliver(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log('warn', `handler ${what} threw: ${(err as Error).stack ?? String(err)}`);
    }
  }

  private log(level: 'debug' | 'info' | 'warn', message: string): void {
    try {
      this.logFn?.(level, message);
    } catch {
      // logging must never break the transport
    }
  }

  // ---------------------------------------------------------------- shutdown

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.closing = true;
    const closed = new DialError('closed', 'transport shut down');
    // Every DataChannel first, then (below) every PeerConnection; the native
    // callbacks this triggers arrive later and find the sessions closed.
    this.lease?.closeChannels();
    for (const s of [...this.sessions]) {
      if (s.phase === 'open') this.closeLink(s, 'shutdown');
      else this.endSession(s, closed, { code: SignalClose.shutdown, reason: 'shutting down' });
    }
    try {
      await this.lease?.release();
    } catch (err) {
      this.log('warn', `native release failed: ${(err as Error).message}`);
    }
    // Close handshakes that did not finish by now never will.
    for (const ws of [...this.sockets]) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }
}
