/**
 * The public demo as plain files (docs/web-demo.md): `scripts/build-web.mjs`
 * writes the folder (here into a temporary one, never into the checkout),
 * a plain static file server serves it from a sub-path, and real Chromium
 * runs it: the simulated network converges to the noise floor the model
 * predicts for its graph, a liar steers plain averaging but not W-MSR, and
 * the join form refuses what a node would refuse and otherwise opens the
 * node's own /join page. The page's DOM-free parts are checked in Node first.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT_DIR } from '../bench/output.mjs';
import { DEFAULT_DRIFT_PARAMS, sampleEntropy, spread, type Vec2 } from '../main/model/drift.js';
import { DEMO_DEFAULT_DEGREE, DEMO_DEFAULT_NODES, INTENSITY_SMOOTHING } from '../main/model/limits.js';
import { seededRandom } from '../main/model/prng.js';
import { DEFAULT_WEIGHTING, type LinearWeighting } from '../main/model/weights.js';
import { degree, isConnected, randomRegularGraph } from '../main/sim/graph.js';
import { predictedCycles, slem, steadySpread } from '../main/sim/spectrum.js';
import { parseSignalAddress } from '../main/transport/signaling.js';
import type { DemoProbeState } from '../web/demo/main.js';
import { joinTarget } from '../web/demo/join.js';
import { DemoNetwork, demoGraph, feasibleDegree, LIAR_NODE, LIAR_OFFSET } from '../web/demo/network.js';
import { parseQuery } from '../web/demo/settings.js';
import { ROOT } from './helpers/artifacts.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { serveFolder, type StaticServer } from './helpers/static-server.js';

const BUILD_WEB = join(ROOT, 'scripts/build-web.mjs');
const temps: string[] = [];
function tempFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function buildWeb(...args: string[]) {
  return spawnSync(process.execPath, [BUILD_WEB, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, INIT_CWD: ROOT } });
}

/** What a state reads as in a failure message. */
function brief(s: DemoProbeState): string {
  return `cycle ${s.cycle} (epoch ${s.epoch}, ${s.epochCycle} cycles in), spread ${s.spread.toFixed(4)}, floor ${s.floor}, liar distance ${s.liarDistance}`;
}

describe('the demo network (DOM-free)', () => {
  it('draws, for each node, the entropy the simulator draws, and smooths its intensity as a node does', () => {
    // No pull and no gravity: each node's step is alpha * u/|u| exactly, so the drifts reveal the simulator's draws.
    const params = { alpha: 0.05, beta: 0, gamma: 0 };
    const net = new DemoNetwork({ nodes: 12, degree: 4, weighting: 'seed', liar: false }, { graph: 5, entropy: 77 }, params);
    const streams = Array.from({ length: 12 }, (_, i) => seededRandom(net.entropySeedOf(i)));
    const intensity = new Array<number>(12).fill(0);
    for (let c = 0; c < 20; c++) {
      const before = Array.from({ length: 12 }, (_, i) => net.position(i));
      net.cycle();
      for (let i = 0; i < 12; i++) {
        const u = sampleEntropy(streams[i]!);
        const norm = Math.hypot(u[0], u[1]);
        const step = [net.position(i)[0] - before[i]![0], net.position(i)[1] - before[i]![1]];
        expect(step[0]).toBeCloseTo((params.alpha * u[0]) / norm, 12);
        expect(step[1]).toBeCloseTo((params.alpha * u[1]) / norm, 12);
        intensity[i] = c === 0 ? norm : intensity[i]! + INTENSITY_SMOOTHING * (norm - intensity[i]!);
        expect(net.intensityOf(i)).toBeCloseTo(intensity[i]!, 12);
      }
    }
  });

  it('builds connected k-regular graphs for every size the page allows', () => {
    for (const n of [8, 9, 13, 36, 101, 200]) {
      for (const k of [3, 5, 6, 12]) {
        const d = feasibleDegree(n, k);
        expect((n * d) % 2, `n ${n} k ${k}`).toBe(0);
        expect(d).toBeLessThan(n);
        const { graph } = demoGraph(n, d, 1);
        expect(isConnected(graph)).toBe(true);
        for (let i = 0; i < n; i++) expect(degree(graph, i)).toBe(d);
      }
    }
    // k = n - 1 is the complete graph (random pairing cannot make it)
    expect(feasibleDegree(8, 12)).toBe(7);
    expect(demoGraph(8, 7, 1).graph.adj.length).toBe(8 * 7);
  });

  it('keeps the drifts of the nodes that stay, pins the liar beside the honest cloud and lets it rejoin', () => {
    const net = new DemoNetwork({ nodes: 20, degree: 4, weighting: 'wmsr', liar: false }, { graph: 3, entropy: 4 });
    for (let c = 0; c < 50; c++) net.cycle();
    const kept = Array.from({ length: 20 }, (_, i) => net.position(i));
    net.configure({ nodes: 30, degree: 4, weighting: 'wmsr', liar: false });
    expect(Array.from({ length: 20 }, (_, i) => net.position(i))).toEqual(kept);
    expect(net.state().epoch).toBe(1);

    net.configure({ nodes: 30, degree: 4, weighting: 'wmsr', liar: true });
    const s = net.state();
    const honest = Array.from({ length: 30 }, (_, i) => net.position(i)).filter((_, i) => i !== LIAR_NODE);
    const centre = honest.reduce<[number, number]>((a, p) => [a[0] + p[0] / honest.length, a[1] + p[1] / honest.length], [0, 0]);
    expect(s.liarAt![0]).toBeCloseTo(centre[0] + LIAR_OFFSET[0], 9);
    expect(s.liarAt![1]).toBeCloseTo(centre[1] + LIAR_OFFSET[1], 9);
    expect(s.spread).toBeCloseTo(spread(honest), 9);
    for (let c = 0; c < 10; c++) net.cycle();
    expect(net.position(LIAR_NODE)).toEqual(s.liarAt);

    net.configure({ nodes: 30, degree: 4, weighting: 'wmsr', liar: false });
    expect(net.position(LIAR_NODE)).toEqual(s.liarAt);
    // (and a network that starts with its liar has it pinned from the first cycle)
    const lying = new DemoNetwork({ nodes: 20, degree: 4, weighting: 'wmsr', liar: true }, { graph: 3, entropy: 4 });
    const at = lying.state().liarAt!;
    lying.cycle();
    expect(lying.position(LIAR_NODE)).toEqual(at);
    expect(lying.state().liarDistance).toBeGreaterThan(4);
    net.cycle();
    expect(net.position(LIAR_NODE)).not.toEqual(s.liarAt);
    expect(net.state().liarAt).toBeNull();
  });

  it('reads its settings from the query string and names what it ignores', () => {
    const q = parseQuery('?nodes=12&links=5&weighting=seed&nodes=99&bogus=1&seed=x&cycle=50&liar=1');
    expect(q.settings).toEqual({ nodes: 12, degree: 5, weighting: 'seed', liar: true, cycleMs: 50 });
    expect(q.seed).toBeNull();
    expect(q.problems).toEqual([
      '?nodes given twice: the first is used',
      '?bogus ignored: the page knows nodes, links, weighting, cycle, liar and seed',
      '?seed ignored: seed must be a whole number 0-4294967295',
    ]);
    expect(parseQuery('?nodes=500&cycle=20&weighting=fast').problems).toEqual([
      '?nodes ignored: nodes 500 is outside 8-200',
      '?cycle ignored: cycle ms 20 is outside 50-200',
      '?weighting ignored: weighting must be one of seed, metropolis, wmsr',
    ]);
    expect(parseQuery('').settings).toEqual({ nodes: DEMO_DEFAULT_NODES, degree: DEMO_DEFAULT_DEGREE, weighting: DEFAULT_WEIGHTING, liar: false, cycleMs: 100 });
    expect(parseQuery(`?${Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&')}`).problems).toHaveLength(17);
  });

  it("turns a node's address into its /join page, and says what is wrong with anything else", () => {
    expect(joinTarget(' 192.168.1.20:7710 ')).toEqual({ ok: true, url: 'http://192.168.1.20:7710/join' });
    expect(joinTarget('[::1]:7710')).toEqual({ ok: true, url: 'http://[::1]:7710/join' });
    expect(joinTarget('node.local:7710')).toEqual({ ok: true, url: 'http://node.local:7710/join' });
    expect(joinTarget('')).toEqual({ ok: false, message: "Type a node's address as host:port, for example 192.168.1.20:7710." });
    expect(joinTarget('http://192.168.1.20:7710/')).toEqual({ ok: false, message: 'Not a node address: expected "host:port" without a scheme or path.' });
  });
});

describe('scripts/build-web.mjs', () => {
  it('writes index.html, one ES module and the stylesheet, linked by relative URLs only', () => {
    const out = join(tempFolder('lvs-web-'), 'site');
    const run = buildWeb('--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^web demo: .*site \(index\.html [0-9.]+ KiB, demo\.js [0-9.]+ KiB, style\.css [0-9.]+ KiB\)\n$/);
    expect(readdirSync(out).sort()).toEqual(['demo.js', 'index.html', 'style.css']);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.filter((u) => !u.startsWith('data:')).sort()).toEqual(['demo.js', 'style.css']);
    expect(html).toContain('<script type="module" src="demo.js"></script>');
    const js = readFileSync(join(out, 'demo.js'), 'utf8');
    // One self-contained module: nothing left to import, no Node built-ins.
    expect(js).not.toMatch(/\bimport\s*[{*\w][^;]*from\s*["']/);
    expect(js).not.toMatch(/\brequire\(|["']node:/);
    // An earlier build is replaced.
    expect(buildWeb('--out', out).status).toBe(0);
  });

  it('refuses, in one line and writing nothing, a folder that holds other files and arguments it does not know', () => {
    const busy = tempFolder('lvs-web-busy-');
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    const refused = buildWeb('--out', busy);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`build-web: refusing to write into ${busy}: it holds other files (notes.txt); give an empty or new folder with --out\n`);
    expect(readdirSync(busy)).toEqual(['notes.txt']);
    const unknown = buildWeb('--output', busy);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^build-web: unknown argument "--output"; usage: .*\n$/);
    const inRepo = buildWeb('--out', ROOT);
    expect(inRepo.stderr).toBe(`build-web: refusing to write into ${ROOT}: it holds the repository\n`);
  });
});

const skip = browserSkipReason();

describe.skipIf(skip !== null)('the demo in Chromium, served as plain files', () => {
  const PREFIX = '/lvs-node/demo/';
  let browser: Browser;
  let site: StaticServer;

  beforeAll(async () => {
    const out = join(tempFolder('lvs-web-site-'), 'web');
    const run = buildWeb('--out', out);
    expect(run.status, run.stderr).toBe(0);
    site = await serveFolder(out, PREFIX);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  async function open(query: string): Promise<Page & { errors: string[] }> {
    const page = (await browser.newPage({ viewport: { width: 1280, height: 800 } })) as Page & { errors: string[] };
    page.errors = [];
    page.on('pageerror', (err) => page.errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') page.errors.push(msg.text());
    });
    await page.goto(`${site.url}${query}`);
    return page;
  }

  const state = (page: Page): Promise<DemoProbeState> => page.evaluate(() => window.__lvsDemo!.state());

  /** Polls the page's own state until `test` holds, and returns that state; `timeoutMs` is only a backstop. */
  async function waitForState(page: Page, what: string, test: (s: DemoProbeState) => boolean, timeoutMs = 60_000): Promise<DemoProbeState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await state(page);
      if (test(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; now ${brief(s)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The noise floor the model predicts for the page's graph, computed here from the page's seeds, and its SLEM. */
  function theory(s: DemoProbeState, rule: LinearWeighting): { floor: number; rho: number } {
    const graph = randomRegularGraph(s.nodes, s.degree, s.graphSeed);
    expect(isConnected(graph)).toBe(true);
    for (let i = 0; i < graph.n; i++) expect(degree(graph, i)).toBe(s.degree);
    return { floor: steadySpread(graph, DEFAULT_DRIFT_PARAMS, rule), rho: slem(graph, DEFAULT_DRIFT_PARAMS, rule).rho };
  }

  it('loads from a sub-path of a plain file server and its network converges to the noise floor of its graph', async () => {
    const page = await open('?seed=20240601&cycle=50');
    const first = await waitForState(page, 'the first cycle and the floor', (s) => s.floor !== null && s.cycle > 0);
    expect(first).toMatchObject({ nodes: DEMO_DEFAULT_NODES, degree: DEMO_DEFAULT_DEGREE, weighting: DEFAULT_WEIGHTING, liar: false, cycleMs: 50 });
    // W-MSR has no one-cycle matrix; the seed rule's numbers are its reference (docs/drift-model.md).
    const { floor, rho } = theory(first, 'seed');
    expect(first.floor!).toBeCloseTo(floor, 9);
    const bound = 2 * floor;
    expect(first.epochStartSpread).toBeGreaterThan(10 * bound);

    const converged = await waitForState(page, `spread < ${bound}`, (s) => s.spread < bound);
    // Within the cycles the seed rule's SLEM predicts for that fall, W-MSR's ~25 % extra cost and a wide margin.
    const predicted = predictedCycles(rho, converged.epochStartSpread / bound);
    expect(converged.epoch).toBe(first.epoch);
    expect(converged.epochCycle, brief(converged)).toBeLessThan(3 * predicted);
    expect(spread((await page.evaluate(() => window.__lvsDemo!.positions())) as Vec2[])).toBeLessThan(3 * floor);

    // The readouts say the same as the probe.
    await expect.poll(async () => Number(await page.getByTestId('spread').textContent())).toBeLessThan(3 * floor);
    expect(await page.getByTestId('floor').textContent()).toBe(`≈ ${floor.toPrecision(3)}`);
    expect(await page.getByTestId('graph-size').textContent()).toBe(`${DEMO_DEFAULT_NODES} nodes · ${(DEMO_DEFAULT_NODES * DEMO_DEFAULT_DEGREE) / 2} links`);
    expect((await state(page)).rate).toBeGreaterThan(0);

    mkdirSync(join(ROOT, OUT_DIR), { recursive: true });
    await page.screenshot({ path: join(ROOT, OUT_DIR, 'web-demo.png') });
    // Everything the page asked for came from its own folder.
    expect(site.requests.filter((r) => !r.path.startsWith(PREFIX) || r.status !== 200)).toEqual([]);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('converges with Metropolis weights; a stubborn liar steers Metropolis averaging but not W-MSR', async () => {
    const page = await open('?seed=7&cycle=50');
    await waitForState(page, 'the first cycle', (s) => s.cycle > 0);
    await page.getByTestId('weighting').selectOption('metropolis');
    await page.getByTestId('scatter').click();
    const scattered = await waitForState(page, 'a scattered Metropolis network', (s) => s.weighting === 'metropolis' && s.epochCycle > 0 && s.floor !== null);
    const metropolis = theory(scattered, 'metropolis');
    expect(scattered.floor!).toBeCloseTo(metropolis.floor, 9);
    expect(scattered.epochStartSpread).toBeGreaterThan(20 * metropolis.floor);
    await waitForState(page, 'Metropolis convergence', (s) => s.epoch === scattered.epoch && s.spread < 2 * metropolis.floor);

    // W-MSR (the node's default) with the liar: the cloud stays together and far from it.
    await page.getByTestId('weighting').selectOption('wmsr');
    await page.getByTestId('liar').check();
    const lied = await waitForState(page, 'the liar under W-MSR', (s) => s.liar && s.weighting === 'wmsr');
    expect(lied.liarDistance!).toBeGreaterThan(4.5);
    const held = await waitForState(page, '300 cycles with the liar', (s) => s.epoch === lied.epoch && s.epochCycle >= 300);
    expect(held.liarDistance!, brief(held)).toBeGreaterThan(3.5);
    expect(held.spread, brief(held)).toBeLessThan(3 * theory(held, 'seed').floor);
    await expect.poll(() => page.getByTestId('liar-distance').isVisible()).toBe(true);

    // The same liar, Metropolis weights: the cloud goes to it.
    await page.getByTestId('weighting').selectOption('metropolis');
    const switched = await waitForState(page, 'Metropolis weights', (s) => s.weighting === 'metropolis');
    expect(switched.liarAt).toEqual(held.liarAt);
    const captured = await waitForState(page, 'the cloud to reach the liar', (s) => s.epoch === switched.epoch && s.liarDistance !== null && s.liarDistance < 1.5);
    expect(captured.epochCycle, brief(captured)).toBeLessThan(300);
    expect(page.errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('refuses a bad address in the join form with a clear message and stays; a good one opens the node\'s /join page', async () => {
    // Stands in for a node's join page (the node serves the real one).
    const joins: string[] = [];
    const node: Server = createServer((req, res) => {
      joins.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>node join page</title><link rel="icon" href="data:,"><p>joined</p>');
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    const nodePort = (node.address() as AddressInfo).port;
    try {
      const page = await open('?cycle=50');
      const demoUrl = page.url();
      const navigations: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations.push(frame.url());
      });
      const input = page.getByTestId('join-address');
      const error = page.getByTestId('join-error');
      for (const bad of ['localhost', '127.0.0.1:99999', `http://127.0.0.1:${nodePort}`, '[::1:7710', 'bad_host:7710', '1.2.3.256:7710']) {
        const parsed = parseSignalAddress(bad);
        expect(parsed.ok, bad).toBe(false);
        await input.fill(bad);
        await page.getByTestId('join-submit').click();
        await expect.poll(() => error.textContent()).toBe(`Not a node address: ${(parsed as { detail: string }).detail}.`);
        expect(await input.getAttribute('aria-invalid')).toBe('true');
      }
      await input.fill('');
      await page.getByTestId('join-submit').click();
      await expect.poll(() => error.textContent()).toBe("Type a node's address as host:port, for example 192.168.1.20:7710.");
      // Still the demo, still running.
      const before = (await state(page)).cycle;
      await waitForState(page, 'another cycle', (s) => s.cycle > before);
      expect(page.url()).toBe(demoUrl);
      expect(navigations).toEqual([]);
      expect(joins).toEqual([]);

      await input.fill(`  127.0.0.1:${nodePort} `);
      await page.getByTestId('join-submit').click();
      await page.waitForURL(`http://127.0.0.1:${nodePort}/join`);
      expect(await page.title()).toBe('node join page');
      expect(joins).toEqual(['GET /join']);
      expect(page.errors).toEqual([]);
      await page.close();
    } finally {
      node.closeAllConnections();
      await new Promise<void>((resolve) => node.close(() => resolve()));
    }
  });

  it('says which query parameters it ignored and runs with the rest', async () => {
    const page = await open('?nodes=12&links=5&nodes=99&bogus=1&weighting=seed');
    const s = await waitForState(page, 'the first cycle', (s) => s.cycle > 0);
    expect(s).toMatchObject({ nodes: 12, degree: 5, weighting: 'seed' });
    expect(await page.getByTestId('settings-error').textContent()).toBe(
      '?nodes given twice: the first is used\n?bogus ignored: the page knows nodes, links, weighting, cycle, liar and seed',
    );
    expect(await page.getByTestId('nodes').inputValue()).toBe('12');
    expect(await page.getByTestId('weighting').inputValue()).toBe('seed');
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
