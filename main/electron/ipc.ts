/**
 * The one door between the renderer and the node in the desktop app: a
 * single wrapper around ipcMain.handle for every request channel, and one
 * subscription that forwards node events to the window.
 *
 * A request is answered only if it comes from the top frame of our window
 * showing our own page (lvs://app/); anything else is refused with an error
 * and counted. The payload is then validated by NodeService.handle (the same
 * zod schemas as the headless WebSocket bridge), which answers a Result and
 * never throws: a bad payload gets `{ ok: false, error }` and changes nothing.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CHANNELS, DESKTOP_CHANNELS, type Channel, type DesktopChannel, type NodeEventMessage, type RequestChannel, type Result } from '../bridge/api.js';
import { isRequestChannel } from '../bridge/payloads.js';
import type { NodeService } from '../bridge/service.js';
import { isAppUrl } from './protocol.js';

export const EVENT_CHANNEL = 'lvs:event' satisfies Channel;

/**
 * What a hidden (or minimised) window is still sent: things it must show
 * correctly when it comes back. Cycle events are not: the next one replaces
 * them, and the page asks for a fresh status when it becomes visible.
 */
const SENT_WHILE_HIDDEN: ReadonlySet<NodeEventMessage['type']> = new Set(['log', 'peer', 'settings', 'paused']);

export type NodeServiceDoor = Pick<NodeService, 'handle' | 'subscribe'>;

/** The desktop-only operations (main/electron/identity-dialogs.ts); they take no arguments. */
export type DesktopHandlers = Record<DesktopChannel, () => Promise<Result<unknown>>>;

export interface IpcWiring {
  /** Requests refused because of their sender, by reason. */
  readonly dropped: ReadonlyMap<string, number>;
  /** Removes the handlers and the event subscription. */
  dispose(): void;
}

/** Why this invoke must not be answered, or null if it comes from our window's top frame on our page. */
export function senderProblem(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, win: BrowserWindow | null): string | null {
  if (!win || win.isDestroyed()) return 'no main window';
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone';
  const contents = win.webContents;
  if (event.sender !== contents) return 'not sent by the main window';
  const top = contents.mainFrame;
  const sameFrame = frame === top || (frame.processId === top.processId && frame.routingId === top.routingId);
  if (!sameFrame || frame.parent !== null) return 'not sent by the top frame';
  if (!isAppUrl(frame.url)) return `the sending page is not ours (${describeOrigin(frame.url)})`;
  return null;
}

function describeOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url === '' ? 'no URL' : 'unparseable URL';
  }
}

/**
 * Registers the request handlers and the event forwarder. `getWindow`
 * returns the main window or null (created lazily, e.g. after --hidden).
 */
export function wireIpc(
  service: NodeServiceDoor,
  getWindow: () => BrowserWindow | null,
  log: (message: string) => void = () => {},
  desktop: DesktopHandlers | null = null,
): IpcWiring {
  const dropped = new Map<string, number>();
  const requestChannels = CHANNELS.filter(isRequestChannel);

  const refuseStranger = (channel: Channel | DesktopChannel, event: IpcMainInvokeEvent): void => {
    const problem = senderProblem(event, getWindow());
    if (problem === null) return;
    const count = (dropped.get(problem) ?? 0) + 1;
    dropped.set(problem, count);
    // First of each kind only: a hostile page must not be able to flood the log.
    if (count === 1) log(`refused an IPC request on ${channel}: ${problem}`);
    throw new Error(`${channel} refused: ${problem}`);
  };
  const answer = (channel: RequestChannel, event: IpcMainInvokeEvent, args: unknown[]): Result<unknown> => {
    refuseStranger(channel, event);
    return service.handle(channel, args);
  };

  for (const channel of requestChannels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => answer(channel, event, args));
  }
  const desktopChannels = desktop ? DESKTOP_CHANNELS : [];
  for (const channel of desktopChannels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      refuseStranger(channel, event);
      if (args.length !== 0) return { ok: false, error: `${channel} takes no arguments` };
      return desktop![channel]();
    });
  }

  const unsubscribe = service.subscribe((message) => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    const hidden = !win.isVisible() || win.isMinimized();
    if (hidden && !SENT_WHILE_HIDDEN.has(message.type)) return;
    win.webContents.send(EVENT_CHANNEL, message);
  });

  return {
    dropped,
    dispose() {
      unsubscribe();
      for (const channel of [...requestChannels, ...desktopChannels]) ipcMain.removeHandler(channel);
    },
  };
}
