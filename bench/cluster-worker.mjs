// One process of a multi-process cluster (bench/cluster-run.mjs forks it): hosts a slice of the
// nodes (bench/cluster.mjs, the app's DriftNode + WebRtcTransport + HTTP server), or with
// `--transport bare` the same slice of the bare transport (bench/bare-mesh.mjs), and does what the
// coordinator says over the IPC channel. The coordinator reads the nodes through their status API
// before and after a measurement and samples drifts over IPC during it (one small message per
// process), so that the harness costs the nodes next to nothing while their CPU is measured.
import { Cluster, dialWithRetry } from './cluster.mjs';
import { BareMesh } from './bare-mesh.mjs';
import { seededRandom } from '../dist/main/model/prng.js';

/** This process before any node exists (Node, the project's modules and node-datachannel loaded). */
const rssBefore = process.memoryUsage().rss;
let cluster = null;
let bare = null;

const handlers = {
  /** {first, n, params, weights, cycleMs, maxPeers, spreadStart} -> [{index, id, port}] */
  async start(m) {
    const initial = (i) => {
      const random = seededRandom(7919 + i);
      return [random() * 2 * m.spreadStart - m.spreadStart, random() * 2 * m.spreadStart - m.spreadStart];
    };
    cluster = await new Cluster().start({ n: m.n, first: m.first, params: m.params, weights: m.weights, cycleMs: m.cycleMs, maxPeers: m.maxPeers, initial, instrument: false });
    return cluster.nodes.map(({ index, id, http }) => ({ index, id, port: http.port }));
  },
  /** {dials: [[localIndex, address]]}: fixed topology, one link per edge (a failed dial is redialled); -> {failures, retries} */
  async dial(m) {
    const failures = [];
    const retries = [];
    let next = 0;
    const worker = async () => {
      while (next < m.dials.length) {
        const [local, address] = m.dials[next++];
        const edge = `${cluster.nodes[local].index} -> ${address}`;
        try {
          await dialWithRetry(cluster.nodes[local].transport, address, (err, attempt) => retries.push(`${edge} (try ${attempt}): ${err.message}`));
        } catch (err) {
          failures.push(`${edge}: ${err.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return { failures, retries };
  },
  /** {peers: [[localIndex, address]]}: the node's own dialer and peer selection (addPeer, maxPeers) */
  async addPeers(m) {
    for (const [local, address] of m.peers) cluster.nodes[local].node.addPeer(address);
    return m.peers.length;
  },
  async run() {
    if (bare) await bare.start(1000 / bare.cycleMs, bare.frameBytes);
    else await cluster.startAll(100);
    return true;
  },
  /** Drift and cycle of every local node, in order (the coordinator's spread samples). */
  async drifts() {
    if (!cluster) return { drifts: [], cycles: [] };
    return { drifts: cluster.nodes.map(({ node }) => node.state.drift), cycles: cluster.nodes.map(({ node }) => node.state.cycle) };
  },
  async cpu() {
    const u = process.cpuUsage();
    return { cpuMs: (u.user + u.system) / 1000, rss: process.memoryUsage().rss, rssBefore, received: bare?.received ?? null };
  },
  // ---------------------------------------------------------------- the bare transport
  /** {n, cycleMs, frameBytes}: this process hosts the bare ends of n nodes. */
  async bareStart(m) {
    bare = new BareMesh(m.n, (edge, side, signal) => process.send({ event: 'signal', edge, side, signal }));
    bare.cycleMs = m.cycleMs;
    bare.frameBytes = m.frameBytes;
    return true;
  },
  /** {edge, local}: side a of a pair; resolves when its channel is open. */
  async bareDial(m) {
    await bare.dial(m.edge, m.local);
    return true;
  },
  /** {edge, side, local, signal}: a description or candidate from the other end (side b resolves once open). */
  async bareSignal(m) {
    await bare.signal(m.edge, m.side, m.local, m.signal);
    return true;
  },
  async stop() {
    await cluster?.stop();
    await bare?.stop();
    return true;
  },
};

process.on('message', async (m) => {
  try {
    const result = await handlers[m.cmd](m);
    process.send({ id: m.id, ok: true, result });
  } catch (err) {
    process.send({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
  if (m.cmd === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
