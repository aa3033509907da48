/**
 * The /join page: this tab becomes a node (docs/browser-nodes.md). It starts
 * the tab's node, hands the dashboard its API (the way Electron's preload
 * does), and then runs the dashboard itself, which so shows this tab's node:
 * itself, the node that served the page, and that node's peers.
 */
import type { DashboardStatus } from '../../main/bridge/api.js';
import { workerCycleTimer } from '../node/cycle-clock.js';
import { startTabNode } from '../node/tab-node.js';

/** For browser tests and the curious: this tab's node, read-only. */
export interface TabProbe {
  id: string;
  slot: number;
  /** 'webcrypto' or 'noble' (see web/node/tab-identity.ts). */
  backend: string;
  status(): DashboardStatus;
}

declare global {
  interface Window {
    __lvsTab?: TabProbe;
  }
}

/** The private network's passphrase, for this tab only (sessionStorage: gone when the tab closes). */
const PASSPHRASE_KEY = 'lvs-node-network-passphrase';

function storedPassphrase(): string | null {
  try {
    return sessionStorage.getItem(PASSPHRASE_KEY);
  } catch {
    return null;
  }
}

/**
 * The node refused this tab's proof for want of the network key (or a wrong
 * one): ask for the passphrase once, keep it for this tab, and start again.
 */
function askForPassphrase(wrong: boolean): void {
  if (document.getElementById('network-key-form')) return;
  const form = document.createElement('form');
  form.id = 'network-key-form';
  form.className = 'banner';
  form.dataset.testid = 'network-key-form';
  const label = document.createElement('label');
  label.textContent = wrong ? 'That passphrase is not this network\'s. Network passphrase: ' : 'This node runs a private network. Its passphrase: ';
  const input = document.createElement('input');
  input.type = 'password';
  input.autocomplete = 'off';
  input.maxLength = 1024;
  input.dataset.testid = 'network-key-input';
  const button = document.createElement('button');
  button.type = 'submit';
  button.className = 'btn';
  button.textContent = 'Join';
  label.append(input);
  form.append(label, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value === '') return;
    try {
      sessionStorage.setItem(PASSPHRASE_KEY, input.value);
    } catch {
      // without sessionStorage the reload asks again
    }
    location.reload();
  });
  document.body.prepend(form);
  input.focus();
}

function showProblem(message: string): void {
  const banner = document.getElementById('bridge-banner');
  if (banner) {
    banner.textContent = message;
    banner.hidden = false;
  }
  const name = document.getElementById('top-name');
  if (name) name.textContent = 'not joined';
}

async function join(): Promise<void> {
  if (!globalThis.crypto?.getRandomValues || !('indexedDB' in globalThis) || typeof RTCPeerConnection === 'undefined') {
    return showProblem('This browser cannot run a node: it needs IndexedDB and WebRTC.');
  }
  let tab;
  try {
    tab = await startTabNode({ hub: location.host, cycleTimer: workerCycleTimer('./join-clock.js'), networkPassphrase: storedPassphrase() });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return showProblem(`This tab could not become a node: ${why}`);
  }
  // The node's log also goes to the browser's console, for whoever opens the developer tools.
  tab.node.events.on('log', (e) => {
    if (e.level === 'warn' || e.level === 'error') console.warn(`lvs-node: ${e.message}`);
    else if (e.level === 'info') console.info(`lvs-node: ${e.message}`);
  });
  // A page opened by a DNS name may be a DNS-rebinding page, so the node refuses its signaling (docs/security.md).
  const byName = !/^(localhost|\[[0-9a-f:.]+\]|[0-9]{1,3}(\.[0-9]{1,3}){3})$/i.test(location.hostname);
  // The hub closes a session whose proof lacks its network key with that reason (docs/protocol.md "Private networks").
  const hubRefusal = setInterval(() => {
    const hub = tab.node.dialTargets().find((t) => t.address === location.host);
    if (byName && hub?.lastError) {
      clearInterval(hubRefusal);
      showProblem(
        `The node does not take joins from pages opened by a name (${location.hostname}): a guard against DNS rebinding. ` +
          `Open this page by the node's IP address, or start the node with --allow-origin ${location.origin}.`,
      );
      return;
    }
    const missing = hub?.lastError?.includes('network-key-missing') ?? false;
    const wrong = hub?.lastError?.includes('network-key-mismatch') ?? false;
    if (missing || wrong) {
      clearInterval(hubRefusal);
      askForPassphrase(wrong);
    }
  }, 1000);
  const save = (): void => void tab.save();
  addEventListener('pagehide', save);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) save();
  });
  window.__lvsTab = { id: tab.identity.id, slot: tab.identity.slot, backend: tab.identity.backend, status: () => tab.status() };
  window.lvs = tab.api;
  await import('../../renderer/app.js');
}

void join();
