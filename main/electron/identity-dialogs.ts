/**
 * The desktop app's identity backup (docs/store.md, "Moving a node to
 * another machine"): the same export and import as `lvs-node identity`,
 * behind the system's file dialogs. The key goes from the store to the file
 * (and back) in this process; the page only learns where it went.
 *
 * Import replaces the running node's identity, so it stops the node first
 * (releasing the data dir's lock), imports, and restarts the app, which
 * then runs as the imported node. A failed import changes nothing on disk,
 * and the restart brings the old node back.
 */
import { basename, join } from 'node:path';
import { app, dialog, type BrowserWindow } from 'electron';
import type { DesktopChannel, Result } from '../bridge/api.js';
import { exportIdentity, IdentityError, importIdentity } from '../headless/identity-command.js';

export interface IdentityDialogDeps {
  dataDir: string;
  /** The running node's id (for the default file name and the confirmation). */
  nodeId(): string;
  window(): BrowserWindow | null;
  /** Stops the node and releases the data dir (before an import). */
  stopNode(): Promise<void>;
  /** Starts the app again (after an import, whether it worked or not). */
  relaunch(): void;
}

function failure(error: unknown): { ok: false; error: string } {
  return { ok: false, error: error instanceof IdentityError ? error.message : `identity backup failed: ${error instanceof Error ? error.message : String(error)}` };
}

export function identityDialogs(deps: IdentityDialogDeps): Record<DesktopChannel, () => Promise<Result<unknown>>> {
  // One dialog at a time: a second click while one is open gets a clear line, not a second dialog.
  let busy = false;
  const once = async <T>(run: () => Promise<Result<T>>): Promise<Result<T>> => {
    if (busy) return { ok: false, error: 'an identity dialog is open already' };
    busy = true;
    try {
      return await run();
    } catch (error) {
      return failure(error);
    } finally {
      busy = false;
    }
  };
  const parent = (): BrowserWindow | undefined => deps.window() ?? undefined;

  return {
    'lvs:export-identity': () =>
      once(async () => {
        const id = deps.nodeId();
        const options = {
          title: "Export this node's identity",
          defaultPath: join(app.getPath('documents'), `lvs-node-identity-${id.slice(0, 7)}.json`),
          buttonLabel: 'Export',
          filters: [{ name: 'LVS Node identity', extensions: ['json'] }],
        };
        const win = parent();
        const chosen = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
        if (chosen.canceled || !chosen.filePath) return { ok: true, value: null };
        // The save dialog asked before replacing a file, so the export may overwrite it.
        exportIdentity({ dataDir: deps.dataDir, file: chosen.filePath, force: true, passphrase: null });
        return { ok: true, value: { file: chosen.filePath } };
      }),
    'lvs:import-identity': () =>
      once(async () => {
        const options = {
          title: 'Import an identity',
          buttonLabel: 'Import',
          properties: ['openFile' as const],
          filters: [{ name: 'LVS Node identity', extensions: ['json'] }],
        };
        const win = parent();
        const chosen = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
        const file = chosen.filePaths[0];
        if (chosen.canceled || !file) return { ok: true, value: null };
        const confirmOptions = {
          type: 'warning' as const,
          buttons: ['Import and restart', 'Cancel'],
          defaultId: 1,
          cancelId: 1,
          title: 'Replace this node’s identity?',
          message: `Replace this node (${deps.nodeId()}) with the identity in ${basename(file)}?`,
          detail: 'The app restarts as that node. This node’s identity is kept in a file beside the store, and its peers will see a new node.',
        };
        const confirmed = win ? await dialog.showMessageBox(win, confirmOptions) : await dialog.showMessageBox(confirmOptions);
        if (confirmed.response !== 0) return { ok: true, value: null };
        await deps.stopNode();
        let line: string;
        try {
          line = importIdentity({ dataDir: deps.dataDir, file, force: true, passphrase: null });
        } catch (error) {
          dialog.showErrorBox('The identity was not imported', error instanceof Error ? error.message : String(error));
          deps.relaunch();
          return failure(error);
        }
        const id = /identity ([A-Z2-7-]{29})/.exec(line)?.[1] ?? '';
        deps.relaunch();
        return { ok: true, value: { id } };
      }),
  };
}
