/**
 * The node's one TCP port: WebSocket signaling on /signal for anyone on the
 * LAN, and the status API for loopback clients only (unless the user opts in).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export class ListenError extends Error {}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Serve the status API to non-loopback clients too. */
  statusPublic: boolean;
  getStatus(): unknown;
  onSignalUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    const path = pathOf(req);
    if (path === '/api/status') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'use GET' });
      if (!options.statusPublic && !isLoopback(req.socket.remoteAddress)) {
        return sendJson(res, 403, { error: 'the status API answers loopback clients only (start with --status-public to change that)' });
      }
      return sendJson(res, 200, options.getStatus());
    }
    sendJson(res, 404, { error: `nothing at ${path}; try /api/status` });
  });
  server.on('upgrade', (req, socket, head) => {
    if (pathOf(req) === '/signal') return options.onSignalUpgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ListenError(`port ${options.port} is already in use on ${options.host}; choose another with --port, or --port 0 for any free port`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ListenError(`cannot listen on ${options.host}: no such address on this machine`));
      else if (err.code === 'EACCES') reject(new ListenError(`not allowed to listen on port ${options.port} (ports below 1024 need privileges)`));
      else reject(new ListenError(`cannot listen on ${options.host}:${options.port}: ${err.message}`));
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
