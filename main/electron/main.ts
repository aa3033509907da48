/**
 * The desktop app's main process: app lifecycle around the same node the
 * headless CLI runs (runNode), with the store written by electron-store.
 * Everything with behaviour lives elsewhere (the node, NodeService, the
 * protocol handler, the IPC wrapper); this file only wires it to Electron:
 * one instance per user data dir (Electron's single-instance lock keeps a
 * second app out; the store's data dir lock, shared with the headless node,
 * keeps out a headless node on the same dir), --hidden starts in the tray,
 * closing the window hides it, quitting stops the node (bye, links closed,
 * state saved) within the shutdown deadline.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, type BrowserWindow } from 'electron';
import type { RunOptions } from '../headless/cli-args.js';
import { runNode, type RunningNode } from '../headless/run-node.js';
import { identityDialogs } from './identity-dialogs.js';
import { SHUTDOWN_DEADLINE_MS } from '../model/limits.js';
import { ListenError } from '../server/http-server.js';
import type { Settings } from '../store/schema.js';
import { DataDirLockError } from '../store/data-dir-lock.js';
import { StoreError } from '../store/store.js';
import { createElectronConf } from './electron-conf.js';
import { wireIpc, type IpcWiring } from './ipc.js';
import { HIDDEN_FLAG, createLoginItem, startsHidden } from './login-item.js';
import { createTray, type AppTray } from './tray.js';
import { saveWindowState } from './window-state.js';
import { createMainWindow, hardenContents, hardenSession, installAppProtocol, registerAppScheme, revealWindow } from './windows.js';

const DIST = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = path.join(DIST, 'preload', 'preload.cjs');
const RENDERER = path.join(DIST, 'renderer');
/** Leaves room for app.exit inside the overall shutdown deadline. */
const QUIT_DEADLINE_MS = SHUTDOWN_DEADLINE_MS - 200;

/**
 * One data dir for development and packaged builds alike (a packaged app is
 * named by productName, `npm start` by the package name), and not the
 * headless node's default ~/.config/lvs-node: Chromium keeps its caches in
 * userData, and two processes must not share one store unknowingly.
 */
app.setPath('userData', path.join(app.getPath('appData'), 'LVS Node'));
app.enableSandbox();
registerAppScheme();

let running: RunningNode | null = null;
let mainWindow: BrowserWindow | null = null;
let ipc: IpcWiring | null = null;
let tray: AppTray | null = null;
let quitting = false;
let shutdown: Promise<void> | null = null;

function writeLine(line: string): void {
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    // No terminal (a packaged app started from a menu): nothing to tell.
  }
}

function say(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
  if (running) running.log.record('desktop', message, {}, level);
  else writeLine(`${level === 'info' ? '' : `${level.toUpperCase()} `}${message}`);
}

function runOptions(dataDir: string, settings: Partial<Settings>): RunOptions {
  return {
    dataDir,
    host: '0.0.0.0',
    peers: [],
    settings,
    drift: null,
    seed: null,
    awaitPeers: 0,
    logFormat: 'text',
    logCycles: false,
    uiPublic: false,
  };
}

/** A port nobody listens on right now (taken once, then the node binds it and keeps it). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the node; a busy port asks whether to take another free one. A number: the exit code to quit with. */
async function startNode(dataDir: string): Promise<RunningNode | number> {
  let settings: Partial<Settings> = {};
  for (;;) {
    try {
      return await runNode(runOptions(dataDir, settings), writeLine, { createConf: createElectronConf });
    } catch (error) {
      if (error instanceof ListenError) {
        // The headless message ends in CLI advice ("choose another with --port"); the dialog offers its own.
        const problem = error.message.split(';')[0] ?? error.message;
        const port = error.port;
        const { response } = await dialog.showMessageBox({
          type: 'warning',
          title: 'LVS Node',
          message: `LVS Node cannot use port ${port}`,
          detail:
            `${problem}.\n\nThe node needs one TCP port for signaling and its status page. ` +
            'It can start on another free port now; that port is saved in Settings, ' +
            'so give peers that dial this machine the new address.',
          buttons: ['Start on another free port', 'Quit'],
          defaultId: 0,
          cancelId: 1,
          noLink: true,
        });
        if (response !== 0) return 0;
        settings = { port: await freePort('0.0.0.0') };
        continue;
      }
      if (error instanceof DataDirLockError) {
        // A headless node (npm run node -- --data-dir ...) runs on this app's data dir; Electron's own lock only keeps other app instances out.
        dialog.showErrorBox('LVS Node cannot start', `The data dir ${error.dir} is in use by another LVS node (pid ${error.holderPid}). Stop that node first.`);
        return 1;
      }
      if (error instanceof StoreError) {
        dialog.showErrorBox('LVS Node cannot start', error.message);
        return 1;
      }
      throw error;
    }
  }
}

function showWindow(): void {
  if (!running) return;
  if (mainWindow && !mainWindow.isDestroyed()) return revealWindow(mainWindow);
  mainWindow = createMainWindow({
    preloadPath: PRELOAD,
    stateDir: app.getPath('userData'),
    show: true,
    isQuitting: () => quitting,
    log: (message) => say(message, 'warn'),
  });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

async function stopEverything(): Promise<void> {
  tray?.dispose();
  ipc?.dispose();
  if (mainWindow && !mainWindow.isDestroyed()) saveWindowState(app.getPath('userData'), mainWindow.getNormalBounds(), mainWindow.isMaximized());
  const node = running;
  if (!node) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), QUIT_DEADLINE_MS);
  });
  const outcome = await Promise.race([node.stop('quit').then(() => 'stopped' as const), deadline]).catch((error: unknown) => {
    say(`stopping the node failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
    return 'failed' as const;
  });
  clearTimeout(timer);
  if (outcome !== 'stopped') {
    // A peer or the native library hung: still leave with the state saved.
    try {
      node.store.setState(node.node.state);
      node.store.close();
    } catch {
      // Nothing more to do on the way out.
    }
    if (outcome === 'late') say(`stopping took longer than ${QUIT_DEADLINE_MS} ms; state saved, quitting`, 'warn');
  }
}

async function start(): Promise<void> {
  hardenSession();
  installAppProtocol(RENDERER);
  const started = await startNode(app.getPath('userData'));
  if (typeof started === 'number') {
    app.exit(started);
    return;
  }
  running = started;
  const service = running.service;
  const dataDir = app.getPath('userData');
  const backup = identityDialogs({
    dataDir,
    nodeId: () => started.node.id,
    window: () => mainWindow,
    stopNode: async () => {
      await stopEverything();
      running = null;
    },
    relaunch: () => {
      app.relaunch();
      app.exit(0);
    },
  });
  ipc = wireIpc(service, () => mainWindow, (message) => say(message, 'warn'), backup);
  tray = createTray({
    service,
    loginItem: createLoginItem(),
    show: showWindow,
    quit: () => app.quit(),
    log: (message) => say(message, 'warn'),
  });
  if (!startsHidden(process.argv)) showWindow();
}

if (!app.requestSingleInstanceLock()) {
  // Another instance owns this user data dir; it shows its window (second-instance below).
  app.quit();
} else {
  // A second launch shows the window, unless it was itself a --hidden start (a login item firing twice).
  app.on('second-instance', (_event, argv) => {
    if (!argv.includes(HIDDEN_FLAG)) showWindow();
  });
  app.on('activate', () => showWindow());
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  // Windows only hide; the app lives in the tray until Quit.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    quitting = true;
    if (!running) return;
    event.preventDefault();
    shutdown ??= stopEverything().finally(() => app.exit(0));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
  app.whenReady().then(start).catch((error: unknown) => {
    dialog.showErrorBox('LVS Node failed to start', error instanceof Error ? (error.stack ?? error.message) : String(error));
    app.exit(1);
  });
}
