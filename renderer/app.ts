/**
 * The dashboard's entry point: picks the API (Electron's preload exposes
 * window.lvs; in a browser the WebSocket bridge stands in), feeds status and
 * events into the model, and drives the plane and panels. Draws and polls
 * only while the page is visible; events keep the model current meanwhile.
 */
import type { LvsApi } from '../main/bridge/api.js';
import { bridgeProtocols, checkAccess, secretStore, takeFragmentToken, type AuthFetch } from './access.js';
import { BridgeClient, bridgeUrl, type ConnectionState } from './bridge-client.js';
import { byId } from './dom.js';
import { AddPeerForm, CopyId, PauseButton, SettingsForm } from './forms.js';
import { DiscoveryPanel } from './discovery-panel.js';
import { shortId } from './format.js';
import { withBlocked } from './held-off.js';
import { HeldOffList } from './held-off-list.js';
import { IdentityBackup } from './identity-backup.js';
import { LoginPrompt } from './login.js';
import { LogView } from './log-view.js';
import { DashboardModel, type GraphLink, type LinkState } from './model.js';
import { Panels } from './panels.js';
import { PeerList } from './peer-list.js';
import { drawLegend, PlaneView } from './plane.js';
import { SPREAD_SAMPLE_MS, SpreadHistory } from './spread-history.js';

/** For browser tests: the drift each dot is heading to, by node id (self included). */
export interface PlaneProbe {
  positions(): Record<string, [number, number]>;
  /** How each dot is drawn (model.ts LinkState), by node id. */
  states(): Record<string, LinkState>;
  /** The network graph's links beyond this node's own. */
  links(): GraphLink[];
}

declare global {
  interface Window {
    /** Set by Electron's preload; absent in a plain browser. */
    lvs?: LvsApi;
    __lvsPlane?: PlaneProbe;
  }
}

const POLL_MS = 1000;
const RENDER_MS = 200;

function start(): void {
  const model = new DashboardModel();
  const history = new SpreadHistory();
  const secrets = secretStore(sessionStorageOrNull());
  const handedOver = takeFragmentToken(location.hash);
  if (handedOver.token !== null) {
    // Keep it for this tab, and take it out of the address bar and the history.
    secrets.set(handedOver.token);
    window.history.replaceState(null, '', `${location.pathname}${location.search}${handedOver.rest}`);
  }
  const client = window.lvs ? null : new BridgeClient(bridgeUrl(location), { protocols: () => bridgeProtocols(secrets.get()) });
  const api: LvsApi = window.lvs ?? client!;
  let connection: ConnectionState | null = client ? client.connection : null;
  let statusError: string | null = null;

  const plane = new PlaneView(byId('plane', HTMLCanvasElement), model, {
    zoomIn: byId('zoom-in', HTMLButtonElement),
    zoomOut: byId('zoom-out', HTMLButtonElement),
    fit: byId('zoom-fit', HTMLButtonElement),
  });
  const panels = new Panels(model, history);
  /** Blocks or unblocks a peer through the blockedPeers setting (the node applies it at once). */
  const setBlocked = async (peerId: string, blocked: boolean): Promise<void> => {
    const what = `${blocked ? 'block' : 'unblock'} ${shortId(peerId)}`;
    // The list as the node has it now, not as this page last saw it: another window may have changed it.
    const current = await api.getSettings();
    const result = current.ok ? await api.updateSettings({ blockedPeers: [...withBlocked(current.value.blockedPeers ?? [], peerId, blocked)] }) : current;
    if (result.ok) model.settings = result.value.settings;
    else model.addLog('error', `could not ${what}: ${result.error}`, Date.now());
    // The node applied it at once; the next status shows the link dropped (or dialled again) and the held-off list.
    await poll();
  };
  const peers = new PeerList(model, (peerId, blocked) => void setBlocked(peerId, blocked));
  const heldOff = new HeldOffList(model, (peerId) => void setBlocked(peerId, false));
  const log = new LogView(model);
  const discovery = new DiscoveryPanel(model);
  const online = () => connection === null || connection.connected;

  let renderTimer: ReturnType<typeof setTimeout> | null = null;
  const render = (): void => {
    if (renderTimer) clearTimeout(renderTimer);
    renderTimer = null;
    panels.render({ connection, statusError });
    peers.render();
    heldOff.render();
    settings.render();
    log.render();
    discovery.render();
    pause.render(online());
    copy.render(model.status !== null);
  };
  const scheduleRender = (): void => {
    if (renderTimer || document.hidden) return;
    renderTimer = setTimeout(render, RENDER_MS);
  };

  const addPeer = new AddPeerForm(api, () => void poll());
  const settings = new SettingsForm(api, model, scheduleRender);
  const pause = new PauseButton(api, model, (level, message) => model.addLog(level, message, Date.now()), scheduleRender);
  const copy = new CopyId();
  new IdentityBackup(api);
  byId('empty-add-link', HTMLAnchorElement).addEventListener('click', (e) => {
    e.preventDefault();
    addPeer.focus();
  });
  drawLegend(byId('legend-bar', HTMLCanvasElement));

  api.onEvent((event) => {
    model.applyEvent(event, performance.now());
    if (event.type === 'settings') settings.external(event.settings);
    scheduleRender();
  });

  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let polling = false;
  async function poll(): Promise<void> {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
    if (document.hidden || polling) return;
    polling = true;
    try {
      const result = await api.getStatus();
      if (result.ok) {
        model.applyStatus(result.value, performance.now());
        statusError = null;
      } else if (online()) {
        // While the bridge is down the banner already says so.
        statusError = result.error;
      }
    } finally {
      polling = false;
    }
    render();
    if (!document.hidden && !pollTimer) pollTimer = setTimeout(() => void poll(), POLL_MS);
  }

  const login = client ? new LoginPrompt() : null;
  let unlocking: Promise<void> | null = null;
  /** Until the node lets this page in (or cannot be asked): prompts for the credential, or waits out a lock-out. */
  const unlock = (): Promise<void> =>
    (unlocking ??= (async () => {
      let held = false;
      for (;;) {
        const access = await checkAccess(fetch as unknown as AuthFetch, secrets.get());
        if (access.kind === 'open' || access.kind === 'unreachable') break;
        if (!held) client!.suspend('the node asks for its credential');
        held = true;
        if (access.kind === 'locked') {
          login!.block(`${access.message}.`);
          await new Promise((r) => setTimeout(r, access.retryAfterMs));
          continue;
        }
        const what = access.credential === 'token' ? 'access token' : 'password';
        secrets.set(await login!.ask(access.credential, access.wrong ? `That is not this node's ${what}.` : null));
      }
      login!.hide();
      if (held) client!.resume();
    })().finally(() => (unlocking = null)));

  client?.onConnection((state) => {
    const was = connection;
    connection = state;
    // A bridge that failed to open may be refusing our credential (the token was replaced, the password changed).
    if (!state.connected && state.retryAt !== null) void unlock();
    if (state.connected && was && !was.connected) {
      model.addLog('info', was.everConnected ? 'reconnected to the node' : `connected to the node (${client.url})`, Date.now());
      model.resetSequence();
      statusError = null;
      void settings.load();
      void poll();
    } else if (!state.connected && (was === null || was.connected)) {
      if (was?.everConnected ?? state.everConnected) model.addLog('warn', `lost the connection to the node: ${state.lastError ?? 'closed'}`, Date.now());
    }
    render();
  });

  // Spread is sampled on its own steady clock (events keep the model current while hidden).
  setInterval(() => {
    // A lone node has no spread worth charting: its samples would sit on the floor.
    if (model.localCount() >= 2) history.maybeSample(model.spread(), Date.now());
    scheduleRender();
  }, SPREAD_SAMPLE_MS);

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      plane.stop();
      if (pollTimer) clearTimeout(pollTimer);
      pollTimer = null;
    } else {
      plane.start();
      render();
      void poll();
    }
  });

  window.__lvsPlane = {
    positions: () => model.positions(),
    states: () => Object.fromEntries([...model.nodes.values()].map((n) => [n.id, n.link])),
    links: () => model.graphLinks(),
  };

  if (client) void unlock().then(() => client.start());
  render();
  void settings.load();
  void poll();
  if (!document.hidden) plane.start();
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
