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
    tab = await startTabNode({ hub: location.host, cycleTimer: workerCycleTimer('./join-clock.js') });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return showProblem(`This tab could not become a node: ${why}`);
  }
  // The node's log also goes to the browser's console, for whoever opens the developer tools.
  tab.node.events.on('log', (e) => {
    if (e.level === 'warn' || e.level === 'error') console.warn(`lvs-node: ${e.message}`);
    else if (e.level === 'info') console.info(`lvs-node: ${e.message}`);
  });
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
