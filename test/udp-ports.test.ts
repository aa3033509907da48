/**
 * `--udp-ports A-B` (the `udpPorts` setting) pins the UDP ports WebRTC binds,
 * so a firewall can open just that range (docs/two-machines.md). Real node
 * processes on 127.0.0.1: the dialling node signals through a small
 * recording WebSocket relay, and every ICE candidate either node offers
 * (in its SDP or trickled) must carry a port inside that node's range.
 *
 * The ranges lie below Linux's ephemeral range (32768-60999), so no
 * unrelated socket on this machine is likely to sit on them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { killAll, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

const RANGE_A = { begin: 23100, end: 23109 };
const RANGE_B = { begin: 23110, end: 23119 };
/** One port for two would-be links: the second one cannot bind. */
const ONE_PORT = 23120;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dataDir(): string {
  const dir = tempDir('lvs-udp-');
  cleanups.push(() => dir.remove());
  return dir.path;
}

/** UDP ICE candidates in a signaling frame, wherever the frame carries them (an SDP line or a trickled candidate). */
function candidatePorts(text: string): { address: string; port: number }[] {
  const found: { address: string; port: number }[] = [];
  for (const m of text.matchAll(/candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ/gi)) found.push({ address: m[1]!, port: Number(m[2]) });
  return found;
}

/**
 * A WebSocket relay on 127.0.0.1 that forwards /signal to `target` and
 * keeps every text frame, by direction: `fromDialer` are the dialling
 * node's frames, `fromTarget` the dialled node's.
 */
async function signalRelay(targetPort: number): Promise<{ port: number; fromDialer: string[]; fromTarget: string[] }> {
  const fromDialer: string[] = [];
  const fromTarget: string[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (down) => {
      const up = new WebSocket(`ws://127.0.0.1:${targetPort}/signal`);
      const pending: string[] = [];
      const text = (data: RawData) => data.toString();
      down.on('message', (data) => {
        fromDialer.push(text(data));
        if (up.readyState === WebSocket.OPEN) up.send(text(data));
        else pending.push(text(data));
      });
      up.on('open', () => {
        for (const frame of pending.splice(0)) up.send(frame);
      });
      up.on('message', (data) => {
        fromTarget.push(text(data));
        if (down.readyState === WebSocket.OPEN) down.send(text(data));
      });
      const closeBoth = () => {
        down.close();
        up.close();
      };
      up.on('close', closeBoth);
      down.on('close', closeBoth);
      up.on('error', closeBoth);
      down.on('error', closeBoth);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { port: (server.address() as AddressInfo).port, fromDialer, fromTarget };
}

function linked(status: Awaited<ReturnType<NodeProcess['status']>>, id: string): boolean {
  return status.peers.some((p) => p.id === id && p.connected);
}

describe('--udp-ports', () => {
  it('keeps every ICE candidate of both nodes inside their ranges, and the link works', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--udp-ports', `${RANGE_A.begin}-${RANGE_A.end}`, '--name', 'a']);
    const relay = await signalRelay(a.port);
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--udp-ports', `${RANGE_B.begin}-${RANGE_B.end}`, '--name', 'b', '--peer', `127.0.0.1:${relay.port}`]);

    await waitFor('a and b linked both ways', async () => linked(await a.status(), b.id) && linked(await b.status(), a.id));
    // Frames flow over the link: each side holds a fresh replica of the other.
    await waitFor('fresh replicas both ways', async () => {
      const [sa, sb] = await Promise.all([a.status(), b.status()]);
      return sa.peers.some((p) => p.id === b.id && p.fresh && p.drift) && sb.peers.some((p) => p.id === a.id && p.fresh && p.drift);
    });

    const fromA = relay.fromTarget.flatMap(candidatePorts);
    const fromB = relay.fromDialer.flatMap(candidatePorts);
    expect(fromA.length, relay.fromTarget.join('\n')).toBeGreaterThan(0);
    expect(fromB.length, relay.fromDialer.join('\n')).toBeGreaterThan(0);
    for (const c of fromA) {
      expect(c.address).toBe('127.0.0.1');
      expect(c.port).toBeGreaterThanOrEqual(RANGE_A.begin);
      expect(c.port).toBeLessThanOrEqual(RANGE_A.end);
    }
    for (const c of fromB) {
      expect(c.address).toBe('127.0.0.1');
      expect(c.port).toBeGreaterThanOrEqual(RANGE_B.begin);
      expect(c.port).toBeLessThanOrEqual(RANGE_B.end);
    }
    // The range is logged at start and saved as the udpPorts setting.
    expect(a.records.some((r) => r.kind === 'start' && r.msg === `WebRTC UDP ports ${RANGE_A.begin}-${RANGE_A.end} (one per link)`)).toBe(true);
  }, 90_000);

  it('a range smaller than the links refuses the extra link with a reason and keeps the rest', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--udp-ports', `${ONE_PORT}-${ONE_PORT}`, '--name', 'a']);
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'b', '--peer', `127.0.0.1:${a.port}`]);
    await waitFor('b linked to a', async () => linked(await a.status(), b.id));
    const c = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'c', '--peer', `127.0.0.1:${a.port}`]);
    // a has no UDP port left for c's link: c's dial fails, saying why, and is retried with backoff.
    const failure = await waitFor('c to report that a could not gather ICE candidates', async () => {
      const target = (await c.status()).dialTargets.find((t) => t.address === `127.0.0.1:${a.port}`);
      return target?.lastError?.includes('Failed to gather local ICE candidates') ? target : null;
    });
    expect(failure.failures).toBeGreaterThan(0);
    const s = await a.status();
    expect(linked(s, b.id)).toBe(true);
    expect(linked(s, c.id)).toBe(false);
    expect(a.child.exitCode).toBeNull();
  }, 90_000);
});
