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
    await page.goto(`http://127.0.0.1:${PORT}/join`);
    return page;
  };

  beforeAll(async () => {
    if (!support.ok) throw new Error(`CI=true but browser nodes cannot be tested: ${support.reason}`);
    requireBuild();
    lan = new Lan();
    dataRoot = mkdtempSync(join(tmpdir(), 'lvs-browser-node-'));
    try {
      lan.addLoopbackHost(HOST);
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
