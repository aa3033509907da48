/**
 * The "held off" part of the Peers panel: the node's heldOff list (peers it
 * cut off, and peers the user blocked) with why and until when, and an
 * unblock button on the blocked ones. Rows are keyed by peer id.
 */
import { byId, el, setAttr, setText } from './dom.js';
import { shortId } from './format.js';
import { heldOffRows, type HeldOffRow } from './held-off.js';
import type { DashboardModel } from './model.js';

interface Row {
  li: HTMLLIElement;
  label: HTMLSpanElement;
  short: HTMLSpanElement;
  reason: HTMLSpanElement;
  until: HTMLSpanElement;
  unblock: HTMLButtonElement;
}

export class HeldOffList {
  private readonly section = byId('held-off', HTMLElement);
  private readonly list = byId('held-list', HTMLUListElement);
  private readonly count = byId('held-count', HTMLElement);
  private readonly rows = new Map<string, Row>();

  /** `onUnblock`: the user asked to unblock a peer (the app takes it out of the blockedPeers setting). */
  constructor(
    private readonly model: DashboardModel,
    private readonly onUnblock: (peerId: string) => void,
  ) {}

  render(): void {
    const s = this.model.status;
    const rows = s ? heldOffRows(s.heldOff ?? [], s.peers, this.model.settings?.blockedPeers ?? null, Date.now()) : [];
    this.section.hidden = rows.length === 0;
    setText(this.count, rows.length === 0 ? '' : String(rows.length));
    const seen = new Set<string>();
    let previous: HTMLLIElement | null = null;
    for (const held of rows) {
      seen.add(held.id);
      let row = this.rows.get(held.id);
      if (!row) {
        row = makeRow(held.id, this.onUnblock);
        this.rows.set(held.id, row);
      }
      update(row, held);
      const expected: ChildNode | null = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== row.li) this.list.insertBefore(row.li, expected);
      previous = row.li;
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.li.remove();
      this.rows.delete(id);
    }
  }
}

function makeRow(id: string, onUnblock: (peerId: string) => void): Row {
  const label = el('span', { className: 'held-label' });
  const reason = el('span', { className: 'held-reason', attrs: { 'data-testid': 'held-reason' } });
  const until = el('span', { className: 'held-until' });
  const short = el('span', { className: 'peer-short', text: shortId(id), title: id });
  const unblock = el('button', {
    className: 'btn btn-small held-unblock',
    text: 'unblock',
    title: 'let this node link again (takes it out of the blockedPeers setting)',
    attrs: { type: 'button', 'data-testid': 'held-unblock' },
  });
  unblock.addEventListener('click', () => onUnblock(id));
  const li = el('li', { className: 'held-row', attrs: { 'data-testid': 'held-row', 'data-peer-id': id } }, [
    el('div', { className: 'held-head' }, [label, short, unblock]),
    el('div', { className: 'held-why' }, [reason, until]),
  ]);
  return { li, label, short, reason, until, unblock };
}

function update(row: Row, held: HeldOffRow): void {
  setText(row.label, held.label);
  // An unnamed peer's label is its short id already.
  row.short.hidden = held.label === row.short.textContent;
  setText(row.reason, held.reason);
  setText(row.until, held.until);
  setAttr(row.li, 'data-blocked', String(held.blocked));
  row.unblock.hidden = !held.blocked;
}
