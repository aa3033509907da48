// Row 4: how fast links come up, next to the bare library doing the same in the same run.
//
//   node bench/link-setup.mjs      (after npm run build) prints the rows; npm run bench writes them
//   node bench/link-setup.mjs --mesh-processes P [--dials-in-flight K]
//        the 50-node mesh alone, over P processes; with K, each process keeps at most K dials in flight
//
// The node: the app's own nodes (bench/cluster.mjs: DriftNode + WebRtcTransport + HTTP server on
// 127.0.0.1) dialling a full mesh, one dial at a time, 4 at a time, 4 at a time while two busy
// loops compete for the two cores, and a 50-node mesh with all 1,225 dials at once, its nodes
// spread over two processes. A dial counts from transport.dial() to its promise resolving: the
// WebSocket, the signaling, ICE, DTLS, SCTP, the DataChannel and both proofs of identity. A dial
// that fails is counted as failed (nothing here retries).
// The bare library: bench/dtls-repro.mjs, pairs of node-datachannel PeerConnections signalled
// over loopback TCP in the transport's own setup order (acceptor first, --order active), with the
// same parallelism, load and processes, from creating the dialer's PeerConnection to its
// DataChannel open. Like the mesh,
// which keeps every link it set up, the pairs stay connected until the run ends (--keep): each
// live connection of a process makes the next setup slower (BENCHMARKS.md, "Link setup"). A row of
// its own gives the ratio to pairs closed right after their setup, as in a process that holds no
// other connection.
// The 50-node mesh runs MESH_RUNS times, for the node and for the bare pairs; the row is the median.
import { fork, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Cluster } from './cluster.mjs';
import { percentile } from './lib.mjs';

const DTLS_REPRO = fileURLToPath(new URL('./dtls-repro.mjs', import.meta.url));
const SELF = fileURLToPath(new URL(import.meta.url));
const PARAMS = { alpha: 0.05, beta: 0.1, gamma: 0.001 };
/** Busy loops started for the "under load" rows: with two, both cores have something else to run. */
const LOAD_PROCESSES = 2;

/** The bare library in the same conditions: dtls-repro's JSON summary. */
/** A bare run that takes longer than this has hung (the longest, the 1,225 pairs at once, takes ~10 s). */
const BARE_RUN_TIMEOUT_MS = 180_000;

function bare({ pairs, parallel, processes = 1, load = 0, order = 'active', keep = true }) {
  const flags = ['--json', '--pairs', String(pairs), '--parallel', String(parallel), '--processes', String(processes), '--load', String(load), '--order', order, ...(keep ? ['--keep'] : [])];
  const run = spawnSync(process.execPath, [DTLS_REPRO, ...flags], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: BARE_RUN_TIMEOUT_MS });
  if (run.status !== 0) throw new Error(`bench/dtls-repro.mjs exited with ${run.status ?? run.signal}: ${run.stderr.slice(-400)}`);
  const { summary, results } = JSON.parse(run.stdout.trim().split('\n').at(-1));
  return { ...summary, setups: results.filter((r) => r.ok).map((r) => r.ms) };
}

function busyLoops(n) {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

function fullMesh(n) {
  const edges = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) edges.push([a, b]);
  return edges;
}

/** bench/dtls-repro.mjs waits this long after each pair before the next one starts; our dials the same. */
const GAP_MS = 5;

/** Runs of the 50-node mesh (node and bare pairs each): one run varies by a second on a shared 2-core machine. */
const MESH_RUNS = 3;

/** Our nodes in this process: a full mesh of n, `parallel` dials at a time. */
async function meshInProcess(n, parallel, load = 0) {
  const cluster = await new Cluster().start({ n, params: PARAMS, cycleMs: 100, instrument: false });
  const loaders = busyLoops(load);
  try {
    const edges = fullMesh(n);
    const wallMs = await cluster.link(edges, parallel, GAP_MS);
    const dialMs = cluster.dialMs;
    const retries = cluster.nodes.reduce((s, x) => s + (x.transport.stats().setupRetries ?? 0), 0);
    return { dialMs, failed: edges.length - dialMs.length, wallMs, retries };
  } finally {
    for (const p of loaders) p.kill();
    await cluster.stop();
  }
}

// ---------------------------------------------------------------- the multi-process mesh

/** A child: hosts nodes first..first+n-1; on 'dial' dials its edges (at most m.inFlight at a time) and reports when the last settled. */
async function child() {
  let cluster;
  process.on('message', async (m) => {
    if (m.cmd === 'start') {
      cluster = await new Cluster().start({ n: m.n, first: m.first, params: PARAMS, cycleMs: 100, instrument: false });
      process.send({ cmd: 'started', ports: cluster.nodes.map((x) => x.http.port) });
    } else if (m.cmd === 'dial') {
      const dialMs = [];
      const failures = [];
      let next = 0;
      const worker = async () => {
        while (next < m.dials.length) {
          const [local, address] = m.dials[next++];
          const t = performance.now();
          try {
            await cluster.nodes[local].transport.dial(address);
            dialMs.push(performance.now() - t);
          } catch (err) {
            failures.push(err.message);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(m.inFlight ?? m.dials.length, m.dials.length) }, worker));
      const doneAt = performance.timeOrigin + performance.now();
      const retries = cluster.nodes.reduce((s, x) => s + (x.transport.stats().setupRetries ?? 0), 0);
      process.send({ cmd: 'dialled', dialMs, failures, doneAt, retries });
    } else if (m.cmd === 'stop') {
      await cluster?.stop();
      process.exit(0);
    }
  });
}

/**
 * Every pair once, each node dialling about half of the others: i dials j when j is at most n/2
 * steps ahead of i around the circle. So no node has more than about n/2 inbound sessions at
 * once, under MAX_PENDING_INBOUND_SESSIONS (32) for n = 50; with the lower index dialling, the
 * last node would get 49 at once and refuse the ones over its cap (HTTP 503), as it should.
 */
function balancedMesh(n) {
  return fullMesh(n).map(([a, b]) => (b - a <= n / 2 ? [a, b] : [b, a]));
}

/** n nodes over `processes` children, every pair dialled at once (balancedMesh), or at most `inFlight` per process. */
async function meshOverProcesses(n, processes, inFlight) {
  const per = Math.ceil(n / processes);
  const kids = [];
  for (let p = 0; p * per < n; p++) {
    const first = p * per;
    const count = Math.min(per, n - first);
    const proc = fork(SELF, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const next = (cmd) => new Promise((resolve) => proc.once('message', (m) => (m.cmd === cmd ? resolve(m) : resolve(null))));
    kids.push({ proc, first, count, next });
  }
  try {
    const ports = [];
    await Promise.all(
      kids.map(async (k) => {
        const started = k.next('started');
        k.proc.send({ cmd: 'start', n: k.count, first: k.first });
        const m = await started;
        m.ports.forEach((port, i) => (ports[k.first + i] = port));
      }),
    );
    const owner = (i) => kids.find((k) => i >= k.first && i < k.first + k.count);
    const t0 = performance.timeOrigin + performance.now();
    const reports = await Promise.all(
      kids.map((k) => {
        const dials = balancedMesh(n)
          .filter(([a]) => owner(a) === k)
          .map(([a, b]) => [a - k.first, `127.0.0.1:${ports[b]}`]);
        const dialled = k.next('dialled');
        k.proc.send({ cmd: 'dial', dials, inFlight });
        return dialled;
      }),
    );
    return {
      wallMs: Math.max(...reports.map((r) => r.doneAt)) - t0,
      dialMs: reports.flatMap((r) => r.dialMs),
      failed: reports.reduce((s, r) => s + r.failures.length, 0),
      failures: reports.flatMap((r) => r.failures).slice(0, 3),
      retries: reports.reduce((s, r) => s + r.retries, 0),
    };
  } finally {
    await Promise.all(
      kids.map(
        (k) =>
          new Promise((resolve) => {
            k.proc.once('exit', resolve);
            k.proc.send({ cmd: 'stop' });
          }),
      ),
    );
  }
}

// ---------------------------------------------------------------- the rows

const p50 = (xs) => percentile(xs, 0.5);
const p99 = (xs) => percentile(xs, 0.99);

export async function linkSetupRows(results) {
  const n = 20;
  const links = (n * (n - 1)) / 2;

  console.log(`link setup: ${n}-node full mesh, one dial at a time; bare pairs the same`);
  const seq = await meshInProcess(n, 1);
  const bareSeq = bare({ pairs: links, parallel: 1 });
  const bareClosed = bare({ pairs: links, parallel: 1, keep: false });
  const closedInfo = { closedPairsP50Ms: p50(bareClosed.setups), ratioToClosedPairs: p50(seq.dialMs) / p50(bareClosed.setups) };
  results.add(4, `link setup p50, one dial at a time (${n}-node full mesh, ${links} dials)`, 'ms', p50(seq.dialMs), null, { samples: seq.dialMs.length, failed: seq.failed, retries: seq.retries, baseline: p50(bareSeq.setups), baselineName: `bare node-datachannel pairs, one at a time, kept (${links} live), p50`, ...closedInfo });
  results.add(4, 'link setup p50 over the bare library, one at a time', 'ratio', p50(seq.dialMs) / p50(bareSeq.setups), '<= 2', { baseline: p50(bareSeq.setups), baselineName: 'bare pair setup p50 (ms), pairs kept', ...closedInfo });
  results.add(4, 'link setup p50 over bare pairs closed after each setup, one at a time', 'ratio', closedInfo.ratioToClosedPairs, null, { baseline: closedInfo.closedPairsP50Ms, baselineName: 'bare pair setup p50 (ms), each pair closed after its setup' });
  results.add(4, 'link setup p99, one dial at a time', 'ms', p99(seq.dialMs), '< 100', { baseline: p99(bareSeq.setups), baselineName: 'bare pairs, one at a time, kept, p99', bareOver900ms: bareSeq.over900ms, bareFailed: bareSeq.failed });

  console.log(`link setup: ${n}-node full mesh, 4 dials at a time; bare pairs the same`);
  const par = await meshInProcess(n, 4);
  const barePar = bare({ pairs: links, parallel: 4 });
  results.add(4, 'link setup p50, 4 dials at a time', 'ms', p50(par.dialMs), null, { samples: par.dialMs.length, failed: par.failed, retries: par.retries, baseline: p50(barePar.setups), baselineName: 'bare pairs, 4 at a time, kept, p50' });
  results.add(4, 'link setup p99, 4 dials at a time', 'ms', p99(par.dialMs), '< 100', { baseline: p99(barePar.setups), baselineName: 'bare pairs, 4 at a time, kept, p99' });

  console.log(`link setup under load: ${n}-node full mesh, 4 at a time, ${LOAD_PROCESSES} busy loops; bare pairs the same`);
  const loaded = await meshInProcess(n, 4, LOAD_PROCESSES);
  const bareLoaded = bare({ pairs: links, parallel: 4, load: LOAD_PROCESSES });
  results.add(4, `failed dials of ${links} under load (4 at a time, ${LOAD_PROCESSES} busy loops)`, 'dials', loaded.failed, '<= 0', { retries: loaded.retries, p50Ms: p50(loaded.dialMs), p99Ms: p99(loaded.dialMs), baseline: bareLoaded.failed, baselineName: `bare pairs failed of ${links}, same load, kept` });
  results.add(4, 'link setup p99 under load', 'ms', p99(loaded.dialMs), null, { baseline: p99(bareLoaded.setups), baselineName: 'bare pairs under the same load, kept, p99' });

  const big = 50;
  const bigLinks = (big * (big - 1)) / 2;
  console.log(`link setup: ${big}-node full mesh, all ${bigLinks} dials at once, nodes over 2 processes; bare pairs the same`);
  const meshes = [];
  const bareMeshes = [];
  for (let run = 0; run < MESH_RUNS; run++) {
    meshes.push(await meshOverProcesses(big, 2));
    bareMeshes.push(bare({ pairs: bigLinks, parallel: bigLinks, processes: 2 }));
  }
  const walls = meshes.map((m) => m.wallMs / 1000);
  const bareWalls = bareMeshes.map((m) => m.wallMs / 1000);
  const failed = meshes.reduce((sum, m) => sum + m.failed, 0);
  const bareFailed = bareMeshes.reduce((sum, m) => sum + m.failed, 0);
  const bareDied = bareMeshes.filter((m) => m.acceptorProcessDied !== undefined).map((m) => m.acceptorProcessDied);
  const mesh = meshes.find((m) => m.wallMs / 1000 === p50(walls));
  results.add(4, `${big}-node full mesh fully linked (${bigLinks} dials at once, 2 processes; median of ${MESH_RUNS})`, 's', p50(walls), '< 5', { runsS: walls, failedTotal: failed, retries: meshes.map((m) => m.retries), dialP50Ms: p50(mesh.dialMs), dialP99Ms: p99(mesh.dialMs), baseline: p50(bareWalls), bareRunsS: bareWalls, ...(bareDied.length ? { bareAcceptorProcessDied: bareDied } : {}), baselineName: `bare pairs, ${bigLinks} at once, 2 processes, kept, median of ${MESH_RUNS} (s; ${bareFailed} failed)` });
  results.add(4, `failed dials in the ${MESH_RUNS} runs of the ${big}-node mesh`, 'dials', failed, '<= 0', { baseline: bareFailed, baselineName: `bare pairs failed in their ${MESH_RUNS} runs` });
  for (const m of meshes) if (m.failed) console.log(`  ${m.failed} dial(s) failed: ${m.failures.join('; ')}`);
  if (bareDied.length) console.log(`  the bare pairs' acceptor process died after ${bareDied.length} of the runs had measured (${bareDied.join(', ')})`);
}

if (process.argv.includes('--child')) {
  await child();
} else if (process.argv[1] === SELF) {
  let values;
  try {
    ({ values } = parseArgs({ options: { 'mesh-processes': { type: 'string' }, 'dials-in-flight': { type: 'string' } } }));
  } catch (err) {
    console.error(`link-setup: ${err.message}`);
    process.exit(2);
  }
  if (values['dials-in-flight'] !== undefined && values['mesh-processes'] === undefined) {
    console.error('link-setup: --dials-in-flight goes with --mesh-processes');
    process.exit(2);
  }
  if (values['mesh-processes'] !== undefined) {
    // The 50-node mesh alone, over P processes.
    const processes = Number(values['mesh-processes']);
    const inFlight = values['dials-in-flight'] === undefined ? undefined : Number(values['dials-in-flight']);
    if (!Number.isInteger(processes) || processes < 1 || processes > 50) {
      console.error('link-setup: --mesh-processes must be an integer from 1 to 50');
      process.exit(2);
    }
    if (inFlight !== undefined && (!Number.isInteger(inFlight) || inFlight < 1)) {
      console.error('link-setup: --dials-in-flight must be a positive integer');
      process.exit(2);
    }
    const mesh = await meshOverProcesses(50, processes, inFlight);
    const limit = inFlight === undefined ? 'all dials at once' : `at most ${inFlight} dials in flight per process`;
    console.log(`50-node full mesh over ${processes} process(es), ${limit}: ${(mesh.wallMs / 1000).toFixed(2)} s, ${mesh.failed} failed, ${mesh.retries} setups retried, dial p50 ${p50(mesh.dialMs).toFixed(0)} ms`);
    process.exit(0);
  }
  const { Results } = await import('./lib.mjs');
  await linkSetupRows(new Results());
  process.exit(0);
}
