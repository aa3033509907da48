/**
 * Real nodes, real processes, real node-datachannel on loopback.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { distance } from '../main/model/drift.js';
import { killAll, requireBuild, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-it-');
  dirs.push(d);
  return d.path;
}

afterEach(() => {
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

function peerOf(status: Awaited<ReturnType<NodeProcess['status']>>, id: string) {
  return status.peers.find((p) => p.id === id);
}

async function stopGracefully(node: NodeProcess): Promise<{ code: number | string; ms: number }> {
  const t0 = Date.now();
  node.child.kill('SIGTERM');
  const code = await node.exited;
  return { code, ms: Date.now() - t0 };
}

describe('headless nodes over real WebRTC', () => {
  it('npm run demo: two processes converge below 0.5 within 20 cycles and stay there', async () => {
    requireBuild();
    const demo = resolve(import.meta.dirname, '../dist/main/headless/demo.js');
    const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(out, out).toContain('PASS');
    expect(code).toBe(0);
    const rows = out.split('\n').filter((l) => /^\s+\d+\s+\[/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(40);
  }, 120_000);

  it('three nodes in a line converge through the middle one', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--drift', '10,0', '--name', 'a']);
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--drift', '0,0', '--name', 'b', '--peer', `127.0.0.1:${a.port}`]);
    const c = await startNode(['--port', '0', '--data-dir', dataDir(), '--drift=-10,5', '--name', 'c', '--peer', `127.0.0.1:${b.port}`]);
    const start = distance((await a.status()).state.drift, (await c.status()).state.drift);
    expect(start).toBeGreaterThan(10);
    await waitFor('a and c to converge', async () => {
      const [sa, sb, sc] = await Promise.all([a.status(), b.status(), c.status()]);
      return distance(sa.state.drift, sc.state.drift) < 0.5 && distance(sa.state.drift, sb.state.drift) < 0.5;
    }, 45_000);
    const sa = await a.status();
    expect(sa.peers.map((p) => p.id)).toEqual([b.id]);
    expect((await b.status()).peers.filter((p) => p.connected)).toHaveLength(2);
  }, 120_000);

  it('drops a SIGKILLed peer as stale, keeps cycling, and resyncs it by snapshot when it comes back', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--drift', '3,3']);
    const bDir = dataDir();
    const b = await startNode(['--port', '0', '--data-dir', bDir, '--drift=-3,-3', '--peer', `127.0.0.1:${a.port}`]);
    await waitFor('link', async () => peerOf(await a.status(), b.id)?.fresh);
    b.child.kill('SIGKILL');
    await b.exited;
    const stale = await waitFor('b marked stale', async () => {
      const s = await a.status();
      const p = peerOf(s, b.id);
      return p && !p.fresh ? s : null;
    });
    await waitFor('a keeps cycling', async () => (await a.status()).cycle > stale.cycle + 10);

    const b2 = await startNode(['--port', '0', '--data-dir', bDir, '--peer', `127.0.0.1:${a.port}`]);
    expect(b2.id).toBe(b.id);
    await waitFor('b back, fresh and resynced', async () => {
      const [sa, sb] = await Promise.all([a.status(), b2.status()]);
      const p = peerOf(sa, b.id);
      return p?.connected && p.fresh && p.drift && distance(p.drift, sb.state.drift) < 0.3;
    });
  }, 120_000);

  it('keeps its id and drift across a restart, and stops within 2 s saying bye', async () => {
    const dir = dataDir();
    const a = await startNode(['--port', '0', '--data-dir', dir, '--drift', '5,1', '--gamma', '0.01']);
    await waitFor('some cycles', async () => (await a.status()).cycle >= 15);
    const { code, ms } = await stopGracefully(a);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
    const stopped = a.records.find((r) => r.kind === 'stopped')!;
    expect(stopped.msg).toMatch(/^bye/);
    const again = await startNode(['--port', '0', '--data-dir', dir, '--drift', '9,9']);
    expect(again.id).toBe(a.id);
    const listening = again.records.find((r) => r.kind === 'listening')!;
    expect(listening.cycle).toBe(stopped.cycle);
    expect(listening.drift).toEqual(stopped.drift);
    const s = await again.status();
    expect(s.config.gamma).toBe(0.01); // the flag was saved with the settings
  }, 120_000);

  it('serves the status API as specified', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'status-test', '--cycle-ms', '50']);
    const s = await a.status();
    expect(s).toMatchObject({ id: a.id, name: 'status-test', config: { cycleMs: 50, alpha: 0.05, beta: 0.1, gamma: 0.001 } });
    expect(s.state.drift).toHaveLength(2);
    expect(Array.isArray(s.peers)).toBe(true);
    const missing = await fetch(`http://127.0.0.1:${a.port}/nope`);
    expect(missing.status).toBe(404);
  }, 60_000);

  it('exits 0 on SIGTERM after peers connected and disconnected many times', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    const bDir = dataDir();
    for (let i = 0; i < 12; i++) {
      const b = await startNode(['--port', '0', '--data-dir', bDir, '--peer', `127.0.0.1:${a.port}`]);
      await waitFor(`link ${i}`, async () => peerOf(await a.status(), b.id)?.connected);
      b.child.kill(i % 2 === 0 ? 'SIGKILL' : 'SIGTERM');
      expect(await b.exited).toBe(i % 2 === 0 ? 'SIGKILL' : 0);
    }
    const { code, ms } = await stopGracefully(a);
    expect(a.stderr(), a.stderr()).toBe('');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  }, 300_000);
});

describe('headless CLI errors', () => {
  it('a port in use is one clear line and exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { runCli } = await import('./helpers/node-process.js');
      const { code, stderr } = await runCli(['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir()]);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
