/**
 * The dashboard's door into a headless node: the LvsApi over a WebSocket
 * (`/bridge`). Every frame is validated, then answered by the same
 * NodeService that Electron's IPC uses; events are pushed as they happen.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { BRIDGE_PROTOCOL, type BridgeServerFrame, type NodeEventMessage } from '../bridge/api.js';
import { isRequestChannel } from '../bridge/payloads.js';
import type { NodeService } from '../bridge/service.js';
import { MAX_BRIDGE_CLIENTS } from '../model/limits.js';
import { refuseSocket } from './refuse.js';

/** Largest request frame a dashboard sends (a settings patch is ~200 bytes). */
export const MAX_BRIDGE_FRAME_BYTES = 16 * 1024;
/** A client this far behind gets no more cycle events until it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;

const requestSchema = z.object({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(64),
  args: z.array(z.unknown()).max(8),
});

export class WsBridge {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_BRIDGE_FRAME_BYTES,
    // Answer with the bridge's own subprotocol when offered, never with the credential a page offers beside it.
    handleProtocols: (offered) => (offered.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  });
  /** Frames refused before they reached the service, for diagnostics. */
  rejectedFrames = 0;

  constructor(private readonly service: NodeService) {
    this.wss.on('connection', (ws) => this.serve(ws));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.wss.clients.size >= MAX_BRIDGE_CLIENTS) {
      refuseSocket(socket, '503 Service Unavailable');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private serve(ws: WebSocket): void {
    const send = (frame: BridgeServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    const unsubscribe = this.service.subscribe(
      (event: NodeEventMessage) => {
        if (event.type === 'cycle' && ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
        send({ event });
      },
      { replayLog: true },
    );
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      const reply = (id: number, error: string) => {
        this.rejectedFrames++;
        send({ id, result: { ok: false, error } });
      };
      if (isBinary) return reply(0, 'bridge frames are JSON text');
      let value: unknown;
      try {
        value = JSON.parse(data.toString());
      } catch {
        return reply(0, 'bridge frame is not valid JSON');
      }
      const parsed = requestSchema.safeParse(value);
      if (!parsed.success) return reply(0, 'bridge frame must be {id, channel, args: []}');
      const { id, channel, args } = parsed.data;
      if (!isRequestChannel(channel)) return reply(id, `unknown channel ${JSON.stringify(channel)}`);
      send({ id, result: this.service.handle(channel, args) });
    });
  }
}
