/** The browser's LvsApi over the WebSocket bridge (renderer/bridge-client.ts), against a fake socket. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BridgeRequest, NodeEventMessage } from '../main/bridge/api.js';
import { BridgeClient, bridgeUrl, reconnectDelay, type ConnectionState, type SocketLike } from '../renderer/bridge-client.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: BridgeRequest[] = [];
  closedWith: number | null = null;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as BridgeRequest);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  reply(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
}

let sockets: FakeSocket[] = [];
function client(timeoutMs = 10_000): BridgeClient {
  return new BridgeClient('ws://127.0.0.1:7710/bridge', {
    socket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    timeoutMs,
    random: () => 0.5,
    now: () => 0,
  });
}

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('BridgeClient', () => {
  it('queues calls until the socket opens, then answers by id', async () => {
    const c = client();
    c.start();
    const pending = c.getStatus();
    expect(sockets[0]!.sent).toHaveLength(0);
    sockets[0]!.open();
    const req = sockets[0]!.sent[0]!;
    expect(req).toMatchObject({ channel: 'lvs:get-status', args: [] });
    sockets[0]!.reply({ id: req.id, result: { ok: true, value: { id: 'X' } } });
    await expect(pending).resolves.toEqual({ ok: true, value: { id: 'X' } });
  });

  it('sends each method on its channel with its arguments and passes errors through', async () => {
    const c = client();
    c.start();
    sockets[0]!.open();
    const add = c.addPeer('10.0.0.2:7710');
    const upd = c.updateSettings({ cycleMs: 150 });
    const pause = c.setPaused(true);
    const sent = sockets[0]!.sent;
    expect(sent.map((r) => [r.channel, r.args])).toEqual([
      ['lvs:add-peer', ['10.0.0.2:7710']],
      ['lvs:update-settings', [{ cycleMs: 150 }]],
      ['lvs:set-paused', [true]],
    ]);
    sockets[0]!.reply({ id: sent[0]!.id, result: { ok: false, error: 'bad address' } });
    sockets[0]!.reply({ id: sent[1]!.id, result: 'garbage' });
    sockets[0]!.reply('not json');
    sockets[0]!.reply({ id: sent[2]!.id, result: { ok: true, value: { paused: true } } });
    await expect(add).resolves.toEqual({ ok: false, error: 'bad address' });
    await expect(upd).resolves.toMatchObject({ ok: false, error: expect.stringContaining('malformed') });
    await expect(pause).resolves.toEqual({ ok: true, value: { paused: true } });
  });

  it('delivers pushed events to subscribers until they unsubscribe', () => {
    const c = client();
    c.start();
    sockets[0]!.open();
    const got: NodeEventMessage[] = [];
    const off = c.onEvent((e) => got.push(e));
    sockets[0]!.reply({ event: { type: 'paused', paused: true } });
    off();
    sockets[0]!.reply({ event: { type: 'paused', paused: false } });
    expect(got).toEqual([{ type: 'paused', paused: true }]);
  });

  it('fails calls in flight when the socket drops, reports it, and reconnects with backoff', async () => {
    const c = client();
    const states: ConnectionState[] = [];
    c.onConnection((s) => states.push(s));
    c.start();
    sockets[0]!.open();
    const inFlight = c.getSettings();
    sockets[0]!.drop();
    await expect(inFlight).resolves.toMatchObject({ ok: false, error: expect.stringContaining('lost the connection') });
    expect(states.at(-1)).toMatchObject({ connected: false, everConnected: true, attempt: 1, retryAt: reconnectDelay(1, () => 0.5) });
    // A call made while disconnected waits for the next socket.
    const later = c.getStatus();
    vi.advanceTimersByTime(reconnectDelay(1, () => 0.5));
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(states.at(-1)).toMatchObject({ connected: true, attempt: 0 });
    const req = sockets[1]!.sent[0]!;
    sockets[1]!.reply({ id: req.id, result: { ok: true, value: 1 } });
    await expect(later).resolves.toEqual({ ok: true, value: 1 });
  });

  it('times a call out with one clear line', async () => {
    const c = client(2000);
    c.start();
    const call = c.getStatus();
    vi.advanceTimersByTime(2000);
    await expect(call).resolves.toEqual({ ok: false, error: 'not connected to the node (waited 2 s)' });
  });

  it('stops for good on close()', async () => {
    const c = client();
    c.start();
    sockets[0]!.open();
    const call = c.getStatus();
    c.close();
    await expect(call).resolves.toMatchObject({ ok: false });
    expect(sockets[0]!.closedWith).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    await expect(c.getStatus()).resolves.toMatchObject({ ok: false });
  });
});

describe('BridgeClient while the node asks for a credential', () => {
  it('offers the current subprotocols on every connect', () => {
    let protocols = ['lvs-bridge'];
    const offered: string[][] = [];
    const c = new BridgeClient('ws://h/bridge', {
      socket: (url, p) => {
        offered.push(p);
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      protocols: () => protocols,
      random: () => 0.5,
    });
    c.start();
    protocols = ['lvs-bridge', 'lvs-auth.c2VjcmV0'];
    sockets[0]!.drop();
    vi.advanceTimersByTime(reconnectDelay(1, () => 0.5));
    expect(offered).toEqual([['lvs-bridge'], ['lvs-bridge', 'lvs-auth.c2VjcmV0']]);
  });

  it('suspend() closes the socket and stops reconnecting; unsent calls wait for resume()', async () => {
    const c = client();
    const states: ConnectionState[] = [];
    c.onConnection((s) => states.push(s));
    c.start();
    sockets[0]!.open();
    const sent = c.getStatus();
    c.suspend('the node asks for its credential');
    await expect(sent).resolves.toMatchObject({ ok: false, error: expect.stringContaining('the node asks for its credential') });
    expect(sockets[0]!.closedWith).toBe(1000);
    expect(states.at(-1)).toMatchObject({ connected: false, retryAt: null, lastError: 'the node asks for its credential' });
    const waiting = c.getStatus();
    vi.advanceTimersByTime(9_000);
    expect(sockets).toHaveLength(1);
    c.resume();
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    const req = sockets[1]!.sent[0]!;
    sockets[1]!.reply({ id: req.id, result: { ok: true, value: 2 } });
    await expect(waiting).resolves.toEqual({ ok: true, value: 2 });
  });
});

describe('reconnect delay and url', () => {
  it('doubles from 0.5 s to a 10 s cap, jittered by ±20%', () => {
    expect(reconnectDelay(1, () => 0.5)).toBe(500);
    expect(reconnectDelay(2, () => 0.5)).toBe(1000);
    expect(reconnectDelay(10, () => 0.5)).toBe(10_000);
    expect(reconnectDelay(1, () => 0)).toBe(400);
    expect(reconnectDelay(1, () => 1)).toBe(600);
  });

  it('follows the page scheme', () => {
    expect(bridgeUrl({ protocol: 'http:', host: '127.0.0.1:7710' })).toBe('ws://127.0.0.1:7710/bridge');
    expect(bridgeUrl({ protocol: 'https:', host: 'node.local' })).toBe('wss://node.local/bridge');
  });
});
