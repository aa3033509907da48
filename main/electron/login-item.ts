/**
 * "Start at login", started with --hidden so it goes straight to the tray.
 * macOS and Windows: app.setLoginItemSettings (Windows matches the entry by
 * its args, so the same args are passed when reading it back). Linux, where
 * Electron has no login items: an XDG autostart entry,
 * ~/.config/autostart/lvs-node.desktop, which GNOME, KDE, Xfce & co. honour.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app } from 'electron';

export const HIDDEN_FLAG = '--hidden';
const LOGIN_ARGS = [HIDDEN_FLAG];

export interface LoginItem {
  isEnabled(): boolean;
  setEnabled(enabled: boolean): void;
}

export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'autostart', 'lvs-node.desktop');
}

/** Quotes one argument of a desktop entry's Exec key (freedesktop Desktop Entry spec). */
function execArgument(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** The command that starts this app again: the AppImage if we run from one, else the executable (plus the app dir in development). */
export function launchCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.APPIMAGE) return [env.APPIMAGE];
  return app.isPackaged ? [process.execPath] : [process.execPath, app.getAppPath()];
}

export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=LVS Node',
    'Comment=LVS drift node (starts in the tray)',
    `Exec=${[...command, HIDDEN_FLAG].map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function createLoginItem(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): LoginItem {
  if (platform === 'darwin' || platform === 'win32') {
    return {
      isEnabled: () => app.getLoginItemSettings({ args: LOGIN_ARGS }).openAtLogin,
      setEnabled: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled, args: LOGIN_ARGS }),
    };
  }
  const file = autostartFile(env);
  return {
    isEnabled: () => fs.existsSync(file),
    setEnabled(enabled) {
      if (!enabled) return fs.rmSync(file, { force: true });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, desktopEntry(launchCommand(env)), { mode: 0o644 });
    },
  };
}

/** True when this launch should start in the tray: --hidden, or macOS opened us as a login item. */
export function startsHidden(argv: readonly string[], platform: NodeJS.Platform = process.platform): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin;
}
