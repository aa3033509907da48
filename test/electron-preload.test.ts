/**
 * The preload script (preload/preload.ts) with `electron` replaced by a
 * contextBridge that records what is exposed and an ipcRenderer that records
 * invokes and listeners: the page gets exactly the LvsApi methods, each on
 * its own channel, and never ipcRenderer or an IPC event object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';

type Listener = (event: unknown, ...args: unknown[]) => void;

const fake = vi.hoisted(() => ({
  exposed: [] as [string, unknown][],
  invokes: [] as { channel: string; args: unknown[] }[],
  listeners: new Map<string, Set<Listener>>(),
  reply: (channel: string, args: unknown[]): Promise<unknown> => Promise.resolve({ ok: true, value: { channel, args } }),
}));

vi.mock('electron', () => {
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      fake.invokes.push({ channel, args });
      return fake.reply(channel, args);
    },
    on(channel: string, listener: Listener) {
      if (!fake.listeners.has(channel)) fake.listeners.set(channel, new Set());
      fake.listeners.get(channel)!.add(listener);
      return ipcRenderer;
    },
    removeListener(channel: string, listener: Listener) {
      fake.listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  };
  const contextBridge = {
    exposeInMainWorld: (key: string, value: unknown) => fake.exposed.push([key, value]),
  };
  return { ipcRenderer, contextBridge, default: { ipcRenderer, contextBridge } };
});

import { CHANNEL_OF, DESKTOP_CHANNEL_OF, type DesktopApi, type LvsApi, type NodeEventMessage } from '../main/bridge/api.js';

let api: LvsApi & DesktopApi;
let ipcRenderer: unknown;

beforeAll(async () => {
  await import('../preload/preload.js');
  ipcRenderer = (await import('electron')).ipcRenderer;
  expect(fake.exposed).toHaveLength(1);
  api = fake.exposed[0]![1] as LvsApi & DesktopApi;
});

describe('preload', () => {
  it('exposes one object, window.lvs, with exactly the LvsApi methods', () => {
    expect(fake.exposed.map(([key]) => key)).toEqual(['lvs']);
    expect(Object.keys(api).sort()).toEqual([...Object.keys(CHANNEL_OF), ...Object.keys(DESKTOP_CHANNEL_OF), 'onEvent'].sort());
    for (const value of Object.values(api)) {
      expect(typeof value).toBe('function');
      expect(value).not.toBe(ipcRenderer);
    }
    expect(Object.values(api)).not.toContain((ipcRenderer as { invoke: unknown }).invoke);
  });

  it.each([
    ['getStatus', [], 'lvs:get-status'],
    ['getSettings', [], 'lvs:get-settings'],
    ['addPeer', ['10.0.0.2:7710'], 'lvs:add-peer'],
    ['updateSettings', [{ cycleMs: 120 }], 'lvs:update-settings'],
    ['setPaused', [true], 'lvs:set-paused'],
    ['exportIdentity', [], 'lvs:export-identity'],
    ['importIdentity', [], 'lvs:import-identity'],
  ] as const)('%s invokes %s with its arguments', async (method, args, channel) => {
    expect({ ...CHANNEL_OF, ...DESKTOP_CHANNEL_OF }[method]).toBe(channel);
    fake.invokes.length = 0;
    const call = api[method] as (...a: unknown[]) => Promise<unknown>;
    const result = await call(...args);
    expect(fake.invokes).toEqual([{ channel, args: [...args] }]);
    expect(result).toEqual({ ok: true, value: { channel, args: [...args] } });
  });

  it('turns a refused request into a Result with the main process message', async () => {
    const original = fake.reply;
    fake.reply = () =>
      Promise.reject(new Error("Error invoking remote method 'lvs:get-status': Error: lvs:get-status refused: not sent by the top frame"));
    try {
      expect(await api.getStatus()).toEqual({ ok: false, error: 'lvs:get-status refused: not sent by the top frame' });
    } finally {
      fake.reply = original;
    }
  });

  it('onEvent listens on lvs:event, hands over only the message, and unsubscribes', () => {
    const got: NodeEventMessage[] = [];
    const unsubscribe = api.onEvent((message) => got.push(message));
    const listeners = [...(fake.listeners.get('lvs:event') ?? [])];
    expect(listeners).toHaveLength(1);
    expect([...fake.listeners.keys()]).toEqual(['lvs:event']);

    const message: NodeEventMessage = { type: 'paused', paused: true };
    const ipcEvent = { sender: ipcRenderer, ports: [] };
    listeners[0]!(ipcEvent, message);
    expect(got).toEqual([message]);

    unsubscribe();
    unsubscribe();
    expect(fake.listeners.get('lvs:event')?.size).toBe(0);
  });

  it('onEvent refuses a non-function', () => {
    expect(() => api.onEvent('nope' as never)).toThrow(TypeError);
    expect(fake.listeners.get('lvs:event')?.size ?? 0).toBe(0);
  });
});

describe('the bundled preload (dist/preload/preload.cjs)', () => {
  const bundle = resolve(import.meta.dirname, '../dist/preload/preload.cjs');
  it.skipIf(!existsSync(bundle))('is one CommonJS file whose only require is electron (a sandboxed preload can load nothing else)', () => {
    const text = readFileSync(bundle, 'utf8');
    const requires = [...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(requires).toEqual(['electron']);
    expect(text).not.toMatch(/\bimport\s*[{*\w].*\bfrom\b/);
    expect(text).toContain('exposeInMainWorld("lvs"');
  });
});
