/**
 * The whole surface the desktop renderer sees: `window.lvs`, one named
 * method per operation of LvsApi, each a fixed channel. ipcRenderer itself,
 * IPC event objects and channel names never cross into the page.
 *
 * Runs sandboxed (a sandboxed preload can require only 'electron'), so
 * scripts/build-bundles.mjs bundles this file and the constants it imports
 * into one CommonJS file, dist/preload/preload.cjs.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNEL_OF, DESKTOP_CHANNEL_OF, type Channel, type DesktopApi, type DesktopChannel, type LvsApi, type NodeEventMessage, type RequestChannel, type Result } from '../main/bridge/api.js';

const EVENT_CHANNEL = 'lvs:event' satisfies Channel;

/** Electron wraps a handler's error as "Error invoking remote method 'ch': Error: msg"; the page gets "msg". */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '');
}

/** Every call answers a Result, even when the main process refuses the request outright. */
function invoke<T>(channel: RequestChannel | DesktopChannel, ...args: unknown[]): Promise<Result<T>> {
  return (ipcRenderer.invoke(channel, ...args) as Promise<Result<T>>).catch((error: unknown) => ({ ok: false, error: messageOf(error) }));
}

const api: LvsApi & DesktopApi = {
  getStatus: () => invoke(CHANNEL_OF.getStatus),
  getSettings: () => invoke(CHANNEL_OF.getSettings),
  addPeer: (address) => invoke(CHANNEL_OF.addPeer, address),
  updateSettings: (patch) => invoke(CHANNEL_OF.updateSettings, patch),
  setPaused: (paused) => invoke(CHANNEL_OF.setPaused, paused),
  exportIdentity: () => invoke(DESKTOP_CHANNEL_OF.exportIdentity),
  importIdentity: () => invoke(DESKTOP_CHANNEL_OF.importIdentity),
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('lvs.onEvent needs a function');
    // The IPC event object (sender, ports) stays here; the page gets the message only.
    const forward = (_event: IpcRendererEvent, message: NodeEventMessage) => listener(message);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('lvs', api);
