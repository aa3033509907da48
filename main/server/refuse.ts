/** Answering a refused upgrade on a raw socket, before any WebSocket exists. */
import type { Duplex } from 'node:stream';

/**
 * Writes a bodiless HTTP response and closes the socket once it is flushed
 * (a client that never reads cannot hold it: the response fits the kernel's
 * buffer). A reset from the other side is ignored.
 */
export function refuseSocket(socket: Duplex, status: string, headers: Record<string, string> = {}): void {
  socket.on('error', () => {});
  if (socket.destroyed) return;
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  try {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${lines.join('')}\r\n`, () => socket.destroy());
  } catch {
    socket.destroy();
  }
}
