/**
 * The dashboard's view of the whole network (issue 12) in a real browser
 * (Debian's Chromium via playwright-core) against real headless nodes in a
 * line over real WebRTC on loopback: the plane shows a node two hops away,
 * the link between the other two, and marks a node that left as offline.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GraphLink, LinkState } from '../renderer/model.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { killAll, startNode, tempDir, waitFor } from './helpers/node-process.js';

const skip = browserSkipReason();
const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-ui-net-');
  dirs.push(d);
  return d.path;
}

let browser: Browser;
beforeAll(async () => {
  if (!skip) browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => {
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

interface Probe {
  states(): Record<string, LinkState>;
  links(): GraphLink[];
}

const states = (page: Page) => page.evaluate(() => (window as unknown as { __lvsPlane: Probe }).__lvsPlane.states());
const links = (page: Page) => page.evaluate(() => (window as unknown as { __lvsPlane: Probe }).__lvsPlane.links());

describe.skipIf(skip !== null)('dashboard: the whole network', () => {
  it('shows a node two hops away and the links beyond its own, and marks a node that left as offline', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'alpha', '--drift', '4,4']);
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'beta', '--drift=-4,0', '--peer', `127.0.0.1:${a.port}`]);
    const c = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'gamma', '--drift=0,-4', '--peer', `127.0.0.1:${b.port}`]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${a.port}/`);

    // alpha is linked to beta only; gamma comes from beta's gossip, with the link beta-gamma from gamma's (or beta's) record.
    await waitFor('gamma on alpha\'s plane', async () => (await states(page))[c.id] === 'known', 60_000);
    expect(await states(page)).toMatchObject({ [a.id]: 'self', [b.id]: 'fresh', [c.id]: 'known' });
    await waitFor('the link beta-gamma drawn', async () => (await links(page)).some((l) => [l.a, l.b].sort().join() === [b.id, c.id].sort().join() && l.source === 'record'), 60_000);
    await expect.poll(() => page.getByTestId('network-spread').textContent()).toMatch(/^network: [0-9.]+ over 3 nodes$/);
    await expect.poll(() => page.locator('#spread-count').textContent()).toBe('2 nodes');

    // beta leaves: alpha saw it go, so its dot turns hollow (offline); gamma, out of reach now, keeps its last record.
    b.child.kill('SIGINT');
    expect(await b.exited).toBe(0);
    await waitFor('beta offline on alpha\'s plane', async () => (await states(page))[b.id] === 'offline', 30_000);
    expect((await states(page))[c.id]).toBe('known');
    await expect.poll(() => page.getByTestId('network-spread').textContent()).toMatch(/over 2 nodes \(1 offline not counted\)$/);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
