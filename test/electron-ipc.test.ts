/**
 * The desktop IPC door (main/electron/ipc.ts) over a real NodeService, a
 * real DriftNode on the in-memory transport and a real NodeStore in a temp
 * dir. Only the `electron` module is replaced: ipcMain records handlers, and
 * windows and frames are plain objects shaped like Electron's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Handler = (event: unknown, ...args: unknown[]) => unknown;

const fake = vi.hoisted(() => ({ handlers: new Map<string, Handler>() }));

vi.mock('electron', () => {
  const ipcMain = {
    handle(channel: string, handler: Handler) {
      if (fake.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      fake.handlers.set(channel, handler);
    },
    removeHandler(channel: string) {
      fake.handlers.delete(channel);
    },
  };
  return { ipcMain, default: { ipcMain } };
});

import type { NodeEventMessage, Result } from '../main/bridge/api.js';
import { NodeService } from '../main/bridge/service.js';
import { wireIpc, type IpcWiring } from '../main/electron/ipc.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { NodeStore } from '../main/store/store.js';
import { makeNode } from './helpers/memory-cluster.js';
import type { DriftNode } from '../main/node/drift-node.js';
import { discoveryOff } from '../main/discovery/mdns-discovery.js';

interface FakeFrame {
  url: string;
  processId: number;
  routingId: number;
  parent: FakeFrame | null;
}

function frame(url: string, routingId = 1, parent: FakeFrame | null = null): FakeFrame {
  return { url, processId: 7, routingId, parent };
}

function fakeWindow() {
  const sent: NodeEventMessage[] = [];
  const state = { visible: true, minimized: false, destroyed: false };
  const contents = {
    mainFrame: frame('lvs://app/index.html'),
    isDestroyed: () => state.destroyed,
    send: (channel: string, message: NodeEventMessage) => {
      expect(channel).toBe('lvs:event');
      sent.push(message);
    },
  };
  const win = {
    webContents: contents,
    isDestroyed: () => state.destroyed,
    isVisible: () => state.visible,
    isMinimized: () => state.minimized,
  };
  return { win, contents, sent, state };
}

let dir: string;
let store: NodeStore;
let node: DriftNode;
let service: NodeService;
let wiring: IpcWiring;
let window: ReturnType<typeof fakeWindow>;
let current: ReturnType<typeof fakeWindow>['win'] | null;
const logged: string[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-ipc-'));
  store = NodeStore.open(dir, { log: () => {} });
  ({ node } = makeNode(new MemoryNetwork(), 0, [1, 2], { cycleMs: 50 }));
  service = new NodeService({
    node,
    store,
    status: () => ({ ...node.status(), listen: '0.0.0.0:7710', dataDir: dir, discovery: discoveryOff('--no-discovery', 'test-instance', 7710) }),
    defaultName: 'test-host',
  });
  window = fakeWindow();
  current = window.win;
  logged.length = 0;
  wiring = wireIpc(service, () => current as never, (line) => logged.push(line));
});

afterEach(async () => {
  wiring.dispose();
  await node.stop('test over');
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What the renderer's ipcRenderer.invoke would get: the handler's value, or its thrown error. */
async function invoke(channel: string, event: unknown, ...args: unknown[]): Promise<Result<unknown>> {
  const handler = fake.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  return (await handler(event, ...args)) as Result<unknown>;
}

function fromTop(overrides: Partial<{ sender: unknown; senderFrame: unknown }> = {}) {
  return { sender: window.contents, senderFrame: window.contents.mainFrame, ...overrides };
}

function storeBytes(): string {
  return fs.readFileSync(store.path, 'utf8');
}

describe('request channels', () => {
  it('registers exactly the request channels, never the event channel, and removes them on dispose', () => {
    expect([...fake.handlers.keys()].sort()).toEqual(['lvs:add-peer', 'lvs:get-settings', 'lvs:get-status', 'lvs:set-paused', 'lvs:update-settings']);
    wiring.dispose();
    expect(fake.handlers.size).toBe(0);
    wiring = wireIpc(service, () => current as never);
  });

  it('passes valid calls from our top frame through to the node', async () => {
    const status = await invoke('lvs:get-status', fromTop());
    expect(status).toMatchObject({ ok: true, value: { id: node.id, listen: '0.0.0.0:7710' } });
    expect(await invoke('lvs:get-settings', fromTop())).toEqual({ ok: true, value: store.settings });

    expect(await invoke('lvs:set-paused', fromTop(), true)).toEqual({ ok: true, value: { paused: true } });
    expect(node.status().paused).toBe(true);

    expect(await invoke('lvs:add-peer', fromTop(), '192.168.1.20:7710')).toEqual({ ok: true, value: { address: '192.168.1.20:7710' } });
    expect(node.status().dialTargets.map((t) => t.address)).toContain('192.168.1.20:7710');

    const update = await invoke('lvs:update-settings', fromTop(), { cycleMs: 150, name: 'desk' });
    expect(update).toMatchObject({ ok: true, value: { settings: { cycleMs: 150, name: 'desk' }, restartRequired: [] } });
    expect(JSON.parse(storeBytes()).settings).toMatchObject({ cycleMs: 150, name: 'desk' });
  });
});

describe('desktop-only channels (identity backup)', () => {
  it('are registered only with their handlers, answer only our top frame, and take no arguments', async () => {
    expect(fake.handlers.has('lvs:export-identity')).toBe(false);
    wiring.dispose();
    const calls: string[] = [];
    wiring = wireIpc(service, () => current as never, () => {}, {
      'lvs:export-identity': async () => (calls.push('export'), { ok: true, value: null }),
      'lvs:import-identity': async () => (calls.push('import'), { ok: true, value: null }),
    });
    expect(await invoke('lvs:export-identity', fromTop())).toEqual({ ok: true, value: null });
    expect(await invoke('lvs:import-identity', fromTop(), 'x')).toEqual({ ok: false, error: 'lvs:import-identity takes no arguments' });
    await expect(invoke('lvs:import-identity', fromTop({ senderFrame: { ...window.contents.mainFrame, url: 'https://evil.example/x' } }))).rejects.toThrow(/not ours/);
    expect(calls).toEqual(['export']);
    wiring.dispose();
    expect(fake.handlers.size).toBe(0);
    wiring = wireIpc(service, () => current as never);
  });
});

describe('sender checks', () => {
  const cases: [string, () => ReturnType<typeof fromTop>, RegExp][] = [
    ['a subframe of our page', () => fromTop({ senderFrame: frame('lvs://app/index.html', 2, window.contents.mainFrame) }), /not sent by the top frame/],
    ['another frame in the same process', () => fromTop({ senderFrame: frame('lvs://app/index.html', 99) }), /not sent by the top frame/],
    ['a foreign page in our top frame', () => fromTop({ senderFrame: { ...window.contents.mainFrame, url: 'https://evil.example/x' } }), /not ours \(https:\/\/evil\.example\)/],
    ['a file:// page', () => fromTop({ senderFrame: { ...window.contents.mainFrame, url: 'file:///tmp/index.html' } }), /not ours \(file:\/\/\)/],
    ['our scheme on another host', () => fromTop({ senderFrame: { ...window.contents.mainFrame, url: 'lvs://other/index.html' } }), /not ours \(lvs:\/\/other\)/],
    ['a frame that is gone', () => fromTop({ senderFrame: null }), /the sending frame is gone/],
    ['another webContents', () => fromTop({ sender: { mainFrame: window.contents.mainFrame } }), /not sent by the main window/],
  ];

  it.each(cases)('refuses %s with a clear error, counts it and changes nothing', async (_name, event, message) => {
    const before = storeBytes();
    await expect(invoke('lvs:set-paused', event(), true)).rejects.toThrow(message);
    await expect(invoke('lvs:update-settings', event(), { cycleMs: 180 })).rejects.toThrow(/^lvs:update-settings refused: /);
    expect(node.status().paused).toBe(false);
    expect(store.settings.cycleMs).toBe(100);
    expect(storeBytes()).toBe(before);
    expect([...wiring.dropped.values()].reduce((a, b) => a + b, 0)).toBe(2);
    // Logged once per kind, not once per message.
    expect(logged).toHaveLength(1);
    expect(service.rejected.size).toBe(0);
  });

  it('refuses everything when there is no window (or it was destroyed)', async () => {
    current = null;
    await expect(invoke('lvs:get-status', fromTop())).rejects.toThrow(/no main window/);
    current = window.win;
    window.state.destroyed = true;
    await expect(invoke('lvs:get-status', fromTop())).rejects.toThrow(/no main window/);
  });
});

describe('payload validation', () => {
  it.each([
    ['wrong argument type', 'lvs:set-paused', ['yes'], /^lvs:set-paused: argument 0/],
    ['missing argument', 'lvs:set-paused', [], /^lvs:set-paused: /],
    ['too many arguments', 'lvs:get-status', [1], /^lvs:get-status: /],
    ['a number as address', 'lvs:add-peer', [42], /^lvs:add-peer: argument 0/],
    ['a bad address', 'lvs:add-peer', ['not an address'], /"not an address"/],
    ['settings that are not an object', 'lvs:update-settings', ['cycleMs=10'], /^lvs:update-settings: argument 0/],
    ['a cycle below 50 ms', 'lvs:update-settings', [{ cycleMs: 10 }], /cycleMs/],
    ['an out-of-range beta', 'lvs:update-settings', [{ beta: 0.9 }], /beta must be a number from 0 to 0.5/],
    ['an unknown setting', 'lvs:update-settings', [{ colour: 'red' }], /unknown setting "colour"/],
    ['a valid field next to an invalid one', 'lvs:update-settings', [{ name: 'ok', port: 'x' }], /port/],
  ])('rejects %s with a clear one-line error and changes nothing', async (_name, channel, args, message) => {
    const before = storeBytes();
    const settings = store.settings;
    const result = await invoke(channel, fromTop(), ...args);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(message);
    expect(result.error).not.toContain('\n');
    expect(storeBytes()).toBe(before);
    expect(store.settings).toEqual(settings);
    expect(node.status().paused).toBe(false);
    expect(node.status().dialTargets).toEqual([]);
    expect(wiring.dropped.size).toBe(0);
  });
});

describe('events', () => {
  /**
   * Resolves once the node has run `count` more cycles. The service heard each of them first
   * (it subscribed before this listener), so whatever it forwards for them has been sent.
   */
  function cycles(count: number): Promise<void> {
    return new Promise((resolve) => {
      let seen = 0;
      const off = node.events.on('cycle', () => {
        if (++seen < count) return;
        off();
        resolve();
      });
    });
  }

  it('forwards node events to the visible window, only non-cycle events while hidden, nothing without a window', async () => {
    node.start();
    await cycles(3);
    expect(window.sent.some((e) => e.type === 'cycle')).toBe(true);

    window.state.visible = false;
    window.sent.length = 0;
    await invoke('lvs:set-paused', fromTop(), true);
    await invoke('lvs:set-paused', fromTop(), false);
    await invoke('lvs:update-settings', fromTop(), { name: 'hidden' });
    await cycles(3);
    expect(window.sent.map((e) => e.type)).not.toContain('cycle');
    expect(window.sent.map((e) => e.type)).toEqual(expect.arrayContaining(['paused', 'settings', 'log']));

    window.state.visible = true;
    window.state.minimized = true;
    window.sent.length = 0;
    await cycles(3);
    expect(window.sent.map((e) => e.type)).not.toContain('cycle');

    window.state.minimized = false;
    await cycles(3);
    expect(window.sent.map((e) => e.type)).toContain('cycle');

    current = null;
    window.sent.length = 0;
    await cycles(3);
    expect(window.sent).toEqual([]);

    current = window.win;
    window.state.destroyed = true;
    await cycles(3);
    expect(window.sent).toEqual([]);
  });

  it('stops forwarding after dispose', async () => {
    wiring.dispose();
    node.start();
    await cycles(3);
    expect(window.sent).toEqual([]);
    wiring = wireIpc(service, () => current as never);
  });
});
