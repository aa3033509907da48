/**
 * The main window (main/electron/windows.ts) and its remembered bounds
 * (main/electron/window-state.ts). `electron` is replaced by fakes that
 * record options and handlers: the window gets the security flags and our
 * page over lvs://, navigation, pop-ups, webviews, permissions and network
 * requests are all denied, closing hides, and whatever is in the bounds file
 * is validated and kept on a display.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const fake = vi.hoisted(() => ({
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  permissionRequest: null as null | ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void),
  permissionCheck: null as null | ((...args: unknown[]) => boolean),
  devicePermission: null as null | ((...args: unknown[]) => boolean),
  beforeRequest: null as null | { filter: { urls: string[] }; listener: (details: unknown, callback: (r: { cancel?: boolean }) => void) => void },
  windows: [] as unknown[],
  opened: [] as string[],
  displays: [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }, { workArea: { x: 1920, y: 0, width: 1280, height: 1024 } }],
}));

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  class FakeWebContents extends EventEmitter {
    openHandler: ((details: unknown) => unknown) | null = null;
    crashed = false;
    reloads = 0;
    isCrashed() {
      return this.crashed;
    }
    reload() {
      this.reloads++;
      this.crashed = false;
    }
    setWindowOpenHandler(handler: (details: unknown) => unknown) {
      this.openHandler = handler;
    }
  }
  class BrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    bounds: Rect;
    visible = false;
    minimized = false;
    maximized = false;
    destroyed = false;
    focused = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      this.bounds = { x: (options.x as number) ?? 10, y: (options.y as number) ?? 10, width: options.width as number, height: options.height as number };
      fake.windows.push(this);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
    show() {
      this.visible = true;
    }
    hide() {
      this.visible = false;
    }
    isVisible() {
      return this.visible;
    }
    isMinimized() {
      return this.minimized;
    }
    restore() {
      this.minimized = false;
    }
    focus() {
      this.focused = true;
    }
    maximize() {
      this.maximized = true;
    }
    isMaximized() {
      return this.maximized;
    }
    getNormalBounds() {
      return { ...this.bounds };
    }
    isDestroyed() {
      return this.destroyed;
    }
    close() {
      const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
      this.emit('close', event);
      if (!event.defaultPrevented) {
        this.destroyed = true;
        this.emit('closed');
      }
    }
  }
  const overlap = (a: Rect, b: Rect) =>
    Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const screen = {
    getPrimaryDisplay: () => fake.displays[0],
    // Like Electron: the display the rect overlaps most, else the nearest (here: the primary).
    getDisplayMatching: (rect: Rect) =>
      fake.displays.reduce((best, d) => (overlap(rect, d.workArea) > overlap(rect, best.workArea) ? d : best), fake.displays[0]!),
  };
  const defaultSession = {
    protocol: { handle: (scheme: string, handler: (request: Request) => Promise<Response>) => fake.protocolHandlers.set(scheme, handler) },
    setPermissionRequestHandler: (h: typeof fake.permissionRequest) => (fake.permissionRequest = h),
    setPermissionCheckHandler: (h: typeof fake.permissionCheck) => (fake.permissionCheck = h),
    setDevicePermissionHandler: (h: typeof fake.devicePermission) => (fake.devicePermission = h),
    webRequest: {
      onBeforeRequest: (filter: { urls: string[] }, listener: NonNullable<typeof fake.beforeRequest>['listener']) =>
        (fake.beforeRequest = { filter, listener }),
    },
  };
  const electron = {
    app: { isPackaged: false },
    BrowserWindow,
    protocol: { registerSchemesAsPrivileged: (schemes: unknown[]) => fake.schemes.push(...schemes) },
    screen,
    session: { defaultSession },
    shell: { openExternal: (url: string) => (fake.opened.push(url), Promise.resolve()) },
  };
  return { ...electron, default: electron };
});

import { CONTENT_SECURITY_POLICY } from '../main/electron/protocol.js';
import {
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  WINDOW_STATE_FILE,
  fitToDisplay,
  loadWindowState,
  parseWindowState,
  saveWindowState,
} from '../main/electron/window-state.js';
import {
  BLOCKED_URLS,
  createMainWindow,
  hardenSession,
  installAppProtocol,
  joinPageUrl,
  registerAppScheme,
  revealWindow,
  windowOptions,
} from '../main/electron/windows.js';

type FakeWindow = EventEmitter & {
  options: { webPreferences: Record<string, unknown> } & Record<string, unknown>;
  webContents: EventEmitter & { openHandler: ((details: unknown) => unknown) | null; crashed: boolean; reloads: number };
  loaded: string[];
  bounds: Rect;
  visible: boolean;
  minimized: boolean;
  maximized: boolean;
  destroyed: boolean;
  focused: boolean;
  close(): void;
};

let dir: string;
let quitting = false;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-window-'));
  quitting = false;
  fake.windows.length = 0;
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function open(show = true): FakeWindow {
  createMainWindow({ preloadPath: '/app/dist/preload/preload.cjs', stateDir: dir, show, isQuitting: () => quitting });
  return fake.windows.at(-1) as FakeWindow;
}

function preventable() {
  return { prevented: false, preventDefault() { this.prevented = true; } };
}

describe('the window', () => {
  it('has the security flags and the sandboxed preload', () => {
    const win = open();
    expect(win.options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(windowOptions({ width: 900, height: 700, maximized: false }, '/p.cjs', false).webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: false,
    });
  });

  it('loads our page through the lvs:// protocol, never file://', () => {
    const win = open();
    expect(win.loaded).toEqual(['lvs://app/index.html']);
  });

  it('denies every navigation, redirect, new window and webview', () => {
    const win = open();
    for (const url of ['https://evil.example/', 'lvs://app/other.html', 'file:///etc/passwd']) {
      const event = preventable();
      win.webContents.emit('will-navigate', event, url);
      expect(event.prevented, url).toBe(true);
      const redirect = preventable();
      win.webContents.emit('will-redirect', redirect, url);
      expect(redirect.prevented, url).toBe(true);
      expect(win.webContents.openHandler?.({ url })).toEqual({ action: 'deny' });
    }
    const webview = preventable();
    win.webContents.emit('will-attach-webview', webview, {}, {});
    expect(webview.prevented).toBe(true);
  });

  it("opens only its node's /join page, in the system browser, and never a window of its own", () => {
    const win = open();
    fake.opened.length = 0;
    expect(win.webContents.openHandler?.({ url: 'http://127.0.0.1:7710/join' })).toEqual({ action: 'deny' });
    expect(fake.opened).toEqual(['http://127.0.0.1:7710/join']);
    for (const url of ['http://evil.example/join', 'https://127.0.0.1:7710/join', 'http://127.0.0.1:7710/join?x=1', 'http://u:p@127.0.0.1:7710/join', 'http://127.0.0.1:7710/api/status', 'javascript:alert(1)', 'file:///join']) {
      expect(win.webContents.openHandler?.({ url }), url).toEqual({ action: 'deny' });
      expect(joinPageUrl(url), url).toBeNull();
    }
    expect(fake.opened).toEqual(['http://127.0.0.1:7710/join']);
  });

  it('hides instead of closing, and closes when the app quits', () => {
    const win = open();
    win.visible = true;
    win.close();
    expect(win.destroyed).toBe(false);
    expect(win.visible).toBe(false);
    quitting = true;
    win.close();
    expect(win.destroyed).toBe(true);
  });

  it('shows only once ready when asked to, and stays hidden for --hidden', () => {
    const shown = open(true);
    expect(shown.visible).toBe(false);
    shown.emit('ready-to-show');
    expect(shown.visible).toBe(true);
    const hidden = open(false);
    hidden.emit('ready-to-show');
    expect(hidden.visible).toBe(false);
  });

  it('reveals a minimised or hidden window', () => {
    const win = open(false);
    win.minimized = true;
    revealWindow(win as never);
    expect(win).toMatchObject({ minimized: false, visible: true, focused: true });
    expect(win.webContents.reloads).toBe(0);
    win.webContents.crashed = true;
    revealWindow(win as never);
    expect(win.webContents.reloads).toBe(1);
  });
});

describe('the session', () => {
  it('registers lvs as a standard, secure scheme', () => {
    registerAppScheme();
    expect(fake.schemes).toEqual([{ scheme: 'lvs', privileges: { standard: true, secure: true } }]);
  });

  it('serves dist/renderer through the lvs handler with the CSP header and refuses traversal', async () => {
    fs.mkdirSync(path.join(dir, 'renderer'));
    fs.writeFileSync(path.join(dir, 'renderer', 'index.html'), '<!doctype html>');
    fs.writeFileSync(path.join(dir, 'private.json'), '{"privateKey":"x"}');
    installAppProtocol(path.join(dir, 'renderer'));
    const handler = fake.protocolHandlers.get('lvs')!;
    const page = await handler(new Request('lvs://app/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const escape = await handler(new Request('lvs://app/..%2fprivate.json'));
    expect(escape.status).toBe(403);
    expect(await escape.text()).not.toContain('privateKey');
  });

  it('denies every permission request and check, and all network requests', () => {
    hardenSession();
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'fullscreen', 'openExternal']) {
      let granted: boolean | undefined;
      fake.permissionRequest!({}, permission, (g) => (granted = g));
      expect(granted, permission).toBe(false);
      expect(fake.permissionCheck!({}, permission, 'lvs://app', {}), permission).toBe(false);
    }
    expect(fake.devicePermission!({ deviceType: 'usb' })).toBe(false);
    expect(fake.beforeRequest!.filter.urls).toEqual(BLOCKED_URLS);
    expect(BLOCKED_URLS).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file://*/*']));
    let answer: { cancel?: boolean } | undefined;
    fake.beforeRequest!.listener({ url: 'https://example.com/' }, (r) => (answer = r));
    expect(answer).toEqual({ cancel: true });
  });
});

describe('remembered bounds', () => {
  const screen = {
    getPrimaryDisplay: () => fake.displays[0]!,
    getDisplayMatching: (rect: Rect) => (rect.x >= 1920 ? fake.displays[1]! : fake.displays[0]!),
  };
  const defaults = { width: DEFAULT_WIDTH, height: DEFAULT_HEIGHT, maximized: false };

  function writeState(text: string) {
    fs.writeFileSync(path.join(dir, WINDOW_STATE_FILE), text);
  }

  it.each([
    ['not JSON', '{oops'],
    ['an array', '[1,2,3,4]'],
    ['a string', '"big"'],
    ['null', 'null'],
    ['strings for numbers', '{"x":"10","y":"10","width":"900","height":"700"}'],
    ['fractions', '{"x":1.5,"y":2,"width":900.5,"height":700}'],
    ['a window too small', '{"x":0,"y":0,"width":10,"height":10}'],
    ['a window too large', '{"x":0,"y":0,"width":1e9,"height":700}'],
    ['negative size', '{"x":0,"y":0,"width":-900,"height":700}'],
    ['coordinates far away', '{"x":1e12,"y":0,"width":900,"height":700}'],
    ['maximized not a boolean', '{"width":900,"height":700,"maximized":"yes"}'],
  ])('falls back to the defaults for %s', (_name, text) => {
    writeState(text);
    expect(loadWindowState(dir, screen)).toEqual(defaults);
  });

  it('uses the defaults when there is no file', () => {
    expect(loadWindowState(dir, screen)).toEqual(defaults);
  });

  it('keeps a valid position and size, on either display', () => {
    writeState('{"x":100,"y":50,"width":900,"height":700,"maximized":false}');
    expect(loadWindowState(dir, screen)).toEqual({ x: 100, y: 50, width: 900, height: 700, maximized: false });
    writeState('{"x":2000,"y":100,"width":900,"height":700,"maximized":true}');
    expect(loadWindowState(dir, screen)).toEqual({ x: 2000, y: 100, width: 900, height: 700, maximized: true });
  });

  it('moves a window that would open off-screen back onto a display', () => {
    // Beyond the right edge of the second display (a third monitor that is gone now): centred on the display it matches.
    expect(fitToDisplay({ x: 5000, y: 200, width: 900, height: 700, maximized: false }, screen)).toEqual({
      x: 2110,
      y: 162,
      width: 900,
      height: 700,
      maximized: false,
    });
    // Title bar above the top edge: it could not be dragged back.
    expect(fitToDisplay({ x: 100, y: -300, width: 900, height: 700, maximized: false }, screen)).toMatchObject({ x: 510, y: 190 });
    // Only a sliver visible at the left edge.
    expect(fitToDisplay({ x: -850, y: 100, width: 900, height: 700, maximized: false }, screen)).toMatchObject({ x: 510, y: 190 });
  });

  it('shrinks a window larger than its display', () => {
    expect(fitToDisplay({ x: 1920, y: 0, width: 3000, height: 2000, maximized: false }, screen)).toEqual({
      x: 1920,
      y: 0,
      width: 1280,
      height: 1024,
      maximized: false,
    });
  });

  it('needs both coordinates for a position', () => {
    expect(parseWindowState({ x: 10, width: 900, height: 700 })).toEqual({ width: 900, height: 700, maximized: false });
  });

  it('round-trips through the file, and the window opens where it was left', () => {
    expect(saveWindowState(dir, { x: 200.4, y: 120, width: 1000, height: 720 }, true)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, WINDOW_STATE_FILE), 'utf8'))).toEqual({ x: 200, y: 120, width: 1000, height: 720, maximized: true });
    const win = open();
    expect(win.options).toMatchObject({ x: 200, y: 120, width: 1000, height: 720 });
    expect(win.maximized).toBe(true);
  });

  it('saves the bounds when the window is closed (hidden)', () => {
    const win = open();
    win.bounds = { x: 300, y: 200, width: 1100, height: 750 };
    win.close();
    expect(JSON.parse(fs.readFileSync(path.join(dir, WINDOW_STATE_FILE), 'utf8'))).toEqual({ x: 300, y: 200, width: 1100, height: 750, maximized: false });
  });

  it('does not write a file in a directory that is not there', () => {
    expect(saveWindowState(path.join(dir, 'missing'), { x: 0, y: 0, width: 900, height: 700 }, false)).toBe(false);
  });
});
