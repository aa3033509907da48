/**
 * The peer list: one row per known peer (keyed, so rows are updated in
 * place) with its trust and a block (or unblock) button, then the addresses
 * being dialled with why they failed and when the next try is, and an
 * empty message that says how to add a peer.
 */
import type { DialTarget, PeerStatus } from '../main/bridge/api.js';
import { intensityCss } from './colour.js';
import { byId, pageHostname, el, setAttr, setText } from './dom.js';
import { EXPLAIN, formatTrust, trustLevel } from './explain.js';
import { dialableAddress, formatLastSeen, formatPoint, formatUntil, nodeLabel, shortId } from './format.js';
import { isBlocked } from './held-off.js';
import { peerLinkState, type DashboardModel } from './model.js';

interface Row {
  li: HTMLLIElement;
  dot: HTMLSpanElement;
  name: HTMLSpanElement;
  short: HTMLSpanElement;
  kind: HTMLSpanElement;
  state: HTMLSpanElement;
  drift: HTMLSpanElement;
  seen: HTMLSpanElement;
  trust: HTMLSpanElement;
  excluded: HTMLDivElement;
  block: HTMLButtonElement;
}

interface DialRow {
  li: HTMLLIElement;
  when: HTMLSpanElement;
  error: HTMLDivElement;
}

export class PeerList {
  private readonly list = byId('peer-list', HTMLUListElement);
  private readonly empty = byId('peer-list-empty', HTMLElement);
  private readonly dials = byId('dial-list', HTMLUListElement);
  private readonly count = byId('peer-count', HTMLElement);
  private readonly legend = byId('peer-legend', HTMLElement);
  private readonly rows = new Map<string, Row>();
  private readonly dialRows = new Map<string, DialRow>();

  /** `onBlock`: the user asked to block (true) or unblock (false) a peer; the app saves it in the blockedPeers setting. */
  constructor(
    private readonly model: DashboardModel,
    private readonly onBlock: (peerId: string, blocked: boolean) => void = () => {},
  ) {
    setText(this.legend, EXPLAIN.trust.legend);
    this.legend.title = EXPLAIN.trust.tooltip;
  }

  render(): void {
    const status = this.model.status;
    const peers = this.model.peerList();
    const linked = peers.filter((p) => p.connected).length;
    setText(this.count, peers.length === 0 ? '' : `${linked} linked of ${peers.length}`);
    this.renderPeers(peers);
    this.legend.hidden = peers.length === 0;
    const dials = this.model.pendingDials();
    this.renderDials(dials);
    const showEmpty = status !== null && peers.length === 0;
    this.empty.hidden = !showEmpty;
    if (showEmpty) {
      const address = dialableAddress(status.listen, pageHostname());
      setText(
        this.empty,
        dials.length > 0
          ? 'No peer has answered yet. Add another address below, or start a node elsewhere with --peer ' + address + '.'
          : `No peers yet. Add one below by host:port, or start another node with --peer ${address}.`,
      );
    }
  }

  private renderPeers(peers: PeerStatus[]): void {
    const seen = new Set<string>();
    let previous: HTMLLIElement | null = null;
    for (const peer of peers) {
      seen.add(peer.id);
      let row = this.rows.get(peer.id);
      if (!row) {
        row = makeRow(peer.id, this.onBlock);
        this.rows.set(peer.id, row);
      }
      updateRow(row, peer, isBlocked(peer.id, this.model.settings?.blockedPeers ?? null, this.model.status?.heldOff));
      // Keep DOM order equal to the sorted order, moving only what is out of place.
      const expected: ChildNode | null = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== row.li) this.list.insertBefore(row.li, expected);
      previous = row.li;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
  }

  private renderDials(targets: DialTarget[]): void {
    const now = Date.now();
    const heldOff = new Map((this.model.status?.heldOff ?? []).map((h) => [h.id, h.reason]));
    const seen = new Set<string>();
    for (const t of targets) {
      seen.add(t.address);
      let row = this.dialRows.get(t.address);
      if (!row) {
        const when = el('span', { className: 'dial-when' });
        const error = el('div', { className: 'dial-error' });
        const li = el('li', { className: 'dial-row', attrs: { 'data-testid': 'dial-row', 'data-address': t.address } }, [
          el('div', { className: 'dial-head' }, [el('span', { className: 'dial-address', text: t.address }), when]),
          error,
        ]);
        row = { li, when, error };
        this.dialRows.set(t.address, row);
        this.dials.append(li);
      }
      // A peer held off (cut off, or blocked) is not dialled: say so rather than "dialling…".
      const held = t.peerId ? heldOff.get(t.peerId) : undefined;
      const failing = !held && t.failures > 0;
      setAttr(row.li, 'data-failing', String(failing));
      setAttr(row.li, 'data-held', String(held !== undefined));
      setText(row.when, held ? 'not dialled' : failing ? `next try ${formatUntil(t.nextDialAt, now)}` : t.nextDialAt !== null ? `dialling ${formatUntil(t.nextDialAt, now)}` : 'dialling…');
      const why = held ? `held off: ${held}` : failing ? `${t.failures} failed attempt${t.failures === 1 ? '' : 's'}: ${t.lastError ?? 'no answer'}` : '';
      setText(row.error, why);
      row.error.hidden = why === '';
      row.li.title = t.peerId ? `last reached node ${t.peerId}` : 'no node reached at this address yet';
    }
    for (const [address, row] of this.dialRows) {
      if (!seen.has(address)) {
        row.li.remove();
        this.dialRows.delete(address);
      }
    }
  }
}

function makeRow(id: string, onBlock: (peerId: string, blocked: boolean) => void): Row {
  const dot = el('span', { className: 'peer-dot', attrs: { 'aria-hidden': 'true' } });
  const short = el('span', { className: 'peer-short', text: shortId(id), title: id });
  const name = el('span', { className: 'peer-name-text' });
  const kind = el('span', { className: 'peer-kind', text: 'browser', title: 'a browser tab that joined as a node (docs/browser-nodes.md)', attrs: { 'data-testid': 'peer-kind' } });
  kind.hidden = true;
  const state = el('span', { className: 'peer-state' });
  const drift = el('span', { className: 'peer-drift' });
  const seen = el('span', { className: 'peer-seen' });
  const trust = el('span', { className: 'peer-trust', attrs: { 'data-testid': 'peer-trust' }, title: EXPLAIN.trust.tooltip });
  const excluded = el('div', { className: 'peer-excluded', attrs: { 'data-testid': 'peer-excluded' } });
  const block = el('button', { className: 'btn btn-small peer-block', text: 'block', attrs: { type: 'button', 'data-testid': 'peer-block', 'data-blocked': 'false' } });
  // The button says what a click does now; the row keeps it across renders.
  block.addEventListener('click', () => onBlock(id, block.dataset.blocked !== 'true'));
  const li = el('li', { className: 'peer-row', attrs: { 'data-testid': 'peer-row', 'data-peer-id': id } }, [
    dot,
    el('span', { className: 'peer-name' }, [name, short, kind]),
    state,
    el('div', { className: 'peer-meta' }, [drift, seen, trust, block]),
    excluded,
  ]);
  return { li, dot, name, short, kind, state, drift, seen, trust, excluded, block };
}

function updateRow(row: Row, peer: PeerStatus, blocked: boolean): void {
  const link = peerLinkState(peer);
  setAttr(row.li, 'data-state', link);
  setText(row.name, nodeLabel(peer.name, peer.id));
  row.kind.hidden = peer.kind !== 'browser';
  setAttr(row.li, 'data-kind', peer.kind);
  setText(row.state, link);
  setText(row.drift, peer.drift ? formatPoint(peer.drift) : 'no drift yet');
  setText(row.seen, formatLastSeen(peer.lastSeenCycles));
  setText(row.trust, formatTrust(peer.trust));
  setAttr(row.trust, 'data-level', trustLevel(peer.trust));
  setAttr(row.li, 'data-blocked', String(blocked));
  setAttr(row.block, 'data-blocked', String(blocked));
  setText(row.block, blocked ? 'unblock' : 'block');
  const blockTitle = blocked
    ? 'unblock this node: it may link again (removed from the blockedPeers setting)'
    : 'block this node: drop its link now and never link to it again (saved in the blockedPeers setting)';
  if (row.block.title !== blockTitle) row.block.title = blockTitle;
  setText(row.excluded, peer.excluded ? `not pulling: ${peer.excluded}` : '');
  row.excluded.hidden = !peer.excluded;
  // CSSOM (not a style attribute), which a strict style-src allows.
  const colour = intensityCss(peer.intensity, link === 'disconnected' ? 0.35 : link === 'stale' ? 0.6 : 1);
  if (row.dot.style.backgroundColor !== colour) row.dot.style.backgroundColor = colour;
  const rejects = Object.entries(peer.rejects)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  row.li.title = [
    peer.id,
    peer.address ? `address ${peer.address}` : null,
    peer.dialledAddress ? `dialled ${peer.dialledAddress}` : peer.connected ? 'inbound link' : null,
    peer.kind === 'browser' ? 'a browser tab' : null,
    peer.nbrs && peer.nbrs.length > 0 ? `its peers: ${peer.nbrs.map((n) => shortId(n.id)).join(', ')}` : null,
    `messages in ${peer.messagesIn}, out ${peer.messagesOut}`,
    `intensity ${peer.intensity.toFixed(3)}`,
    rejects ? `rejected: ${rejects}` : null,
  ]
    .filter((x): x is string => x !== null)
    .join('\n');
}
