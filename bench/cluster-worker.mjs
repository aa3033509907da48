// One process of a multi-process cluster (bench/cluster-run.mjs forks it): hosts a slice of the
// nodes (bench/cluster.mjs, the app's DriftNode + WebRtcTransport + HTTP server) and does what the
// coordinator says over the IPC channel. The coordinator reads the nodes through their status API.
import { Cluster, dialWithRetry } from './cluster.mjs';
import { seededRandom } from '../dist/main/model/prng.js';

let cluster = null;

const handlers = {
  /** {first, n, params, weights, cycleMs, maxPeers, spreadStart} -> [{index, id, port}] */
  async start(m) {
    const initial = (i) => {
      const random = seededRandom(7919 + i);
      return [random() * 2 * m.spreadStart - m.spreadStart, random() * 2 * m.spreadStart - m.spreadStart];
    };
    cluster = await new Cluster().start({ n: m.n, first: m.first, params: m.params, weights: m.weights, cycleMs: m.cycleMs, maxPeers: m.maxPeers, initial });
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
    await cluster.startAll(100);
    return true;
  },
  async cpu() {
    const u = process.cpuUsage();
    return { cpuMs: (u.user + u.system) / 1000, rss: process.memoryUsage().rss };
  },
  async stop() {
    await cluster?.stop();
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
