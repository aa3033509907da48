/**
 * The node's one TCP port: WebSocket signaling on /signal for anyone on the
 * LAN, behind the signaling gate (per-address limits, the Origin rule) and
 * the HTTP server's own limits; the status API, the dashboard and its
 * bridge for loopback clients only, or, with --ui-public, for clients that
 * hold the node's credential.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AUTH_CHECK_PATH, BRIDGE_PATH, type SignalingStatus, type UiAccessStatus } from '../bridge/api.js';
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_KEEP_ALIVE_TIMEOUT_MS,
  HTTP_MAX_HEADERS_COUNT,
  HTTP_MAX_HEADER_BYTES,
  HTTP_REQUEST_TIMEOUT_MS,
  HTTP_TIMEOUT_CHECK_INTERVAL_MS,
  MAX_HTTP_CONNECTIONS,
} from '../model/limits.js';
import { SIGNAL_PATH } from '../transport/signaling.js';
import { refuseSocket } from './refuse.js';
import { SignalGate } from './signal-gate.js';
import { serveStatic } from './static-files.js';
import { UiAuth, type UiAuthRefusal } from './ui-auth.js';
import type { UiCredential } from './ui-credential.js';

/** The port could not be opened; `code` is the system error (EADDRINUSE, EACCES, ...). */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Serve the status API, the dashboard and the bridge to non-loopback clients too. */
  uiPublic: boolean;
  /** Directory of the built dashboard, or null when there is none. */
  rendererDir: string | null;
  getStatus(): unknown;
  onSignalUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  onBridgeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** What --ui-public asks for (required with uiPublic, ignored without). */
  uiCredential?: UiCredential | null;
  /** Origins besides the node's own whose pages may open /signal (the allowedOrigins setting), read on every upgrade. */
  allowedOrigins?: () => readonly string[];
  /** Per-address limits of the signaling gate (default on; see SignalGateOptions.perAddress). */
  perAddressLimits?: boolean;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** Refusals of the signaling gate and the HTTP limits, by reason. */
  signalingStatus(): SignalingStatus;
  uiAccessStatus(): UiAccessStatus;
  close(): Promise<void>;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Host header names that mean "this machine" (a DNS-rebinding page sends its own name instead). */
function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Why a UI request (status, dashboard, bridge) is refused, or null. Loopback
 * only by default; a browser page from another origin may not drive the bridge.
 */
export function uiRefusal(req: IncomingMessage, uiPublic: boolean): string | null {
  if (!uiPublic && (!isLoopback(req.socket.remoteAddress) || !isLoopbackHost(req.headers.host))) {
    return 'the status API and dashboard answer loopback clients only (start with --ui-public to change that)';
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return `origin ${origin} may not use this node's dashboard`;
  return null;
}

/**
 * The /join page and what it loads (docs/browser-nodes.md): served to every
 * client, with or without --ui-public, and without the dashboard's
 * credential: joining is not control. A joined tab talks to the node only
 * over /signal and its own proven DataChannel, like any peer.
 */
export const JOIN_PATH = '/join';
const JOIN_FILES: Readonly<Record<string, string>> = {
  [JOIN_PATH]: '/join.html',
  '/join.js': '/join.js',
  '/join-clock.js': '/join-clock.js',
  '/style.css': '/style.css',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

function sendAuthRefusal(res: ServerResponse, refusal: UiAuthRefusal): void {
  for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
  sendJson(res, refusal.status, { error: refusal.error });
}

const STATUS_TEXT: Record<number, string> = { 401: '401 Unauthorized', 429: '429 Too Many Requests' };

/** HTTP parser errors a stranger causes on purpose or by mistake (a reset or a closed pipe is neither). */
function clientErrorReason(code: string | undefined): 'request-timeout' | 'headers-too-large' | 'bad-request' | null {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request-timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return 'headers-too-large';
  if (code?.startsWith('HPE_')) return 'bad-request';
  return null;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  if (options.uiPublic && !options.uiCredential) throw new TypeError('startHttpServer: uiPublic needs a uiCredential');
  const gate = new SignalGate({
    perAddress: options.perAddressLimits ?? true,
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const auth = new UiAuth(options.uiPublic ? options.uiCredential! : null);
  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req);
    const joinFile = Object.prototype.hasOwnProperty.call(JOIN_FILES, path) ? JOIN_FILES[path]! : null;
    if (joinFile && (req.method === 'GET' || req.method === 'HEAD')) {
      void (async () => {
        if (options.rendererDir && (await serveStatic(options.rendererDir, joinFile, res))) return;
        sendJson(res, 503, { error: 'the join page is not built: run `npm run build`' });
      })();
      return;
    }
    const refusal = uiRefusal(req, options.uiPublic);
    if (refusal) return sendJson(res, 403, { error: refusal });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'use GET' });
    if (path === '/api/status' || path === AUTH_CHECK_PATH) {
      const denied = auth.check(req);
      if (denied) return sendAuthRefusal(res, denied);
      if (path === AUTH_CHECK_PATH) {
        res.writeHead(204, { 'cache-control': 'no-store' });
        return void res.end();
      }
      return sendJson(res, 200, options.getStatus());
    }
    // The dashboard's files hold no secret: they are served without the credential, so the page can ask for it.
    void (async () => {
      if (options.rendererDir && (await serveStatic(options.rendererDir, path, res))) return;
      if (path === '/' && !options.rendererDir) return sendJson(res, 503, { error: 'the dashboard is not built: run `npm run build`' });
      sendJson(res, 404, { error: `nothing at ${path}; try / or /api/status` });
    })();
  };
  const server = createServer(
    {
      headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_INTERVAL_MS,
      maxHeaderSize: HTTP_MAX_HEADER_BYTES,
    },
    handleRequest,
  );
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS;
  server.maxHeadersCount = HTTP_MAX_HEADERS_COUNT;
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  server.on('connection', (socket) => gate.admitConnection(socket));
  server.on('drop', () => gate.count('server-connections'));
  server.on('upgrade', (req, socket, head) => {
    const path = pathOf(req);
    if (path === SIGNAL_PATH) {
      const refused = gate.admitSignal(req, socket);
      if (refused) return refuseSocket(socket, refused.status, refused.headers);
      return options.onSignalUpgrade(req, socket, head);
    }
    if (path === BRIDGE_PATH) {
      if (uiRefusal(req, options.uiPublic)) return refuseSocket(socket, '403 Forbidden');
      const denied = auth.check(req);
      if (denied) return refuseSocket(socket, STATUS_TEXT[denied.status]!, denied.headers);
      return options.onBridgeUpgrade(req, socket, head);
    }
    refuseSocket(socket, '404 Not Found');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const reason = clientErrorReason(err.code);
    if (reason) gate.count(reason);
    // Say why when nothing was answered yet, like Node's default handler; then close.
    const answer = reason === 'request-timeout' ? '408 Request Timeout' : reason === 'headers-too-large' ? '431 Request Header Fields Too Large' : reason ? '400 Bad Request' : null;
    if (answer && socket.writable && !(socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) refuseSocket(socket, answer);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const fail = (message: string) => {
        gate.close();
        auth.close();
        reject(new ListenError(message, options.port, err.code ?? 'UNKNOWN'));
      };
      if (err.code === 'EADDRINUSE') fail(`port ${options.port} is already in use on ${options.host}; choose another with --port, or --port 0 for any free port`);
      else if (err.code === 'EADDRNOTAVAIL') fail(`cannot listen on ${options.host}: no such address on this machine`);
      else if (err.code === 'EACCES') fail(`not allowed to listen on port ${options.port} (ports below 1024 need privileges)`);
      else fail(`cannot listen on ${options.host}:${options.port}: ${err.message}`);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    host: options.host,
    port: address.port,
    signalingStatus: () => gate.status(),
    uiAccessStatus: () => auth.status(),
    close: () =>
      new Promise<void>((resolve) => {
        gate.close();
        auth.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
