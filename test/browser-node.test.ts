/**
 * Browser tabs as nodes (docs/browser-nodes.md), with real Chromium and a
 * real native node, both inside a network namespace that has only loopback
 * (browsers' WebRTC runs only in namespaces a test makes): a tab opens the
 * node's /join page, makes its identity, links to the node over WebRTC and
 * proves its id; two tabs link to each other directly through signaling the
 * node relays; reloads keep the id and the drift; a node restart is redialled.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
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
  /** test/fixtures/browser-kit.ts, bundled: the browser node's modules for a page to call. */
  let kit: string;

  const startNativeNode = async (host = '127.0.0.1', port = PORT, name = 'hub', extra: string[] = []): Promise<NsProcess> => {
    const proc = lan.spawn(HOST, process.execPath, [
      CLI, '--host', host, '--port', String(port), '--data-dir', join(dataRoot, name), '--name', name,
      '--no-discovery', '--log-format', 'json', '--drift', '5,1', ...extra,
    ]);
    const listening = await waitFor('the native node to listen', () => proc.records.find((r) => r.kind === 'listening') ?? (proc.child.exitCode !== null ? Promise.reject(new Error(proc.stderr())) : null), 30_000);
    if (name === 'hub') nodeId = listening.id as string;
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
      kit = (await build({ entryPoints: [join(import.meta.dirname, 'fixtures/browser-kit.ts')], bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'error' })).outputFiles[0]!.text;
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
      // The node's own dashboard marks both as browser tabs and offers its join page.
      const dashboard = await context.newPage();
      await dashboard.goto(`http://127.0.0.1:${PORT}/`);
      await dashboard.locator('[data-testid="peer-row"][data-kind="browser"] [data-testid="peer-kind"]:visible').nth(1).waitFor({ timeout: 30_000 });
      expect(await dashboard.getByTestId('join-link').getAttribute('href')).toBe(`http://127.0.0.1:${PORT}/join`);
      // Each tab's page is the dashboard of the tab's own node: its peer list holds the node and the other tab.
      await pageA.locator(`[data-testid="peer-row"][data-peer-id="${nodeId}"]`).waitFor({ timeout: 30_000 });
      await pageA.locator(`[data-testid="peer-row"][data-peer-id="${b.id}"][data-kind="browser"]`).waitFor({ timeout: 30_000 });
      expect(await pageA.getByTestId('join-link').isHidden()).toBe(true);
      // The tabs run the network memory too: each knows the other tab and the node by their signed records.
      await waitFor('tab A to know the others from the network memory', async () => {
        const known = (await tabProbe(pageA))!.status.network?.nodes.map((n) => n.id) ?? [];
        return known.includes(b.id) && known.includes(nodeId);
      }, 60_000);
    } finally {
      await context.close();
    }
  }, 300_000);

  const linkedToHub = (page: Page): Promise<TabProbeView> =>
    waitFor('the tab to link to the node', async () => {
      const probe = await tabProbe(page);
      return probe?.status.peers.some((p) => p.id === nodeId && p.connected && p.drift !== null) ? probe : null;
    }, 60_000);

  const nodeLists = (ids: string[]): Promise<DashboardStatus> =>
    waitFor(`the node to list ${ids.length} tab(s) as linked`, async () => {
      const s = await nativeStatus();
      return ids.every((id) => s.peers.some((p) => p.id === id && p.connected && p.drift !== null)) ? s : null;
    }, 90_000);

  it('a reloaded tab keeps its id and goes on from its state', async () => {
    const context = await browser.newContext();
    try {
      const page = await openTab(context);
      await linkedToHub(page);
      // Let it run past a save (every 20 cycles), then reload.
      const before = await waitFor('40 cycles', async () => {
        const p = await tabProbe(page);
        return p && p.status.cycle >= 40 ? p : null;
      }, 60_000);
      await page.reload();
      const after = await linkedToHub(page);
      expect(after.id).toBe(before.id);
      expect(after.slot).toBe(before.slot);
      // Saved at most 20 cycles before the reload, and again as the page went away: the count goes on.
      expect(after.status.cycle).toBeGreaterThanOrEqual(before.status.cycle - 20);
      await nodeLists([after.id]);
      // A closed tab is dropped.
      await page.close();
      await waitFor('the node to drop the closed tab', async () => (await nativeStatus()).peers.some((p) => p.id === after.id && !p.connected), 60_000);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('a tab that claims another tab\'s id cannot prove it and is refused; the real tab stays linked', async () => {
    const context = await browser.newContext();
    const forger = await browser.newContext({ bypassCSP: true });
    try {
      const victim = await linkedToHub(await openTab(context));
      await nodeLists([victim.id]);
      const page = await forger.newPage();
      await page.goto(`http://127.0.0.1:${PORT}/nothing-here`);
      await page.addScriptTag({ content: kit });
      const answer = await page.evaluate(([id, address]) => (globalThis as unknown as { lvsKit: { dialAs(i: string, a: string): Promise<string> } }).lvsKit.dialAs(id!, address!), [victim.id, `127.0.0.1:${PORT}`]);
      expect(answer).toMatch(/^refused: .*did not accept our proof of identity: key-does-not-match-id/);
      const s = await nativeStatus();
      expect(s.proofs?.failures['key-does-not-match-id']).toBeGreaterThanOrEqual(1);
      expect(s.peers.find((p) => p.id === victim.id)?.connected).toBe(true);
    } finally {
      await forger.close();
      await context.close();
    }
  }, 120_000);

  it('the browser node reads every example of docs/protocol.md and reproduces the worked handshake, with WebCrypto and with @noble', async () => {
    const spec = readFileSync(join(import.meta.dirname, '../docs/protocol.md'), 'utf8');
    const examples = (kind: string) => [...spec.matchAll(new RegExp(`<!-- example: ${kind} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'g'))].map((m) => m[1]!);
    const frames = examples('frame');
    const signals = examples('signal');
    const vector = JSON.parse(examples('auth-vector')[0]!) as { dialerAuth: object; acceptorAuth: object; dialerAuthWithNetworkKey: object };
    expect(frames.length).toBeGreaterThan(3);
    expect(signals.length).toBeGreaterThan(0);
    const context = await browser.newContext({ bypassCSP: true });
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${PORT}/nothing-here`);
      await page.addScriptTag({ content: kit });
      type Kit = { parsesFrame(t: string): boolean; parsesSignal(t: string): boolean; handshakeVector(b: string, v: unknown): Promise<Record<string, unknown>> };
      const parsed = await page.evaluate(([f, sg]) => {
        const k = (globalThis as unknown as { lvsKit: Kit }).lvsKit;
        return { frames: f!.map((t) => k.parsesFrame(t)), signals: sg!.map((t) => k.parsesSignal(t)) };
      }, [frames, signals]);
      expect(parsed.frames.every(Boolean), JSON.stringify(parsed.frames)).toBe(true);
      expect(parsed.signals.every(Boolean), JSON.stringify(parsed.signals)).toBe(true);
      for (const backend of ['webcrypto', 'noble']) {
        const result = await page.evaluate(([b, v]) => (globalThis as unknown as { lvsKit: Kit }).lvsKit.handshakeVector(b as string, v), [backend, vector] as const);
        expect(result, backend).toEqual({
          dialerFrame: JSON.stringify(vector.dialerAuth),
          acceptorFrame: JSON.stringify(vector.acceptorAuth),
          keyedFrame: JSON.stringify(vector.dialerAuthWithNetworkKey),
          acceptsDialer: true,
          acceptsAcceptor: true,
        });
      }
    } finally {
      await context.close();
    }
  }, 120_000);

  it('a page loaded over plain http from another address (no secure context) still joins, with @noble keys', async () => {
    const lanNode = await startNativeNode(LAN_IP, PORT + 1, 'lan-hub');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.on('pageerror', (err) => console.warn(`tab error: ${err.message}`));
      await page.goto(`http://${LAN_IP}:${PORT + 1}/join`);
      expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
      const lanId = lanNode.records.find((r) => r.kind === 'listening')!.id as string;
      const probe = await waitFor('the insecure tab to link', async () => {
        const p = await tabProbe(page);
        return p?.status.peers.some((q) => q.id === lanId && q.connected && q.drift !== null) ? p : null;
      }, 60_000);
      expect(probe.backend).toBe('noble');
      const second = await context.newPage();
      await second.goto(`http://${LAN_IP}:${PORT + 1}/join`);
      const other = await waitFor('a second insecure tab', () => tabProbe(second), 60_000);
      // Without Web Locks the tabs still tell their slots apart.
      expect(other.id).not.toBe(probe.id);
    } finally {
      await context.close();
      lanNode.child.kill('SIGTERM');
      await lanNode.exited;
    }
  }, 120_000);

  it('a node with a network key: the tab asks for the passphrase and then joins', async () => {
    const keyFile = join(dataRoot, 'network-key');
    writeFileSync(keyFile, 'correct horse battery staple\n', { mode: 0o600 });
    const keyed = await startNativeNode('127.0.0.1', PORT + 2, 'keyed-hub', ['--network-key-file', keyFile]);
    const keyedId = keyed.records.find((r) => r.kind === 'listening')!.id as string;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${PORT + 2}/join`);
      await page.getByTestId('network-key-input').fill('correct horse battery staple', { timeout: 60_000 });
      await page.getByTestId('network-key-form').locator('button').click();
      await waitFor('the tab to join the private network', async () => {
        const p = await tabProbe(page);
        return p?.status.peers.some((q) => q.id === keyedId && q.connected && q.drift !== null);
      }, 60_000);
    } finally {
      await context.close();
      keyed.child.kill('SIGTERM');
      await keyed.exited;
    }
  }, 120_000);

  it('tabs redial a node that restarts', async () => {
    const context = await browser.newContext();
    try {
      const a = await linkedToHub(await openTab(context));
      const b = await linkedToHub(await openTab(context));
      await nodeLists([a.id, b.id]);
      node.child.kill('SIGTERM');
      await node.exited;
      node = await startNativeNode();
      await nodeLists([a.id, b.id]);
    } finally {
      await context.close();
    }
  }, 180_000);

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
      expect(status.proofs?.setupRetries).toBe(0); // the node answered; it dialled nothing
      expect(tab.backend).toBe('webcrypto');
      expect(tab.status.kind).toBe('browser');
    } finally {
      await context.close();
    }
  }, 120_000);
});
