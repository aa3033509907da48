/**
 * Browser tabs as nodes (docs/browser-nodes.md), with real Chromium and a
 * real native node, both inside a network namespace that has only loopback
 * (browsers' WebRTC runs only in namespaces a test makes): a tab opens the
 * node's /join page, makes its identity, links to the node over WebRTC and
 * proves its id; two tabs link to each other directly through signaling the
 * node relays; reloads keep the id and the drift; a node restart is redialled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardStatus } from '../main/bridge/api.js';
import { DEFAULT_DRIFT_PARAMS, spread, type Vec2 } from '../main/model/drift.js';
import { completeGraph } from '../main/sim/graph.js';
import { predictedCycles, slem, steadySpread } from '../main/sim/spectrum.js';
import { browserSkipReason, CHROMIUM_PATH } from './helpers/browser.js';
import { Lan, netnsSupport, type NsProcess } from './helpers/netns.js';
import { CLI, requireBuild, waitFor } from './helpers/node-process.js';
import type {} from '../web/join/join.js';

const support = netnsSupport();
const browserMissing = browserSkipReason();
const skip = (!support.ok && process.env.CI !== 'true') || browserMissing !== null;
if (!support.ok && skip) console.warn(`browser-node.test.ts skipped: ${support.reason}`);

/** Chromium inside a loopback-only namespace (see the machine notes in docs/browser-nodes.md). */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
const PORT = 7790;
const HOST = 'bn';
/** The namespace's one non-loopback address (on a stub interface: nothing sent there leaves the namespace). */
const LAN_IP = '10.77.0.1';

interface TabProbeView {
  id: string;
  slot: number;
  backend: string;
  status: DashboardStatus;
}

describe.skipIf(skip)('browser nodes', () => {
  let lan: Lan;
  let browser: Browser;
  let dataRoot: string;
  let node: NsProcess;
  let nodeId: string;

  const startNativeNode = async (): Promise<NsProcess> => {
    const proc = lan.spawn(HOST, process.execPath, [
      CLI, '--host', '127.0.0.1', '--port', String(PORT), '--data-dir', join(dataRoot, 'native'), '--name', 'hub',
      '--no-discovery', '--log-format', 'json', '--drift', '5,1',
    ]);
    const listening = await waitFor('the native node to listen', () => proc.records.find((r) => r.kind === 'listening') ?? (proc.child.exitCode !== null ? Promise.reject(new Error(proc.stderr())) : null), 30_000);
    nodeId = listening.id as string;
    return proc;
  };

  const nativeStatus = (): Promise<DashboardStatus> => lan.fetchJson<DashboardStatus>(HOST, PORT, '/api/status');

  const tabProbe = (page: Page): Promise<TabProbeView | null> =>
    page.evaluate(() => {
      const tab = window.__lvsTab;
      return tab ? { id: tab.id, slot: tab.slot, backend: tab.backend, status: tab.status() } : null;
    });

  const openTab = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (err) => console.warn(`tab error: ${err.message}`));
    if (process.env.LVS_TEST_TAB_LOG) page.on('console', (msg) => console.log(`tab ${page.url().slice(-5)}: ${msg.text()}`));
    await page.goto(`http://127.0.0.1:${PORT}/join`);
    return page;
  };

  beforeAll(async () => {
    if (!support.ok) throw new Error(`CI=true but browser nodes cannot be tested: ${support.reason}`);
    requireBuild();
    lan = new Lan();
    dataRoot = mkdtempSync(join(tmpdir(), 'lvs-browser-node-'));
    try {
      lan.addLoopbackHost(HOST, { stub: `${LAN_IP}/24` });
      node = await startNativeNode();
      browser = await chromium.launch({ executablePath: lan.browserIn(HOST, CHROMIUM_PATH), headless: true, args: CHROMIUM_FLAGS });
    } catch (err) {
      lan.teardownNow();
      rmSync(dataRoot, { recursive: true, force: true });
      throw err;
    }
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await lan?.teardown();
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
    expect(lan?.remaining() ?? []).toEqual([]);
  }, 60_000);

  /** The node's view of itself and its linked peers (its replicas lag a cycle at most). */
  const points = (s: DashboardStatus): Vec2[] => [s.state.drift, ...s.peers.filter((p) => p.connected && p.drift).map((p) => p.drift!)];

  it('two tabs and the node converge as the model predicts; the tabs link directly and the node relays only their signaling', async () => {
    const context = await browser.newContext();
    try {
      const pageA = await openTab(context);
      const pageB = await openTab(context);
      const [a, b] = await waitFor('both tabs to start', async () => {
        const both = [await tabProbe(pageA), await tabProbe(pageB)];
        return both[0] && both[1] ? (both as [TabProbeView, TabProbeView]) : null;
      }, 60_000);
      // Two tabs of one browser profile are two nodes: each took its own slot.
      expect(a.id).not.toBe(b.id);
      expect(new Set([a.slot, b.slot]).size).toBe(2);
      const linkedTo = (probe: TabProbeView | null, id: string) => probe?.status.peers.find((p) => p.id === id && p.connected && p.drift !== null);
      await waitFor('the tabs to link to each other', async () => linkedTo(await tabProbe(pageA), b.id) && linkedTo(await tabProbe(pageB), a.id), 90_000).catch(async (err: Error) => {
        const s = await nativeStatus();
        const tabs = [await tabProbe(pageA), await tabProbe(pageB)].map((t) => JSON.stringify({ relay: t?.status.relay, proofs: t?.status.proofs, dial: t?.status.dialTargets }));
        throw new Error(`${err.message}; tabs ${tabs.join(' ; ')}; the node relayed ${JSON.stringify(s.relay)}; its log: ${node.records.filter((r) => /relay|signal/i.test(String(r.msg))).slice(-10).map((r) => r.msg).join(' | ')}`);
      });
      const start = await waitFor('the node to list both tabs', async () => {
        const s = await nativeStatus();
        const tabs = s.peers.filter((p) => (p.id === a.id || p.id === b.id) && p.connected && p.drift !== null && p.kind === 'browser');
        return tabs.length === 2 ? s : null;
      }, 60_000);
      const relayed = start.relay.forwarded;
      expect(relayed).toBeGreaterThan(0);
      // The tab-to-tab link goes through no node: A's link to B is its own RTCPeerConnection, signaled via the hub.
      const aView = (await tabProbe(pageA))!;
      expect(aView.status.peers.find((p) => p.id === b.id)!.address).toMatch(/^via /);

      // Three nodes in a triangle: the model's SLEM and noise floor (docs/drift-model.md) give the cycles and the bound.
      const g = completeGraph(3);
      const rho = slem(g, DEFAULT_DRIFT_PARAMS, 'seed').rho;
      const floor = steadySpread(g, DEFAULT_DRIFT_PARAMS, 'seed');
      const bound = 3 * floor;
      const initial = spread(points(start));
      const predicted = initial > bound ? predictedCycles(rho, initial / bound) : 0;
      const end = await waitFor('the three nodes to converge', async () => {
        const s = await nativeStatus();
        const linked = s.peers.filter((p) => (p.id === a.id || p.id === b.id) && p.connected && p.drift).length === 2;
        return linked && spread(points(s)) < bound ? s : null;
      }, 120_000);
      const cycles = end.cycle - start.cycle;
      // Each diff reaches a peer a cycle late and the three clocks are not in step: allow 3x the prediction, plus slack.
      expect(cycles, `converged in ${cycles} cycles; predicted ${predicted} from spread ${initial.toFixed(2)} to ${bound.toFixed(3)}`).toBeLessThanOrEqual(3 * predicted + 20);

      // Frames kept flowing between the tabs; the relay carried nothing more.
      const before = aView.status.peers.find((p) => p.id === b.id)!.messagesIn;
      await waitFor('A to hear 50 more frames from B', async () => ((await tabProbe(pageA))!.status.peers.find((p) => p.id === b.id)?.messagesIn ?? 0) >= before + 50, 60_000);
      const after = await nativeStatus();
      expect(after.relay.forwarded).toBe(relayed);
      // The node knows the tabs are linked to each other (its dashboard draws that link).
      expect(after.peers.find((p) => p.id === a.id)!.nbrs?.map((n) => n.id)).toContain(b.id);
    } finally {
      await context.close();
    }
  }, 300_000);

  it('a tab that opens /join becomes a proven peer of the node', async () => {
    const context = await browser.newContext();
    try {
      const page = await openTab(context);
      const tab = await waitFor('the tab to link to the node', async () => {
        const probe = await tabProbe(page);
        return probe?.status.peers.some((p) => p.id === nodeId && p.connected && p.drift !== null) ? probe : null;
      }, 60_000);
      const status = await waitFor('the node to list the tab as a browser peer', async () => {
        const s = await nativeStatus();
        return s.peers.some((p) => p.id === tab.id && p.connected && p.kind === 'browser') ? s : null;
      }, 60_000);
      expect(status.proofs?.proven).toBeGreaterThanOrEqual(1);
      expect(tab.backend).toBe('webcrypto');
      expect(tab.status.kind).toBe('browser');
    } finally {
      await context.close();
    }
  }, 120_000);
});
