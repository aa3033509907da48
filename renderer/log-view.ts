/**
 * The log view: the lines the model keeps, oldest at the top and newest at
 * the bottom (by time, see LogBook), level-coloured; it follows new lines
 * while the user is at the bottom and stays put while they scroll up.
 */
import { byId, el, setText } from './dom.js';
import { formatClock } from './format.js';
import type { DashboardModel, LogEntry } from './model.js';

/** Within this many pixels of the bottom counts as "at the bottom". */
const STICK_PX = 24;

export class LogView {
  private readonly list = byId('log-view', HTMLOListElement);
  private readonly count = byId('log-count', HTMLElement);
  /** The element of each line shown, by its arrival number. */
  private readonly lines = new Map<number, HTMLLIElement>();
  private shownVersion = -1;
  private readonly placeholder = el('li', { className: 'log-empty', text: 'Nothing logged yet.' });

  constructor(private readonly model: DashboardModel) {
    this.list.append(this.placeholder);
  }

  render(): void {
    const book = this.model.logs;
    if (book.version === this.shownVersion) return;
    this.shownVersion = book.version;
    const entries = book.toArray();
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < STICK_PX;
    const keep = new Set(entries.map((e) => e.seq));
    // Lines the model no longer keeps go first, so the loop below moves only what is out of place.
    for (const [seq, li] of this.lines) {
      if (keep.has(seq)) continue;
      li.remove();
      this.lines.delete(seq);
    }
    if (entries.length === 0) {
      if (!this.placeholder.isConnected) this.list.append(this.placeholder);
    } else {
      this.placeholder.remove();
    }
    let previous: HTMLLIElement | null = null;
    for (const entry of entries) {
      let li = this.lines.get(entry.seq);
      if (!li) {
        li = line(entry);
        this.lines.set(entry.seq, li);
      }
      const expected: ChildNode | null = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== li) this.list.insertBefore(li, expected);
      previous = li;
    }
    setText(this.count, entries.length === 0 ? '' : `${entries.length} line${entries.length === 1 ? '' : 's'}`);
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }
}

function line(entry: LogEntry): HTMLLIElement {
  return el('li', { attrs: { 'data-level': entry.level, 'data-seq': String(entry.seq), 'data-at': String(entry.at) } }, [
    el('span', { className: 'log-time', text: formatClock(entry.at) }),
    el('span', { className: 'log-level', text: entry.level }),
    el('span', { className: 'log-message', text: entry.message }),
  ]);
}
