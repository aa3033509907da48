/**
 * The node's one TCP port: WebSocket signaling on /signal for anyone on the
 * LAN; the status API, the dashboard and its bridge for loopback clients
 * only (unless the user opts in).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { BRIDGE_PATH } from '../bridge/api.js';
import { SIGNAL_PATH } from '../transport/signaling.js';
import { serveStatic } from './static-files.js';

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
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    const path = pathOf(req);
    const refusal = uiRefusal(req, options.uiPublic);
    if (refusal) return sendJson(res, 403, { error: refusal });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'use GET' });
    if (path === '/api/status') return sendJson(res, 200, options.getStatus());
    void (async () => {
      if (options.rendererDir && (await serveStatic(options.rendererDir, path, res))) return;
      if (path === '/' && !options.rendererDir) return sendJson(res, 503, { error: 'the dashboard is not built: run `npm run build`' });
      sendJson(res, 404, { error: `nothing at ${path}; try / or /api/status` });
    })();
  });
  server.on('upgrade', (req, socket, head) => {
    const path = pathOf(req);
    if (path === SIGNAL_PATH) return options.onSignalUpgrade(req, socket, head);
    if (path === BRIDGE_PATH) {
      if (uiRefusal(req, options.uiPublic)) return refuseUpgrade(socket, '403 Forbidden');
      return options.onBridgeUpgrade(req, socket, head);
    }
    refuseUpgrade(socket, '404 Not Found');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const fail = (message: string) => reject(new ListenError(message, options.port, err.code ?? 'UNKNOWN'));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
