/**
 * The tray (main/electron/tray.ts), start at login (login-item.ts) and the
 * drawn icon (icon.ts). `electron` is replaced by a Tray that records its
 * tooltip and menu and an app that records login item settings; the node
 * behind the tray is real (NodeService over a DriftNode on the in-memory
 * transport, NodeStore in a temp dir).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface MenuItem {
  label?: string;
  type?: string;
  checked?: boolean;
  click?: (item: { checked: boolean }) => void;
}

const fake = vi.hoisted(() => ({
  trays: [] as { tooltip: string; menu: MenuItem[]; destroyed: boolean; listeners: Map<string, () => void> }[],
  loginSettings: { openAtLogin: false } as { openAtLogin: boolean; args?: string[] },
  loginReads: [] as unknown[],
  images: [] as { buffer: Buffer; representations: unknown[] }[],
}));

vi.mock('electron', () => {
  class Tray {
    state = { tooltip: '', menu: [] as MenuItem[], destroyed: false, listeners: new Map<string, () => void>() };
    constructor(readonly image: unknown) {
      fake.trays.push(this.state);
    }
    setToolTip(text: string) {
      this.state.tooltip = text;
    }
    setContextMenu(menu: { items: MenuItem[] }) {
      this.state.menu = menu.items;
    }
    on(event: string, listener: () => void) {
      this.state.listeners.set(event, listener);
    }
    isDestroyed() {
      return this.state.destroyed;
    }
    destroy() {
      this.state.destroyed = true;
    }
  }
  const Menu = { buildFromTemplate: (items: MenuItem[]) => ({ items }) };
  const nativeImage = {
    createFromBuffer(buffer: Buffer) {
      const image = { buffer, representations: [] as unknown[], addRepresentation: (r: unknown) => image.representations.push(r) };
      fake.images.push(image);
      return image;
    },
  };
  const app = {
    isPackaged: true,
    getAppPath: () => '/opt/lvs',
    getLoginItemSettings: (options?: unknown) => {
      fake.loginReads.push(options);
      return { ...fake.loginSettings, wasOpenedAtLogin: false };
    },
    setLoginItemSettings: (settings: { openAtLogin: boolean; args?: string[] }) => {
      fake.loginSettings = { ...settings };
    },
  };
  const electron = { Tray, Menu, nativeImage, app };
  return { ...electron, default: electron };
});

import { NodeService } from '../main/bridge/service.js';
import { drawIcon, iconPng } from '../main/electron/icon.js';
import { autostartFile, createLoginItem, desktopEntry, startsHidden, type LoginItem } from '../main/electron/login-item.js';
import { createTray, tooltipText, type AppTray } from '../main/electron/tray.js';
import type { DriftNode } from '../main/node/drift-node.js';
import { NodeStore } from '../main/store/store.js';
import { MemoryNetwork } from '../main/transport/memory.js';
import { makeNode } from './helpers/memory-cluster.js';
import { discoveryOff } from '../main/discovery/mdns-discovery.js';

let dir: string;
let store: NodeStore;
let node: DriftNode;
let service: NodeService;
let tray: AppTray | null = null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-tray-'));
  store = NodeStore.open(path.join(dir, 'data'), { log: () => {} });
  ({ node } = makeNode(new MemoryNetwork(), 0, [0, 0]));
  service = new NodeService({ node, store, status: () => ({ ...node.status(), listen: '0.0.0.0:7710', dataDir: dir, discovery: discoveryOff('--no-discovery', 'test-instance', 7710) }), defaultName: 'host' });
  fake.trays.length = 0;
  fake.loginSettings = { openAtLogin: false };
  fake.loginReads.length = 0;
});

afterEach(async () => {
  tray?.dispose();
  tray = null;
  await node.stop('test over');
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function memoryLoginItem(): LoginItem & { enabled: boolean } {
  const item = { enabled: false, isEnabled: () => item.enabled, setEnabled: (on: boolean) => void (item.enabled = on) };
  return item;
}

function itemNamed(label: string): MenuItem {
  const item = fake.trays[0]!.menu.find((i) => i.label === label);
  if (!item) throw new Error(`no menu item "${label}" in ${fake.trays[0]!.menu.map((i) => i.label).join(', ')}`);
  return item;
}

describe('tray', () => {
  it('says peers and agreement in its tooltip', () => {
    const peer = (connected: boolean) => ({ connected }) as never;
    expect(tooltipText({ peers: [], state: { drift: [0, 0], vu: 1, tc: 1 }, paused: false })).toBe('LVS Node — 0 peers, agreement 1.00');
    expect(tooltipText({ peers: [peer(true)], state: { drift: [0, 0], vu: 0.8123, tc: 1 }, paused: false })).toBe('LVS Node — 1 peer, agreement 0.81');
    expect(tooltipText({ peers: [peer(true), peer(false), peer(true)], state: { drift: [0, 0], vu: 0.5, tc: 1 }, paused: true })).toBe(
      'LVS Node — 2 peers, agreement 0.50 (paused)',
    );
    let show = 0;
    tray = createTray({ service, loginItem: memoryLoginItem(), show: () => show++, quit: () => {} });
    expect(fake.trays[0]!.tooltip).toBe('LVS Node — 0 peers, agreement 1.00');
    fake.trays[0]!.listeners.get('click')!();
    expect(show).toBe(1);
  });

  it('has Show, Pause/Resume, Start at login and Quit, and pauses through the service', () => {
    const login = memoryLoginItem();
    let shown = 0;
    let quit = 0;
    const events: string[] = [];
    service.subscribe((e) => events.push(e.type));
    tray = createTray({ service, loginItem: login, show: () => shown++, quit: () => quit++ });
    expect(fake.trays[0]!.menu.filter((i) => i.type !== 'separator').map((i) => i.label)).toEqual(['Show', 'Pause', 'Start at login', 'Quit']);

    itemNamed('Show').click!({ checked: false });
    expect(shown).toBe(1);

    itemNamed('Pause').click!({ checked: false });
    expect(node.status().paused).toBe(true);
    expect(events).toContain('paused'); // the window hears about it too
    expect(fake.trays[0]!.tooltip).toMatch(/\(paused\)$/);
    itemNamed('Resume').click!({ checked: false });
    expect(node.status().paused).toBe(false);

    expect(itemNamed('Start at login')).toMatchObject({ type: 'checkbox', checked: false });
    itemNamed('Start at login').click!({ checked: true });
    expect(login.enabled).toBe(true);
    expect(itemNamed('Start at login').checked).toBe(true);

    itemNamed('Quit').click!({ checked: false });
    expect(quit).toBe(1);
  });

  it('reflects a login item changed elsewhere on the next refresh', () => {
    const login = memoryLoginItem();
    tray = createTray({ service, loginItem: login, show: () => {}, quit: () => {} });
    login.enabled = true;
    tray.refresh();
    expect(itemNamed('Start at login').checked).toBe(true);
  });

  it('goes away on dispose', () => {
    tray = createTray({ service, loginItem: memoryLoginItem(), show: () => {}, quit: () => {} });
    tray.dispose();
    expect(fake.trays[0]!.destroyed).toBe(true);
  });
});

describe('start at login', () => {
  it.each(['darwin', 'win32'] as const)('on %s uses app.setLoginItemSettings with --hidden and reads it back with the same args', (platform) => {
    const login = createLoginItem(platform, {});
    expect(login.isEnabled()).toBe(false);
    login.setEnabled(true);
    expect(fake.loginSettings).toEqual({ openAtLogin: true, args: ['--hidden'] });
    expect(login.isEnabled()).toBe(true);
    expect(fake.loginReads.at(-1)).toEqual({ args: ['--hidden'] });
    login.setEnabled(false);
    expect(login.isEnabled()).toBe(false);
  });

  it('on Linux writes and removes an XDG autostart entry that starts hidden', () => {
    const env = { XDG_CONFIG_HOME: path.join(dir, 'config'), APPIMAGE: '/home/me/Apps/LVS Node.AppImage' };
    const login = createLoginItem('linux', env);
    expect(autostartFile(env)).toBe(path.join(dir, 'config', 'autostart', 'lvs-node.desktop'));
    expect(login.isEnabled()).toBe(false);
    login.setEnabled(true);
    expect(login.isEnabled()).toBe(true);
    const entry = fs.readFileSync(autostartFile(env), 'utf8');
    expect(entry).toContain('[Desktop Entry]');
    expect(entry).toContain('Exec="/home/me/Apps/LVS Node.AppImage" --hidden');
    login.setEnabled(false);
    expect(login.isEnabled()).toBe(false);
    expect(fake.loginSettings.openAtLogin).toBe(false);
  });

  it('quotes what a desktop entry needs quoted', () => {
    expect(desktopEntry(['/usr/bin/lvs-node'])).toContain('Exec=/usr/bin/lvs-node --hidden\n');
    expect(desktopEntry(['/opt/a "b"/$x'])).toContain('Exec="/opt/a \\"b\\"/\\$x" --hidden\n');
  });

  it('--hidden starts in the tray', () => {
    expect(startsHidden(['/usr/bin/electron', '/app', '--hidden'], 'linux')).toBe(true);
    expect(startsHidden(['/usr/bin/electron', '/app'], 'linux')).toBe(false);
    expect(startsHidden(['/Applications/LVS Node.app/Contents/MacOS/LVS Node'], 'darwin')).toBe(false);
  });
});

describe('icon', () => {
  function decode(png: Buffer): { width: number; height: number; pixels: Buffer } {
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let at = 8;
    let width = 0;
    let height = 0;
    const idat: Buffer[] = [];
    while (at < png.length) {
      const length = png.readUInt32BE(at);
      const type = png.toString('ascii', at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      if (type === 'IHDR') {
        width = data.readUInt32BE(0);
        height = data.readUInt32BE(4);
        expect([data[8], data[9]]).toEqual([8, 6]);
      }
      if (type === 'IDAT') idat.push(data);
      at += 12 + length;
    }
    return { width, height, pixels: inflateSync(Buffer.concat(idat)) };
  }

  it('is a valid RGBA PNG with dots on a dark square and transparent corners', () => {
    const { width, height, pixels } = decode(iconPng(64));
    expect([width, height]).toEqual([64, 64]);
    expect(pixels.length).toBe(64 * (64 * 4 + 1));
    const raw = drawIcon(64);
    const at = (x: number, y: number) => [...raw.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4)];
    expect(at(0, 0)[3]).toBe(0);
    expect(at(32, 32)[3]).toBe(255);
    expect(at(32, 32)[0]).toBeGreaterThan(150); // the bright centre dot
  });

  it('matches the committed packaging icons (regenerate with node build/make-icons.mjs)', () => {
    const build = path.resolve(import.meta.dirname, '../build');
    for (const size of [256, 512]) {
      const file = path.join(build, 'icons', `${size}x${size}.png`);
      expect(fs.existsSync(file), file).toBe(true);
      expect(fs.readFileSync(file).equals(iconPng(size)), file).toBe(true);
    }
    expect(fs.readFileSync(path.join(build, 'icon.png')).equals(iconPng(512))).toBe(true);
  });
});
