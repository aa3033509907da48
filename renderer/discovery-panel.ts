/**
 * LAN discovery as the user needs it when peers do not show up: whether it
 * runs (and why not), which interfaces it serves, whom it heard, the hint
 * about the usual culprits, and its recent log.
 */
import { DISCOVERY_OFF_BY_SETTING, type DiscoveryStatus } from '../main/discovery/types.js';
import { byId, el, setText } from './dom.js';
import { formatClock } from './format.js';
import type { DashboardModel } from './model.js';

/** Discovery log lines shown; the node keeps more in /api/status. */
const SHOWN_LOG_LINES = 8;

export function discoverySummary(d: DiscoveryStatus): string {
  if (!d.enabled) return `off: ${d.off ?? 'not running'}`;
  const served = d.interfaces.map((i) => `${i.name} ${i.addresses.join(', ')}`).join('; ');
  const heard = d.peers.filter((p) => !p.left).length;
  return `${d.service} on ${d.interfaces.length} interface${d.interfaces.length === 1 ? '' : 's'}${served ? ` (${served})` : ''}; heard ${heard} node${heard === 1 ? '' : 's'}`;
}

/**
 * What the settings form says under its discovery checkbox, which shows the
 * saved setting (used at the next start): how this run differs from it, or
 * null when the checkbox tells the whole truth.
 */
export function discoveryRunNote(saved: boolean, run: DiscoveryStatus | undefined): string | null {
  if (!run) return null;
  if (run.enabled) return saved ? null : 'on this run; off after the node restarts';
  if (run.off === DISCOVERY_OFF_BY_SETTING) return saved ? 'off this run (the setting was off when the node started); on after it restarts' : null;
  return `off this run: ${run.off ?? 'not running'}`;
}

export class DiscoveryPanel {
  private readonly summary = byId('discovery-summary', HTMLElement);
  private readonly hint = byId('discovery-hint', HTMLElement);
  private readonly list = byId('discovery-log', HTMLOListElement);
  private shownKey = '';

  constructor(private readonly model: DashboardModel) {}

  render(): void {
    const d = this.model.status?.discovery;
    if (!d) return;
    setText(this.summary, discoverySummary(d));
    setText(this.hint, d.hint ?? '');
    this.hint.hidden = !d.hint;
    const lines = d.log.slice(-SHOWN_LOG_LINES);
    const key = lines.map((l) => `${l.at}:${l.message}`).join('\n');
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.list.replaceChildren(
      ...lines.map((l) =>
        el('li', { attrs: { 'data-kind': l.kind } }, [el('span', { className: 'log-time', text: formatClock(l.at) }), el('span', { className: 'log-message', text: l.message })]),
      ),
    );
  }
}
