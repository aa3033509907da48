/**
 * The dashboard's doors into a real node (in this process, real WebRTC
 * transport, real HTTP, real files): the WebSocket bridge validates every
 * frame, refuses foreign pages, and changes nothing on bad input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { BridgeServerFrame } from '../main/bridge/api.js';
import { parseCli } from '../main/headless/cli-args.js';
import { runNode, type RunningNode } from '../main/headless/run-node.js';
import { tempDir } from './helpers/node-process.js';

let running: RunningNode;
let dir: { path: string; remove(): void };

beforeEach(async () => {
  dir = tempDir('lvs-bridge-');
  const cmd = parseCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir.path, '--name', 'bridge-test', '--no-discovery']);
  if (cmd.kind !== 'run') throw new Error('expected run');
  running = await runNode(cmd.options, () => {});
});

afterEach(async () => {
  await running.stop();
  dir.remove();
});

function connect(headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${running.http.port}/bridge`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Sends one raw frame and resolves with the reply carrying `id` (0 for frames rejected before their id is known). */
type Reply = Extract<BridgeServerFrame, { id: number }>;

function call(ws: WebSocket, frame: unknown, id: number): Promise<Reply> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as BridgeServerFrame;
      if ('id' in msg && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg as Reply);
      }
    };
    ws.on('message', onMessage);
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  });
}

function storeFile(): string {
  return readFileSync(running.store.path, 'utf8');
}

describe('WebSocket bridge', () => {
  it('answers status and pushes cycle events', async () => {
    const ws = await connect();
    const reply = await call(ws, { id: 1, channel: 'lvs:get-status', args: [] }, 1);
    expect(reply.result).toMatchObject({ ok: true, value: { id: running.node.id, name: 'bridge-test' } });
    const event = await new Promise<BridgeServerFrame>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    expect(event).toMatchObject({ event: { type: 'cycle' } });
    ws.close();
  });

  it.each([
    ['not json', '{oops', 0, /not valid JSON/],
    ['wrong shape', { channel: 'lvs:get-status' }, 0, /\{id, channel, args/],
    ['unknown channel', { id: 2, channel: 'lvs:format-disk', args: [] }, 2, /unknown channel/],
    ['event channel as request', { id: 3, channel: 'lvs:event', args: [] }, 3, /unknown channel/],
    ['wrong argument type', { id: 4, channel: 'lvs:set-paused', args: ['yes'] }, 4, /lvs:set-paused: argument 0/],
    ['too many arguments', { id: 5, channel: 'lvs:get-status', args: [1] }, 5, /lvs:get-status/],
    ['out-of-range setting', { id: 6, channel: 'lvs:update-settings', args: [{ beta: 0.9 }] }, 6, /beta must be a number from 0 to 0.5/],
    ['unknown setting', { id: 7, channel: 'lvs:update-settings', args: [{ colour: 'red' }] }, 7, /unknown setting "colour"/],
    ['cycle below 50 ms', { id: 8, channel: 'lvs:update-settings', args: [{ cycleMs: 10 }] }, 8, /cycleMs/],
    ['bad peer address', { id: 9, channel: 'lvs:add-peer', args: ['not an address'] }, 9, /"not an address"/],
  ])('rejects %s with a clear error and changes nothing', async (_name, frame, id, message) => {
    const ws = await connect();
    running.store.flush();
    const before = storeFile();
    const settingsBefore = running.store.settings;
    const reply = await call(ws, frame, id);
    expect(reply.result.ok).toBe(false);
    if (!reply.result.ok) {
      expect(reply.result.error).toMatch(message);
      expect(reply.result.error.split('\n')).toHaveLength(1);
    }
    expect(running.store.settings).toEqual(settingsBefore);
    running.store.flush();
    expect(JSON.parse(storeFile()).settings).toEqual(JSON.parse(before).settings);
    expect(running.node.status().paused).toBe(false);
    ws.close();
  });

  it('applies and persists a valid settings change, and says which fields need a restart', async () => {
    const ws = await connect();
    const reply = await call(ws, { id: 1, channel: 'lvs:update-settings', args: [{ beta: 0.2, cycleMs: 150, port: 7799 }] }, 1);
    expect(reply.result).toMatchObject({ ok: true, value: { settings: { beta: 0.2, cycleMs: 150, port: 7799 }, restartRequired: ['port'] } });
    expect(running.node.status().config).toMatchObject({ beta: 0.2, cycleMs: 150 });
    expect(JSON.parse(storeFile()).settings).toMatchObject({ beta: 0.2, cycleMs: 150, port: 7799 });
    ws.close();
  });

  it('saves ICE servers as needing a restart, applies a lower maxPeers at once, and compares lists by content', async () => {
    const ws = await connect();
    const ice = ['stun:stun.example.org:3478'];
    const first = await call(ws, { id: 1, channel: 'lvs:update-settings', args: [{ iceServers: ice, maxPeers: 3 }] }, 1);
    expect(first.result).toMatchObject({ ok: true, value: { settings: { iceServers: ice, maxPeers: 3 }, restartRequired: ['iceServers'] } });
    expect(running.node.status().config.maxPeers).toBe(3);
    expect(JSON.parse(storeFile()).settings.iceServers).toEqual(ice);
    const again = await call(ws, { id: 2, channel: 'lvs:update-settings', args: [{ iceServers: [...ice] }] }, 2);
    expect(again.result).toMatchObject({ ok: true, value: { restartRequired: [] } });
    const bad = await call(ws, { id: 3, channel: 'lvs:update-settings', args: [{ iceServers: ['turn:nouser.example.org:3478'] }] }, 3);
    expect(bad.result).toEqual({ ok: false, error: expect.stringMatching(/^iceServers: "turn:nouser.example.org:3478" is not .*TURN needs user and password\)$/) });
    ws.close();
  });

  it('reloads edited settings from the file the way an update applies them (the SIGHUP path)', () => {
    const data = JSON.parse(storeFile());
    data.settings = { ...data.settings, gamma: 0.02, maxPeers: 2, port: 7798 };
    writeFileSync(running.store.path, JSON.stringify(data));
    const result = running.service.reloadSettings();
    expect(result).toEqual({ ok: true, value: { settings: expect.objectContaining({ gamma: 0.02, maxPeers: 2 }), changed: ['port', 'gamma', 'maxPeers'], restartRequired: ['port'] } });
    expect(running.node.status().config).toMatchObject({ gamma: 0.02, maxPeers: 2 });
  });

  it('pauses and resumes the drift cycle', async () => {
    const ws = await connect();
    expect((await call(ws, { id: 1, channel: 'lvs:set-paused', args: [true] }, 1)).result).toEqual({ ok: true, value: { paused: true } });
    expect(running.node.status().paused).toBe(true);
    await call(ws, { id: 2, channel: 'lvs:set-paused', args: [false] }, 2);
    expect(running.node.status().paused).toBe(false);
    ws.close();
  });

  it('adds a peer by address and lists it as a dial target', async () => {
    const ws = await connect();
    const reply = await call(ws, { id: 1, channel: 'lvs:add-peer', args: [' 127.0.0.1:9 '] }, 1);
    expect(reply.result).toEqual({ ok: true, value: { address: '127.0.0.1:9' } });
    expect(running.node.status().dialTargets.map((t) => t.address)).toContain('127.0.0.1:9');
    const again = await call(ws, { id: 2, channel: 'lvs:add-peer', args: ['127.0.0.1:9'] }, 2);
    expect(again.result).toMatchObject({ ok: false, error: expect.stringMatching(/already/) });
    ws.close();
  });

  it('refuses a page from another origin', async () => {
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
  });

  it('refuses a request whose Host is not loopback (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: running.http.port, path: '/api/status', headers: { host: 'rebind.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('dashboard files', () => {
  it('never serves a file outside the dashboard directory', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/main/headless/cli.js']) {
      const res = await fetch(`http://127.0.0.1:${running.http.port}${path}`);
      expect(res.status, path).toBe(404);
    }
  });
});

describe('log replay', () => {
  it('gives a dashboard that connects late the log lines it missed', async () => {
    running.node.setPaused(true); // logs "drift cycle paused" before anyone is connected
    const ws = new WebSocket(`ws://127.0.0.1:${running.http.port}/bridge`);
    const first = await new Promise<BridgeServerFrame>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    expect(first).toMatchObject({ event: { type: 'log', message: 'drift cycle paused' } });
    ws.close();
  });
});
