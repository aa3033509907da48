/**
 * The read-only panels: top bar, bridge banner, convergence readout, this
 * node's facts (with what vu, tc and intensity mean), and the plane's empty
 * state. Reads the model; writes text.
 */
import type { ConnectionState } from './bridge-client.js';
import { byId, el, pageHostname, setAttr, setText } from './dom.js';
import { EXPLAIN, type Term } from './explain.js';
import { dialableAddress, joinPageHref, formatDuration, formatPoint, formatRate, formatSig, formatUnit, nodeLabel } from './format.js';
import type { DashboardModel } from './model.js';
import { drawSparkline } from './sparkline.js';
import { SPREAD_SAMPLE_MS, type SpreadHistory } from './spread-history.js';

/** What the banner should say, if anything. */
export interface LinkHealth {
  /** The WebSocket bridge's state; null under Electron (IPC does not drop). */
  connection: ConnectionState | null;
  /** The last getStatus error, null after a success. */
  statusError: string | null;
}

export class Panels {
  private readonly topName = byId('top-name', HTMLElement);
  private readonly runState = byId('run-state', HTMLElement);
  private readonly topListen = byId('top-listen', HTMLElement);
  private readonly joinLink = byId('join-link', HTMLAnchorElement);
  private readonly banner = byId('bridge-banner', HTMLElement);
  private readonly spread = byId('spread', HTMLElement);
  private readonly spreadCount = byId('spread-count', HTMLElement);
  private readonly sparkline = byId('sparkline', HTMLCanvasElement);
  private readonly sparkRange = byId('spark-range', HTMLElement);
  private readonly nodeId = byId('node-id', HTMLElement);
  private readonly selfName = byId('self-name', HTMLElement);
  private readonly selfDrift = byId('self-drift', HTMLElement);
  private readonly selfVu = byId('self-vu', HTMLElement);
  private readonly selfTc = byId('self-tc', HTMLElement);
  private readonly selfCycle = byId('self-cycle', HTMLElement);
  private readonly selfRate = byId('self-rate', HTMLElement);
  private readonly selfIntensity = byId('self-intensity', HTMLElement);
  private readonly selfListen = byId('self-listen', HTMLElement);
  private readonly emptyState = byId('empty-state', HTMLElement);
  private readonly emptyCommand = byId('empty-command', HTMLElement);
  private readonly emptyListen = byId('empty-listen', HTMLElement);
  private readonly emptyTitle: HTMLElement;
  /** The network-wide spread, under the local one (made here: the page's markup has no place for it). */
  private readonly networkReadout: HTMLElement;

  constructor(
    private readonly model: DashboardModel,
    private readonly history: SpreadHistory,
  ) {
    const title = this.emptyState.querySelector('h2');
    if (!(title instanceof HTMLElement)) throw new Error('dashboard page: #empty-state has no heading');
    this.emptyTitle = title;
    this.networkReadout = el('p', { className: 'caption muted', text: '' });
    this.networkReadout.dataset['testid'] = 'network-spread';
    this.networkReadout.title = 'Every node this node knows of through the network memory (signed records gossiped between nodes), offline ones left out';
    const readout = this.spread.closest('.readout');
    (readout ?? this.spread).after(this.networkReadout);
    explainTerms();
  }

  render(health: LinkHealth): void {
    const s = this.model.status;
    const offline = health.connection !== null && !health.connection.connected;
    if (s) {
      setText(this.topName, nodeLabel(s.name, s.id));
      this.topName.title = s.id;
      setText(this.topListen, s.kind === 'browser' ? s.listen : `listening on ${s.listen}`);
      // A browser tab is a node already; a native node offers its /join page (served to the LAN, docs/browser-nodes.md).
      const join = s.kind === 'native' ? joinPageHref(s.listen, pageHostname()) : null;
      this.joinLink.hidden = join === null;
      if (join !== null && this.joinLink.getAttribute('href') !== join) this.joinLink.href = join;
    }
    const state = offline || (health.statusError && !s) ? 'offline' : !s ? 'connecting' : s.paused ? 'paused' : s.waitingForPeers ? 'waiting' : 'running';
    setAttr(this.runState, 'data-state', state);
    setText(this.runState, state === 'waiting' ? 'waiting for peers' : state);
    this.renderBanner(health);
    this.renderReadout();
    this.renderSelf();
    this.renderEmpty();
  }

  private renderBanner(health: LinkHealth): void {
    const c = health.connection;
    let text = '';
    if (c && !c.connected) {
      const wait = c.retryAt === null ? 'now' : `in ${formatDuration(Math.max(0, c.retryAt - Date.now()))}`;
      const lead = c.everConnected ? 'Disconnected from node' : 'Cannot reach the node';
      text = `${lead}, retrying ${wait} (attempt ${c.attempt})${c.lastError ? ` — ${c.lastError}` : ''}. What you see is the last known state.`;
    } else if (health.statusError) {
      text = `The node is not answering: ${health.statusError}. Retrying every second.`;
    }
    setText(this.banner, text);
    this.banner.hidden = text === '';
  }

  private renderReadout(): void {
    const n = this.model.localCount();
    setText(this.spread, formatSig(this.model.spread()));
    setText(this.spreadCount, n === 1 ? '1 node' : `${n} nodes`);
    const network = this.model.networkSpread();
    const beyond = this.model.nodes.size - n;
    this.networkReadout.hidden = beyond === 0;
    setText(
      this.networkReadout,
      beyond === 0 ? '' : `network: ${formatSig(network.spread)} over ${network.nodes} node${network.nodes === 1 ? '' : 's'}${network.offline > 0 ? ` (${network.offline} offline not counted)` : ''}`,
    );
    const range = drawSparkline(this.sparkline, this.history, Date.now(), this.history.capacity * SPREAD_SAMPLE_MS, n < 2 ? 'spread needs two or more nodes on the plane' : 'collecting…');
    setText(this.sparkRange, range);
  }

  private renderSelf(): void {
    const s = this.model.status;
    if (!s) return;
    setText(this.nodeId, s.id);
    setText(this.selfName, s.name || '(unnamed)');
    setText(this.selfDrift, formatPoint(s.state.drift));
    setText(this.selfVu, formatUnit(s.state.vu));
    setText(this.selfTc, formatUnit(s.state.tc));
    setText(this.selfCycle, `${s.cycle} · every ${s.config.cycleMs} ms`);
    setText(this.selfRate, `${formatRate(s.cyclesPerSecond)} cycles`);
    setText(this.selfIntensity, formatUnit(s.intensity));
    setText(this.selfListen, s.listen);
  }

  private renderEmpty(): void {
    const s = this.model.status;
    const peersOnPlane = this.model.localCount() - (s && this.model.nodes.has(s.id) ? 1 : 0);
    const show = s !== null && peersOnPlane === 0;
    this.emptyState.hidden = !show;
    if (!s || !show) return;
    const known = this.model.peerList().length;
    const dialling = this.model.pendingDials().length;
    setText(
      this.emptyTitle,
      known === 0 && dialling === 0 ? 'No peers yet' : dialling > 0 ? `No linked peers — dialling ${dialling} address${dialling === 1 ? '' : 'es'} (see Peers)` : 'No linked peers right now',
    );
    const address = dialableAddress(s.listen, pageHostname());
    setText(this.emptyCommand, `npm run node -- --peer ${address}`);
    setText(this.emptyListen, `This node listens on ${s.listen}. A second node on this same machine needs its own --data-dir and --port 0.`);
  }
}

/** The terms the facts list explains in its legend, in the order it shows them. */
const LEGEND_TERMS = ['vu', 'tc', 'intensity'] as const satisfies readonly Term[];

/** A tooltip on every element marked data-term, and the short legend under this node's facts. */
function explainTerms(): void {
  for (const node of document.querySelectorAll<HTMLElement>('[data-term]')) {
    const term = node.dataset.term;
    if (term && Object.hasOwn(EXPLAIN, term)) node.title = EXPLAIN[term as Term].tooltip;
  }
  byId('terms', HTMLDListElement).replaceChildren(
    ...LEGEND_TERMS.flatMap((term) => [el('dt', { text: term, title: EXPLAIN[term].tooltip }), el('dd', { text: EXPLAIN[term].legend, title: EXPLAIN[term].tooltip })]),
  );
}
