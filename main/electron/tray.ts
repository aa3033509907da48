/**
 * The tray icon: what keeps the node reachable while the window is hidden.
 * The tooltip says how many peers are linked and how much they agree (vu),
 * refreshed once a second; the menu shows the window, pauses or resumes the
 * drift cycle (through the same NodeService the window uses), toggles start
 * at login and quits.
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { DashboardStatus } from '../bridge/api.js';
import { iconPng } from './icon.js';
import type { NodeServiceDoor } from './ipc.js';
import type { LoginItem } from './login-item.js';

export const TRAY_REFRESH_MS = 1000;

export function tooltipText(status: Pick<DashboardStatus, 'peers' | 'state' | 'paused'>): string {
  const linked = status.peers.filter((p) => p.connected).length;
  return `LVS Node — ${linked} ${linked === 1 ? 'peer' : 'peers'}, agreement ${status.state.vu.toFixed(2)}${status.paused ? ' (paused)' : ''}`;
}

export interface TrayOptions {
  service: Pick<NodeServiceDoor, 'handle'>;
  loginItem: LoginItem;
  show(): void;
  quit(): void;
  log?: (message: string) => void;
}

export interface AppTray {
  readonly tray: Tray;
  /** Re-reads the status and rebuilds the menu if the paused or login state changed. */
  refresh(): void;
  dispose(): void;
}

function trayImage(): NativeImage {
  const image = nativeImage.createFromBuffer(iconPng(16));
  image.addRepresentation({ scaleFactor: 2, buffer: iconPng(32) });
  return image;
}

export function createTray(options: TrayOptions): AppTray {
  const tray = new Tray(trayImage());
  let shown: { paused: boolean; login: boolean } | null = null;
  let tooltip = '';

  const status = (): DashboardStatus | null => {
    const result = options.service.handle('lvs:get-status', []);
    return result.ok ? (result.value as DashboardStatus) : null;
  };

  const buildMenu = (paused: boolean, login: boolean) => {
    const items: MenuItemConstructorOptions[] = [
      { label: 'Show', click: () => options.show() },
      {
        label: paused ? 'Resume' : 'Pause',
        click: () => {
          const result = options.service.handle('lvs:set-paused', [!paused]);
          if (!result.ok) options.log?.(`tray: ${result.error}`);
          refresh();
        },
      },
      { type: 'separator' },
      {
        label: 'Start at login',
        type: 'checkbox',
        checked: login,
        click: (item) => {
          try {
            options.loginItem.setEnabled(item.checked);
          } catch (error) {
            options.log?.(`tray: could not change start at login: ${error instanceof Error ? error.message : String(error)}`);
          }
          refresh();
        },
      },
      { type: 'separator' },
      { label: 'Quit', click: () => options.quit() },
    ];
    tray.setContextMenu(Menu.buildFromTemplate(items));
  };

  const refresh = () => {
    const s = status();
    const paused = s?.paused ?? false;
    let login = false;
    try {
      login = options.loginItem.isEnabled();
    } catch {
      login = false;
    }
    const text = s ? tooltipText(s) : 'LVS Node';
    if (text !== tooltip) {
      tooltip = text;
      tray.setToolTip(text);
    }
    // Rebuilding only on change keeps an open menu from being replaced under the pointer every second.
    if (!shown || shown.paused !== paused || shown.login !== login) {
      shown = { paused, login };
      buildMenu(paused, login);
    }
  };

  tray.on('click', () => options.show());
  refresh();
  const timer = setInterval(refresh, TRAY_REFRESH_MS);

  return {
    tray,
    refresh,
    dispose() {
      clearInterval(timer);
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}
