/**
 * The main window and everything that fences it in: the lvs:// protocol,
 * the locked-down webPreferences, denied navigation, pop-ups, webviews and
 * permissions, no network access for the page, and remembered bounds.
 * Closing the window only hides it: the node keeps running in the tray.
 */
import {
  app,
  BrowserWindow,
  protocol,
  screen,
  session,
  shell,
  type BrowserWindowConstructorOptions,
  type Session,
  type WebContents,
} from 'electron';
import { APP_URL, SCHEME, createProtocolHandler } from './protocol.js';
import { MIN_HEIGHT, MIN_WIDTH, loadWindowState, saveWindowState, type WindowState } from './window-state.js';

/** Must run before app 'ready': a scheme registered later is not standard/secure. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true } }]);
}

/** Serves dist/renderer on lvs://app/ (after 'ready'). */
export function installAppProtocol(rendererDir: string, ses: Session = session.defaultSession): void {
  ses.protocol.handle(SCHEME, createProtocolHandler(rendererDir));
}

/** URL patterns the page may never load: it gets everything from lvs://app/ and talks to the node over IPC. */
export const BLOCKED_URLS = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*', 'file://*/*'];

/** Session-wide denials: every permission request and check, and all network requests. */
export function hardenSession(ses: Session = session.defaultSession): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onBeforeRequest({ urls: BLOCKED_URLS }, (_details, callback) => callback({ cancel: true }));
}

/**
 * The one link the window hands to the system browser: its node's /join page
 * on this machine (the dashboard's "Join in a new tab", docs/browser-nodes.md).
 * Plain http to a loopback host, path /join, nothing else in the URL.
 */
export function joinPageUrl(text: unknown): string | null {
  if (typeof text !== 'string' || text.length > 200) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
  if (url.protocol !== 'http:' || !loopback || url.pathname !== '/join' || url.username || url.password || url.search || url.hash) return null;
  return url.href;
}

/** Per-page denials; main.ts also applies them to every webContents ever created. */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // No window opens inside the app; the node's own join page opens in the system browser.
  contents.setWindowOpenHandler(({ url }) => {
    const join = joinPageUrl(url);
    if (join) void shell.openExternal(join).catch(() => undefined);
    return { action: 'deny' };
  });
}

export function windowOptions(state: WindowState, preloadPath: string, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: MIN_WIDTH,
    minHeight: MIN_HEIGHT,
    show: false,
    title: 'LVS Node',
    backgroundColor: '#0b0f17',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools,
    },
  };
}

export interface MainWindowOptions {
  preloadPath: string;
  /** Where window-state.json lives (userData). */
  stateDir: string;
  /** Show once the page is ready (false: created for later, e.g. started with --hidden). */
  show: boolean;
  /** True while the app is quitting: then 'close' really closes. */
  isQuitting(): boolean;
  devTools?: boolean;
  log?: (message: string) => void;
}

const SAVE_BOUNDS_DELAY_MS = 500;

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const state = loadWindowState(options.stateDir, screen);
  const win = new BrowserWindow(windowOptions(state, options.preloadPath, options.devTools ?? !app.isPackaged));
  hardenContents(win.webContents);
  if (state.maximized) win.maximize();

  let saveTimer: NodeJS.Timeout | null = null;
  const saveBounds = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (win.isDestroyed()) return;
    saveWindowState(options.stateDir, win.getNormalBounds(), win.isMaximized());
  };
  const saveSoon = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(saveBounds, SAVE_BOUNDS_DELAY_MS);
  };
  win.on('resize', saveSoon);
  win.on('move', saveSoon);
  win.on('maximize', saveSoon);
  win.on('unmaximize', saveSoon);

  win.on('close', (event) => {
    saveBounds();
    if (options.isQuitting()) return;
    // The node keeps running in the tray; the page stops drawing by itself (page visibility).
    event.preventDefault();
    win.hide();
  });
  win.webContents.on('render-process-gone', (_event, details) => {
    options.log?.(`the window's renderer is gone (${details.reason}); Show reloads it`);
  });
  win.on('closed', () => {
    if (saveTimer) clearTimeout(saveTimer);
  });

  if (options.show) win.once('ready-to-show', () => win.show());
  win.loadURL(APP_URL).catch((error: unknown) => {
    options.log?.(`the window could not load ${APP_URL}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return win;
}

/** Brings the window forward (tray Show, a second launch). */
export function revealWindow(win: BrowserWindow): void {
  if (win.webContents.isCrashed()) win.webContents.reload();
  if (win.isMinimized()) win.restore();
  if (!win.isVisible()) win.show();
  win.focus();
}
