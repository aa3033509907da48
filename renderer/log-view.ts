/** The log view: the last LOG_CAPACITY lines, newest at the bottom, level-coloured; sticks to the bottom unless scrolled up. */
import { byId, el, setText } from './dom.js';
import { formatClock } from './format.js';
import type { DashboardModel, LogEntry } from './model.js';

export class LogView {
  private readonly list = byId('log-view', HTMLOListElement);
  private readonly count = byId('log-count', HTMLElement);
  private lastSeq = 0;
  private readonly placeholder = el('li', { className: 'log-empty', text: 'Nothing logged yet.' });

  constructor(private readonly model: DashboardModel) {
    this.list.append(this.placeholder);
  }

  render(): void {
    const entries = this.model.logs.toArray();
    const fresh = entries.filter((e) => e.seq > this.lastSeq);
    if (fresh.length === 0) return;
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 24;
    this.placeholder.remove();
    for (const entry of fresh) this.list.append(line(entry));
    this.lastSeq = fresh[fresh.length - 1]!.seq;
    // Drop lines the model no longer keeps (it holds the newest LOG_CAPACITY).
    const oldest = entries[0]?.seq ?? 0;
    while (this.list.firstElementChild instanceof HTMLElement && Number(this.list.firstElementChild.dataset.seq) < oldest) {
      this.list.firstElementChild.remove();
    }
    setText(this.count, `${entries.length} line${entries.length === 1 ? '' : 's'}`);
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }
}

function line(entry: LogEntry): HTMLLIElement {
  return el('li', { attrs: { 'data-level': entry.level, 'data-seq': String(entry.seq) } }, [
    el('span', { className: 'log-time', text: formatClock(entry.at) }),
    el('span', { className: 'log-level', text: entry.level }),
    el('span', { className: 'log-message', text: entry.message }),
  ]);
}
