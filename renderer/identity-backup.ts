/**
 * The desktop app's identity backup buttons (docs/store.md, "Moving a node
 * to another machine"). Shown only where the API offers them (Electron's
 * preload); the dialogs and the key stay in the main process.
 */
import type { DesktopApi, LvsApi } from '../main/bridge/api.js';
import { byId, setText } from './dom.js';

export class IdentityBackup {
  private readonly panel = byId('identity-backup', HTMLElement);
  private readonly exportButton = byId('identity-export', HTMLButtonElement);
  private readonly importButton = byId('identity-import', HTMLButtonElement);
  private readonly message = byId('identity-message', HTMLElement);

  constructor(api: LvsApi & Partial<DesktopApi>) {
    const { exportIdentity, importIdentity } = api;
    if (typeof exportIdentity !== 'function' || typeof importIdentity !== 'function') return;
    this.panel.hidden = false;
    this.exportButton.addEventListener('click', () => {
      void this.run(async () => {
        const result = await exportIdentity();
        if (!result.ok) return `Not exported: ${result.error}`;
        return result.value ? `Exported to ${result.value.file}. It holds the private key: keep it private.` : '';
      });
    });
    this.importButton.addEventListener('click', () => {
      void this.run(async () => {
        const result = await importIdentity();
        if (!result.ok) return `Not imported: ${result.error}`;
        return result.value ? `Imported ${result.value.id}; restarting…` : '';
      });
    });
  }

  private async run(action: () => Promise<string>): Promise<void> {
    this.exportButton.disabled = true;
    this.importButton.disabled = true;
    try {
      setText(this.message, await action());
    } finally {
      this.exportButton.disabled = false;
      this.importButton.disabled = false;
    }
  }
}
