/**
 * The dashboard's trust, block and held-off parts, its explanations, the
 * settings panel's honesty about discovery, and the log's order, in a real
 * browser (Debian's Chromium via playwright-core) against real headless
 * nodes linked over real WebRTC on loopback.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NEWCOMER_TRUST } from '../renderer/explain.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { killAll, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

const skip = browserSkipReason();
const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-ui-trust-');
  dirs.push(d);
  return d.path;
}

let browser: Browser;
const pageErrors = new WeakMap<Page, string[]>();

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

async function open(node: NodeProcess): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  pageErrors.set(page, errors);
  await page.goto(`http://127.0.0.1:${node.port}/`);
  await expect.poll(() => page.getByTestId('node-id').textContent(), { timeout: 15_000 }).toContain(node.id);
  return page;
}

/** A peer row's link state as the page shows it, or 'absent'. */
function rowState(page: Page, peerId: string): Promise<string> {
  return page.evaluate((id) => document.querySelector(`[data-testid="peer-row"][data-peer-id="${id}"]`)?.getAttribute('data-state') ?? 'absent', peerId);
}

/** The blockedPeers setting as the node saved it in its data dir. */
function savedBlocked(dir: string): string[] {
  const file = JSON.parse(readFileSync(join(dir, 'lvs-node.json'), 'utf8')) as { settings: { blockedPeers?: string[] } };
  return file.settings.blockedPeers ?? [];
}

async function linkedTo(node: NodeProcess, peerId: string): Promise<boolean> {
  return (await node.status()).peers.some((p) => p.id === peerId && p.connected);
}

describe.skipIf(skip !== null)('trust and blocking in the dashboard (Chromium)', () => {
  it('shows a linked peer\'s trust; block drops its link, saves it and lists it held off; unblock links them again', async () => {
    const aDir = dataDir();
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'beta']);
    const a = await startNode(['--port', '0', '--data-dir', aDir, '--name', 'alpha', '--peer', `127.0.0.1:${b.port}`]);
    const page = await open(a);
    const row = page.locator(`[data-testid="peer-row"][data-peer-id="${b.id}"]`);
    await expect.poll(() => rowState(page, b.id), { timeout: 30_000 }).toBe('linked');

    // The trust figure: a number the page keeps current, earned by beta's fresh messages from the newcomer's 0.5.
    const trust = row.getByTestId('peer-trust');
    expect(await trust.textContent()).toMatch(/^trust [01]\.\d\d$/);
    await expect.poll(async () => Number((await trust.textContent())!.slice('trust '.length)), { timeout: 30_000 }).toBeGreaterThan(NEWCOMER_TRUST + 0.1);
    expect(await trust.getAttribute('title')).toMatch(/0\.5 for a newcomer.*fresh, plausible messages.*Below 0\.3.*below 0\.15 it is cut off/);
    expect(await page.getByTestId('peer-legend').textContent()).toMatch(/under 0\.3 it stops pulling, under 0\.15 it is cut off/);
    // And what vu, tc and intensity mean: a tooltip on each figure, a legend line each.
    expect(await page.locator('#self-vu').getAttribute('title')).toContain('1 / (1 + distance');
    expect(await page.locator('#self-tc').getAttribute('title')).toContain('mean trust score of the peers linked now');
    expect(await page.locator('#self-intensity').getAttribute('title')).toContain('smoothed |entropy sample|');
    const legend = await page.getByTestId('terms').innerText();
    expect(legend).toMatch(/vu\s+agreement with the peers/);
    expect(legend).toMatch(/tc\s+mean trust of the linked peers/);
    expect(legend).toMatch(/intensity\s+smoothed size of the entropy pushes; the colour of the dot/);

    // Block: the link goes at once, the id is saved, the page lists beta as held off, and beta is not linked either.
    await row.getByTestId('peer-block').click();
    const held = page.locator(`[data-testid="held-row"][data-peer-id="${b.id}"]`);
    await expect.poll(() => held.count(), { timeout: 15_000 }).toBe(1);
    expect(await held.getByTestId('held-reason').textContent()).toBe('blocked by the user');
    expect(await held.innerText()).toContain('until you unblock it');
    await expect.poll(() => rowState(page, b.id), { timeout: 15_000 }).toMatch(/^(disconnected|absent)$/);
    if ((await rowState(page, b.id)) === 'disconnected') expect(await row.getByTestId('peer-block').textContent()).toBe('unblock');
    await waitFor('beta in the saved blockedPeers', () => savedBlocked(aDir).includes(b.id), 15_000);
    await waitFor('beta to see its link to alpha gone', async () => !(await linkedTo(b, a.id)), 15_000);
    expect(await linkedTo(a, b.id)).toBe(false);
    expect((await a.status()).heldOff).toContainEqual({ id: b.id, reason: 'blocked by the user', until: null });

    // Unblock from the held-off list: alpha dials beta again.
    await held.getByTestId('held-unblock').click();
    await expect.poll(() => rowState(page, b.id), { timeout: 30_000 }).toBe('linked');
    await expect.poll(() => page.getByTestId('held-off').isVisible()).toBe(false);
    expect(await row.getByTestId('peer-block').textContent()).toBe('block');
    await waitFor('beta out of the saved blockedPeers', () => !savedBlocked(aDir).includes(b.id), 15_000);
    await waitFor('beta linked to alpha again', () => linkedTo(b, a.id), 30_000);
    expect(pageErrors.get(page)).toEqual([]);
  }, 120_000);
});

describe.skipIf(skip !== null)('the settings panel and the log (Chromium)', () => {
  it('says discovery is off this run under --no-discovery, while the checkbox shows the saved setting', async () => {
    // startNode passes --no-discovery; the saved setting is the default, on.
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    const page = await open(a);
    const note = page.getByTestId('discovery-note');
    await expect.poll(() => note.textContent(), { timeout: 15_000 }).toBe('off this run: --no-discovery');
    expect(await note.isVisible()).toBe(true);
    expect(await page.getByTestId('settings-form').locator('input[name="discovery"]').isChecked()).toBe(true);
    expect((await a.status()).discovery).toMatchObject({ enabled: false, off: '--no-discovery' });
    expect(pageErrors.get(page)).toEqual([]);
  }, 60_000);

  it('lists a late dashboard\'s replayed lines oldest first, in the node\'s order, and follows new lines at the bottom', async () => {
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'beta']);
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'alpha', '--peer', `127.0.0.1:${b.port}`]);
    const nodeLines = () => a.records.filter((r) => r.kind === 'log' && r.level !== 'debug').map((r) => r.msg);
    // The page opens late: alpha has linked and logged a few lines already.
    await waitFor('alpha to log its link', () => nodeLines().some((m) => m.includes('hello from beta')) && nodeLines().length >= 3, 30_000);
    const before = nodeLines();
    const page = await open(a);
    const shown = () =>
      page.evaluate(() => [...document.querySelectorAll('#log-view li[data-seq]')].map((li) => ({ at: Number(li.getAttribute('data-at')), message: li.querySelector('.log-message')?.textContent ?? '' })));
    await waitFor('the replayed lines', async () => (await shown()).filter((l) => before.includes(l.message)).length === before.length, 15_000);

    // Toggle pause until the view overflows: each toggle is one more node line, at the bottom.
    const pause = page.getByTestId('pause-button');
    for (let i = 0; i < 12; i++) {
      const word = i % 2 === 0 ? 'Resume' : 'Pause';
      await pause.click();
      await expect.poll(() => pause.textContent(), { timeout: 10_000 }).toBe(word);
    }
    await waitFor('the last toggle in the log', async () => (await shown()).at(-1)?.message === 'drift cycle resumed', 15_000);

    const lines = await shown();
    const times = lines.map((l) => l.at);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // The page's own "connected" line sits among the node's by time, after every line logged before the page opened.
    const connected = lines.findIndex((l) => l.message.startsWith('connected to the node'));
    expect(connected).toBeGreaterThanOrEqual(before.length);
    // The node's lines are shown once each and in the order the node logged them.
    const fromNode = lines.filter((l) => !l.message.startsWith('connected to the node')).map((l) => l.message);
    const logged = nodeLines();
    let cursor = 0;
    for (const message of fromNode) {
      const at = logged.indexOf(message, cursor);
      expect(at, `"${message}" in the node's order`).toBeGreaterThanOrEqual(0);
      cursor = at + 1;
    }
    // At the bottom: the newest line is in view.
    const view = await page.evaluate(() => {
      const list = document.getElementById('log-view')!;
      return { overflow: list.scrollHeight > list.clientHeight, gap: list.scrollHeight - list.scrollTop - list.clientHeight };
    });
    expect(view.overflow).toBe(true);
    expect(view.gap).toBeLessThan(24);
    expect(pageErrors.get(page)).toEqual([]);
  }, 90_000);
});
