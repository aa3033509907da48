/**
 * The controls that call the node: add a peer, edit settings, pause and
 * resume, copy this node's id. Each shows the node's one-line error next to
 * itself; the main process is the authority on what is valid.
 */
import type { LvsApi, Settings, SettingsUpdate } from '../main/bridge/api.js';
import { discoveryRunNote } from './discovery-panel.js';
import { byId, setAttr, setText } from './dom.js';
import type { DashboardModel } from './model.js';
import { checkSettingsForm, settingsToForm, SETTINGS_FIELDS, type SettingsField, type SettingsFormValues } from './settings-check.js';

export class AddPeerForm {
  private readonly form = byId('add-peer-form', HTMLFormElement);
  private readonly input = byId('add-peer-input', HTMLInputElement);
  private readonly submit = byId('add-peer-submit', HTMLButtonElement);
  private readonly error = byId('add-peer-error', HTMLElement);
  private readonly note = byId('add-peer-note', HTMLElement);

  constructor(private readonly api: LvsApi, private readonly changed: () => void) {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.input.addEventListener('input', () => {
      setText(this.error, '');
      this.input.removeAttribute('aria-invalid');
    });
  }

  focus(): void {
    this.input.focus();
  }

  private async send(): Promise<void> {
    const address = this.input.value.trim();
    setText(this.note, '');
    if (address === '') {
      this.fail('Enter the peer\'s address as host:port, e.g. 192.168.1.20:7710.');
      return;
    }
    this.submit.disabled = true;
    try {
      const result = await this.api.addPeer(address);
      if (result.ok) {
        this.input.value = '';
        setText(this.error, '');
        this.input.removeAttribute('aria-invalid');
        setText(this.note, `Dialling ${result.value.address}; it appears in the list when it answers.`);
        this.changed();
      } else {
        this.fail(result.error);
      }
    } finally {
      this.submit.disabled = false;
    }
  }

  private fail(message: string): void {
    setText(this.error, message);
    this.input.setAttribute('aria-invalid', 'true');
  }
}

export class SettingsForm {
  private readonly form = byId('settings-form', HTMLFormElement);
  private readonly submit = byId('settings-submit', HTMLButtonElement);
  private readonly reset = byId('settings-reset', HTMLButtonElement);
  private readonly message = byId('settings-message', HTMLElement);
  private readonly discoveryNote = byId('discovery-note', HTMLElement);
  private readonly inputs: Record<SettingsField, HTMLInputElement>;
  private loaded: Settings | null = null;
  private dirty = false;
  private busy = false;

  constructor(private readonly api: LvsApi, private readonly model: DashboardModel, private readonly changed: () => void) {
    const inputs: Partial<Record<SettingsField, HTMLInputElement>> = {};
    for (const field of SETTINGS_FIELDS) {
      const input = this.form.elements.namedItem(field);
      if (!(input instanceof HTMLInputElement)) throw new Error(`dashboard page: settings form has no input named ${field}`);
      inputs[field] = input;
      input.addEventListener('input', () => {
        this.dirty = true;
        input.removeAttribute('aria-invalid');
        this.syncButtons();
      });
    }
    this.inputs = inputs as Record<SettingsField, HTMLInputElement>;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    this.reset.addEventListener('click', () => {
      if (this.loaded) this.fill(this.loaded);
      this.say('', 'info');
    });
  }

  /** Loads the settings from the node (at start and after a reconnect). */
  async load(): Promise<void> {
    const result = await this.api.getSettings();
    if (result.ok) {
      this.model.settings = result.value;
      this.external(result.value);
    } else if (!this.loaded) {
      this.say(`Could not load the settings: ${result.error}`, 'error');
    }
  }

  /** Says how this run differs from the saved settings the form shows (discovery off by a flag, or waiting for a restart). */
  render(): void {
    const note = this.loaded ? discoveryRunNote(this.loaded.discovery, this.model.status?.discovery) : null;
    setText(this.discoveryNote, note ?? '');
    this.discoveryNote.hidden = note === null;
  }

  /** Settings changed on the node (another window, the CLI): show them unless the user is editing. */
  external(settings: Settings): void {
    const first = this.loaded === null;
    this.loaded = settings;
    if (!this.dirty || first) this.fill(settings);
    this.syncButtons();
  }

  private fill(settings: Settings): void {
    const values = settingsToForm(settings);
    for (const field of SETTINGS_FIELDS) {
      const input = this.inputs[field];
      if (field === 'discovery') input.checked = values.discovery;
      else input.value = values[field];
      input.removeAttribute('aria-invalid');
    }
    this.dirty = false;
    this.syncButtons();
  }

  private read(): SettingsFormValues {
    const v = (f: Exclude<SettingsField, 'discovery'>) => this.inputs[f].value;
    return {
      name: v('name'),
      cycleMs: v('cycleMs'),
      alpha: v('alpha'),
      beta: v('beta'),
      gamma: v('gamma'),
      port: v('port'),
      maxPeers: v('maxPeers'),
      discovery: this.inputs.discovery.checked,
    };
  }

  private async save(): Promise<void> {
    if (this.busy) return;
    const check = checkSettingsForm(this.read(), this.loaded);
    if (!check.ok) {
      this.inputs[check.field].setAttribute('aria-invalid', 'true');
      this.inputs[check.field].focus();
      this.say(check.error, 'error');
      return;
    }
    if (Object.keys(check.patch).length === 0) {
      this.dirty = false;
      this.syncButtons();
      this.say('Nothing changed.', 'info');
      return;
    }
    this.busy = true;
    this.syncButtons();
    try {
      const result = await this.api.updateSettings(check.patch);
      if (!result.ok) {
        const field = SETTINGS_FIELDS.find((f) => result.error.startsWith(`${f} `));
        if (field) this.inputs[field].setAttribute('aria-invalid', 'true');
        this.say(result.error, 'error');
        return;
      }
      this.dirty = false;
      this.model.settings = result.value.settings;
      this.external(result.value.settings);
      this.announce(result.value, Object.keys(check.patch));
      this.changed();
    } finally {
      this.busy = false;
      this.syncButtons();
    }
  }

  private announce(update: SettingsUpdate, changedKeys: string[]): void {
    const saved = `Saved ${changedKeys.join(', ')}.`;
    if (update.restartRequired.length > 0) {
      const list = update.restartRequired.join(', ');
      this.say(`${saved} ${list} take${update.restartRequired.length === 1 ? 's' : ''} effect after the node restarts.`, 'restart');
    } else {
      this.say(`${saved} In effect now.`, 'ok');
    }
  }

  private say(text: string, kind: 'info' | 'ok' | 'error' | 'restart'): void {
    setText(this.message, text);
    setAttr(this.message, 'data-kind', kind);
  }

  private syncButtons(): void {
    this.submit.disabled = this.busy || this.loaded === null;
    this.reset.disabled = this.busy || !this.dirty;
  }
}

export class PauseButton {
  private readonly button = byId('pause-button', HTMLButtonElement);
  private busy = false;

  constructor(
    private readonly api: LvsApi,
    private readonly model: DashboardModel,
    private readonly report: (level: 'warn' | 'error', message: string) => void,
    private readonly changed: () => void,
  ) {
    this.button.addEventListener('click', () => void this.toggle());
  }

  render(online: boolean): void {
    const s = this.model.status;
    const paused = s?.paused ?? false;
    setText(this.button, paused ? 'Resume' : 'Pause');
    setAttr(this.button, 'data-paused', String(paused));
    setAttr(this.button, 'aria-pressed', String(paused));
    this.button.title = paused ? 'Resume the drift cycle' : 'Pause the drift cycle (links stay open)';
    this.button.disabled = this.busy || !online || s === null;
  }

  private async toggle(): Promise<void> {
    const s = this.model.status;
    if (!s || this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    try {
      const result = await this.api.setPaused(!s.paused);
      if (result.ok) {
        if (this.model.status) this.model.status.paused = result.value.paused;
      } else {
        this.report('error', `could not ${s.paused ? 'resume' : 'pause'}: ${result.error}`);
      }
    } finally {
      this.busy = false;
      this.changed();
    }
  }
}

/** Copies this node's id; without clipboard access it selects the text so Ctrl+C works. */
export class CopyId {
  private readonly button = byId('copy-id', HTMLButtonElement);
  private readonly id = byId('node-id', HTMLElement);
  private restore: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    this.button.addEventListener('click', () => void this.copy());
  }

  render(hasId: boolean): void {
    this.button.disabled = !hasId;
  }

  private async copy(): Promise<void> {
    const text = this.id.textContent ?? '';
    if (!text || text === '—') return;
    let copied = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        copied = true;
      }
    } catch {
      copied = false;
    }
    if (!copied) {
      const range = document.createRange();
      range.selectNodeContents(this.id);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    }
    this.flash(copied ? 'copied' : 'selected: Ctrl+C');
  }

  private flash(text: string): void {
    setText(this.button, text);
    if (this.restore) clearTimeout(this.restore);
    this.restore = setTimeout(() => setText(this.button, 'copy'), 1600);
  }
}
