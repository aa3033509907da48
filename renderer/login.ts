/**
 * The prompt a --ui-public node's dashboard shows until the page holds the
 * node's access token or password: a modal dialog that cannot be dismissed
 * (there is nothing behind it to use without the credential).
 */
import { byId, setText } from './dom.js';

export class LoginPrompt {
  private readonly dialog = byId('login-dialog', HTMLDialogElement);
  private readonly form = byId('login-form', HTMLFormElement);
  private readonly hint = byId('login-hint', HTMLElement);
  private readonly input = byId('login-secret', HTMLInputElement);
  private readonly error = byId('login-error', HTMLElement);
  private readonly submit = byId('login-submit', HTMLButtonElement);
  private waiting: ((secret: string) => void) | null = null;

  constructor() {
    this.dialog.addEventListener('cancel', (e) => e.preventDefault());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const secret = this.input.value;
      if (secret === '' || !this.waiting) return;
      const resolve = this.waiting;
      this.waiting = null;
      this.submit.disabled = true;
      resolve(secret);
    });
  }

  /** Shows the prompt (with `error` under the field, if any) and resolves with what the user entered. */
  ask(credential: 'token' | 'password', error: string | null): Promise<string> {
    setText(
      this.hint,
      credential === 'token'
        ? 'This node was started with --ui-public. Paste its access token: the start log showed it once, and it is kept in the file ui-token in the node\'s data directory.'
        : 'This node was started with --ui-public and a password. Enter the password from its --ui-password-file.',
    );
    this.input.placeholder = credential === 'token' ? 'access token' : 'password';
    this.input.value = '';
    this.show(error);
    this.submit.disabled = false;
    this.input.focus();
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Shows the prompt with a message and no way to submit (too many wrong attempts: wait). */
  block(message: string): void {
    this.show(message);
    this.submit.disabled = true;
  }

  hide(): void {
    this.waiting = null;
    this.input.value = '';
    if (this.dialog.open) this.dialog.close();
  }

  private show(error: string | null): void {
    setText(this.error, error ?? '');
    if (error) this.input.setAttribute('aria-invalid', 'true');
    else this.input.removeAttribute('aria-invalid');
    if (!this.dialog.open) this.dialog.showModal();
  }
}
