// The multi-process cluster harness (bench/cluster-run.mjs, `npm run cluster`): real nodes spread
// over worker processes, linked on a fixed topology or by their own peer selection, read back
// through their status API. Loopback only, discovery off.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lvs-cluster-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCluster(args: string[]) {
  const out = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = spawnSync(process.execPath, ['bench/cluster-run.mjs', ...args, '--json', out], { encoding: 'utf8', timeout: 90_000 });
  let report: Record<string, any> | null = null;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    // no report: the run failed before writing one
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, report };
}

describe('cluster harness (npm run cluster)', () => {
  it('runs a ring of 6 nodes over 2 processes that forms exactly the ring and converges as predicted', () => {
    const { status, stderr, report } = runCluster(['--nodes', '6', '--processes', '2', '--topology', 'ring', '--alpha', '0', '--gamma', '0', '--cycle-ms', '50', '--seconds', '12']);
    expect(stderr).not.toMatch(/cluster: /);
    expect(status).toBe(0);
    expect(report).not.toBeNull();
    expect(report!.processes).toBe(2);
    expect(report!.cpuPercentPerProcess).toHaveLength(2);
    // A dial that fails is redialled as a node's dialer would (bench/cluster.mjs, dialWithRetry); none may fail for good.
    expect(report!.dialFailureReasons).toEqual([]);
    expect(report!.links).toBe(6);
    expect(report!.degree).toEqual({ min: 2, mean: 2, max: 2 });
    expect(report!.connected).toBe(true);
    expect(report!.measuredCyclesTo1000).not.toBeNull();
    // Sampled every 500 ms (10 cycles), so the measured count is coarse; the order must match.
    expect(report!.measuredCyclesTo1000 / report!.predictedCyclesTo1000).toBeGreaterThan(0.5);
    expect(report!.measuredCyclesTo1000 / report!.predictedCyclesTo1000).toBeLessThan(2);
    expect(report!.rejects).toBe(0);
  }, 120_000);

  it('lets the nodes pick their own mesh under maxPeers: every degree within the cap, still connected', () => {
    const { status, stderr, report } = runCluster(['--nodes', '10', '--processes', '2', '--topology', 'maxpeers', '--max-peers', '3', '--seconds', '3']);
    expect(stderr).not.toMatch(/cluster: /);
    // A node left without a link says what its dialer waits for.
    expect(report!.isolated).toEqual([]);
    expect(status).toBe(0);
    expect(report!.degree.max).toBeLessThanOrEqual(3);
    expect(report!.degree.min).toBeGreaterThanOrEqual(1);
    expect(report!.connected).toBe(true);
    expect(report!.steadySpreadMeasured).toBeGreaterThan(0);
  }, 120_000);

  it('runs the bare transport on the same graph over 2 processes: every pair open, one frame per link end per cycle', () => {
    const { status, stderr, report } = runCluster(['--nodes', '6', '--processes', '2', '--topology', 'ring', '--transport', 'bare', '--seconds', '3']);
    expect(stderr).not.toMatch(/cluster: /);
    expect(status).toBe(0);
    expect(report!.transport).toBe('bare');
    expect(report!.dialFailureReasons).toEqual([]);
    expect(report!.links).toBe(6);
    // 6 links, 2 ends each, 10 frames a second per end (the timers may lose a cycle on a busy machine).
    expect(report!.framesPerSecond).toBeGreaterThan(100);
    expect(report!.framesPerSecond).toBeLessThan(130);
    expect(report!.cpuPercentPerProcess).toHaveLength(2);
    expect(report!.rssMBPerNode).toBeCloseTo(report!.rssMBTotal / 6, 6);
  }, 120_000);

  it('refuses a bare transport on a topology the nodes pick themselves, with one line and exit code 2', () => {
    const { status, stderr } = runCluster(['--topology', 'maxpeers', '--transport', 'bare']);
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/--transport bare needs a fixed topology/);
  });

  it('refuses a bad option with one line and exit code 2', () => {
    const { status, stderr } = runCluster(['--topology', 'star']);
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/--topology must be full, ring, regular or maxpeers/);
  });
});
