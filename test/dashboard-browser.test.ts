/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core)
 * against real headless nodes linked over real WebRTC on loopback.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spread, type Vec2 } from '../main/model/drift.js';
import { screenshotPath } from './helpers/artifacts.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { killAll, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

const skip = browserSkipReason();
const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-ui-');
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

async function open(node: NodeProcess): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto(`http://127.0.0.1:${node.port}/`);
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

function positions(page: Page): Promise<Record<string, [number, number]>> {
  return page.evaluate(() => (window as unknown as { __lvsPlane: { positions(): Record<string, [number, number]> } }).__lvsPlane.positions());
}

async function spreadText(page: Page): Promise<number> {
  return Number(await page.getByTestId('spread').textContent());
}

describe.skipIf(skip !== null)('dashboard in Chromium', () => {
  it('shows three linked nodes whose dots move together while the spread readout falls', async () => {
    // Slow, gentle drift (and nobody moves before the mesh is complete), so the page sees the nodes far apart first.
    const slow = ['--beta', '0.02', '--alpha', '0.01', '--cycle-ms', '200', '--await-peers', '2'];
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'alpha', '--drift', '4,4', ...slow]);
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'beta', '--drift=-4,0', '--peer', `127.0.0.1:${a.port}`, ...slow]);
    const c = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'gamma', '--drift=0,-4', '--peer', `127.0.0.1:${a.port}`, '--peer', `127.0.0.1:${b.port}`, ...slow]);
    const page = await open(a);
    await expect.poll(() => page.getByTestId('node-id').textContent()).toContain(a.id);
    const first = await waitFor('three dots', async () => {
      const p = await positions(page);
      return Object.keys(p).length === 3 ? p : null;
    });
    expect(Object.keys(first).sort()).toEqual([a.id, b.id, c.id].sort());
    const spread0 = spread(Object.values(first) as Vec2[]);
    const readout0 = await spreadText(page);
    expect(readout0).toBeGreaterThan(0.5);

    await waitFor('the dots to converge', async () => spread(Object.values(await positions(page)) as Vec2[]) < spread0 / 5, 60_000);
    await waitFor('the readout to fall', async () => (await spreadText(page)) < readout0 / 5, 15_000);
    await expect.poll(() => page.getByTestId('peer-row').count()).toBe(2);
    expect(await page.getByTestId('empty-state').isVisible().catch(() => false)).toBe(false);

    // Take a picture of the converged cloud (the README's) once the spread is near its noise floor.
    await waitFor('the spread to settle', async () => (await spreadText(page)) < 0.15, 60_000);
    // (A second more for the picture only: the trails of the last glide fade.)
    await page.waitForTimeout(1000);
    // out/dashboard.png on every run; docs/dashboard.png only with `npm run screenshot`.
    const picture = screenshotPath();
    mkdirSync(dirname(picture), { recursive: true });
    await page.screenshot({ path: picture });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  }, 240_000);

  it('adds a peer through the form, and rejects a bad address with a clear line', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'alpha']);
    const d = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'delta']);
    const page = await open(a);
    await expect.poll(() => page.getByTestId('empty-state').isVisible()).toBe(true);
    // Discovery is off for nodes tests start on the host, and the panel says why.
    await expect.poll(() => page.getByTestId('discovery-summary').textContent()).toBe('off: --no-discovery');

    await page.getByTestId('add-peer-input').fill('no-port-here');
    await page.getByTestId('add-peer-submit').click();
    await expect.poll(() => page.getByTestId('add-peer-error').textContent()).toMatch(/no-port-here/);

    await page.getByTestId('add-peer-input').fill(`127.0.0.1:${d.port}`);
    await page.getByTestId('add-peer-submit').click();
    await expect.poll(() => page.locator(`[data-testid="peer-row"][data-peer-id="${d.id}"]`).count()).toBe(1);
    expect((await a.status()).peers.find((p) => p.id === d.id)?.connected).toBe(true);
  }, 120_000);

  it('changes a setting, and the change survives a node restart', async () => {
    const dir = dataDir();
    const a = await startNode(['--port', '0', '--data-dir', dir, '--name', 'before']);
    const page = await open(a);
    const form = page.getByTestId('settings-form');
    await expect.poll(() => form.locator('input[name="name"]').inputValue()).toBe('before');
    await form.locator('input[name="name"]').fill('after');
    await form.locator('input[name="beta"]').fill('0.25');
    await page.getByTestId('settings-submit').click();
    await expect.poll(() => a.status().then((s) => [s.name, s.config.beta])).toEqual(['after', 0.25]);

    // A value the main side refuses is reported and changes nothing.
    await form.locator('input[name="cycleMs"]').fill('20');
    await page.getByTestId('settings-submit').click();
    await expect.poll(() => page.getByTestId('settings-message').textContent()).toMatch(/cycleMs/);
    expect((await a.status()).config.cycleMs).toBe(100);

    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const again = await startNode(['--port', '0', '--data-dir', dir]);
    const page2 = await open(again);
    await expect.poll(() => page2.getByTestId('settings-form').locator('input[name="name"]').inputValue()).toBe('after');
    expect(await page2.getByTestId('settings-form').locator('input[name="beta"]').inputValue()).toBe('0.25');
    expect((await again.status()).name).toBe('after');
  }, 120_000);

  it('pauses and resumes the drift cycle from the page', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    const page = await open(a);
    await page.getByTestId('pause-button').click();
    await expect.poll(() => a.status().then((s) => s.paused)).toBe(true);
    const cycle = (await a.status()).cycle;
    await new Promise((r) => setTimeout(r, 500));
    expect((await a.status()).cycle).toBe(cycle);
    await page.getByTestId('pause-button').click();
    await expect.poll(() => a.status().then((s) => s.cycle)).toBeGreaterThan(cycle);
  }, 120_000);
});

/** A page of another origin: a second HTTP server on another port serving one empty page. */
async function foreignSite(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another site</title><p>another site</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** From inside the page: does `new WebSocket(url)` open? */
function wsOpens(page: Page, url: string): Promise<boolean> {
  return page.evaluate(
    (u) =>
      new Promise<boolean>((done) => {
        const ws = new WebSocket(u);
        ws.onopen = () => {
          ws.close();
          done(true);
        };
        ws.onerror = () => done(false);
      }),
    url,
  );
}

async function statusWith(port: number, secret: string): Promise<{ paused: boolean; signaling?: { refused: Record<string, number> } }> {
  return (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${secret}` } })).json() as Promise<{ paused: boolean }>;
}

describe.skipIf(skip !== null)('the node\'s doors in Chromium', () => {
  it('a page of a foreign origin cannot open /signal; the node\'s own page and an allowed origin can', async () => {
    const site = await foreignSite();
    try {
      const closed = await startNode(['--port', '0', '--data-dir', dataDir()]);
      const allowing = await startNode(['--port', '0', '--data-dir', dataDir(), '--allow-origin', site.origin]);
      const foreign = await browser.newPage();
      await foreign.goto(`${site.origin}/`);
      expect(await wsOpens(foreign, `ws://127.0.0.1:${closed.port}/signal`)).toBe(false);
      expect((await closed.status()).signaling?.refused.origin).toBe(1);
      expect(await wsOpens(foreign, `ws://127.0.0.1:${allowing.port}/signal`)).toBe(true);

      const own = await browser.newPage();
      await own.goto(`http://127.0.0.1:${closed.port}/`);
      expect(await wsOpens(own, `ws://127.0.0.1:${closed.port}/signal`)).toBe(true);
      expect((await closed.status()).signaling?.refused.origin).toBe(1);
    } finally {
      site.server.close();
    }
  }, 60_000);

  it('a --ui-public dashboard asks for the access token, refuses a wrong one, then works', async () => {
    const dir = dataDir();
    const a = await startNode(['--port', '0', '--data-dir', dir, '--name', 'locked', '--ui-public']);
    const secret = readFileSync(join(dir, 'ui-token'), 'utf8').trim();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${a.port}/`);
    await expect.poll(() => page.getByTestId('login-dialog').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByTestId('node-id').textContent()).toBe('—');

    await page.getByTestId('login-secret').fill('not-the-token');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/not this node's access token/);
    expect(await page.getByTestId('login-dialog').isVisible()).toBe(true);

    await page.getByTestId('login-secret').fill(secret);
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-dialog').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('node-id').textContent(), { timeout: 10_000 }).toContain(a.id);
    // A state-changing call goes through the authenticated bridge.
    await page.getByTestId('pause-button').click();
    await expect.poll(() => statusWith(a.port, secret).then((s) => s.paused)).toBe(true);
  }, 60_000);

  it('the URL with #token= from the start log opens a --ui-public dashboard at once, and the token leaves the address bar', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--ui-public']);
    const listening = a.records.find((r) => r.kind === 'listening')!;
    const url = /(http:\/\/\S+#token=[A-Za-z0-9_-]+)/.exec(listening.msg)?.[1];
    expect(url).toBeDefined();
    const page = await browser.newPage();
    await page.goto(url!);
    await expect.poll(() => page.getByTestId('node-id').textContent(), { timeout: 10_000 }).toContain(a.id);
    expect(await page.getByTestId('login-dialog').isVisible()).toBe(false);
    expect(page.url()).not.toContain('token');
  }, 60_000);
});
