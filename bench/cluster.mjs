// N real nodes in this process: DriftNode + WebRtcTransport + startHttpServer, loopback only
// (host and ICE bind address 127.0.0.1, port 0, no discovery), linked along a given edge list.
// Instruments SDM one-way latency (sent -> applied at the peer) with one clock.
import { createIdentity } from '../dist/main/identity/identity.js';
import { nodeHandshakeCrypto } from '../dist/main/identity/handshake-crypto.js';
import { DriftNode } from '../dist/main/node/drift-node.js';
import { WebRtcTransport } from '../dist/main/transport/webrtc.js';
import { startHttpServer } from '../dist/main/server/http-server.js';
import { seededRandom } from '../dist/main/model/prng.js';
import { RECONNECT_MIN_MS } from '../dist/main/model/limits.js';

/** A fresh identity and its handshake crypto: every link proves its id (docs/protocol.md "Handshake"). */
function newIdentity() {
  const identity = createIdentity();
  return { id: identity.id, auth: nodeHandshakeCrypto(identity) };
}

const DIAL_GUARD_MS = 30_000;
/**
 * A fixed-topology dial that fails is tried again, the way a node's own dialer redials
 * (RECONNECT_MIN_MS, doubling). On a busy machine libdatachannel 0.24.5 (node-datachannel 0.33.4)
 * sometimes fails a loopback handshake: PeerConnection::setRemoteDescription gives the ICE agent
 * the answer before it keeps it for the DTLS fingerprint check, and a handshake that reaches the
 * check in between fails ("DTLS alert: unknown CA", the dial rejects with "connection failed").
 */
export const DIAL_ATTEMPTS = 4;
const RETRYABLE = new Set(['unreachable', 'timeout']);
const STOP_GUARD_MS = 20_000;
const SDM_PREFIX = '{"type":"sdm"';
const seqOf = (frame) => {
  const m = /"seq":(\d+)/.exec(frame);
  return m ? Number(m[1]) : -1;
};

/** Waits for `promise` at most STOP_GUARD_MS; says so on the console if it did not settle. */
async function withGuard(promise, what) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_GUARD_MS);
  });
  const outcome = await Promise.race([promise.then(() => 'done'), late]);
  clearTimeout(timer);
  if (outcome === 'late') console.log(`  cluster: ${what} did not finish within ${STOP_GUARD_MS} ms; going on`);
}

/**
 * transport.dial(address), tried up to DIAL_ATTEMPTS times while it fails with a retryable code;
 * each failed try is reported to `onRetry(error, attempt)`. Resolves with the peer id.
 */
export async function dialWithRetry(transport, address, onRetry = () => {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transport.dial(address);
    } catch (err) {
      if (attempt >= DIAL_ATTEMPTS || !RETRYABLE.has(err?.code)) throw err;
      onRetry(err, attempt);
      await new Promise((r) => setTimeout(r, RECONNECT_MIN_MS * 2 ** (attempt - 1)));
    }
  }
}

export class Cluster {
  nodes = [];
  /** SDM one-way latencies in ms (sent -> applied at the peer). */
  latencies = [];
  recordLatency = false;
  /** Per-link dial durations in ms. */
  dialMs = [];
  /** With countBytes: bytes of frames sent, by message type (all nodes). */
  countBytes = false;
  bytesByType = new Map();
  sent = new Map();

  /**
   * @param opts {n, params, weights, cycleMs, initial(i) -> [x,y], seed, maxPeers, first, memory, instrument}: nodes
   * get the global indices first .. first+n-1 (a cluster spread over processes), which pick their start and PRNG
   * seed; with `memory` ({gossipIntervalMs?}), every node runs the network memory. instrument (default true) wraps
   * every link's send and onFrame for the latency probe; the cost rows of `npm run cluster` turn it off, so that the
   * harness's per-frame bookkeeping is not counted as the nodes'.
   */
  async start(opts) {
    const { n, params, weights = 'seed', cycleMs = 100, initial = () => [0, 0], seed = 1, first = 0, instrument = true } = opts;
    const maxPeers = opts.maxPeers ?? Math.max(8, n);
    for (let i = first; i < first + n; i++) {
      const { id, auth } = newIdentity();
      const transport = new WebRtcTransport({ localId: id, auth, bindAddress: '127.0.0.1' });
      if (instrument) this.instrument(transport, id);
      const node = new DriftNode({
        id,
        name: `bench${i}`,
        transport,
        params,
        cycleMs,
        maxPeers,
        initial: { drift: initial(i), vu: 1, tc: 1, cycle: 0 },
        random: seededRandom(seed * 100_003 + i),
        weights,
        ...(opts.memory ? { memory: { crypto: auth, ...opts.memory } } : {}),
      });
      const http = await startHttpServer({
        host: '127.0.0.1',
        port: 0,
        uiPublic: false,
        rendererDir: null,
        getStatus: () => node.status(),
        onSignalUpgrade: (req, socket, head) => transport.handleSignalUpgrade(req, socket, head),
        onBridgeUpgrade: (_req, socket) => socket.destroy(),
        // Every node here dials from 127.0.0.1: per-address limits would act as global ones (the global caps stay).
        perAddressLimits: false,
      });
      this.nodes.push({ id, auth, node, transport, http, index: i });
    }
    return this;
  }

  /** Proof-of-identity durations (DataChannel up to proven) of every node's links, ms. */
  proofMs() {
    return this.nodes.flatMap(({ transport }) => transport.proofDurations());
  }

  instrument(transport, localId) {
    const setHandler = transport.setHandler.bind(transport);
    transport.setHandler = (h) =>
      setHandler({
        onLink: (link) => {
          const send = link.send.bind(link);
          link.send = (frame) => {
            if (this.countBytes) {
              const type = /^\{"type":"([a-z]+)"/.exec(frame)?.[1] ?? 'other';
              this.bytesByType.set(type, (this.bytesByType.get(type) ?? 0) + frame.length);
            }
            if (this.recordLatency && frame.startsWith(SDM_PREFIX)) this.sent.set(`${localId}>${link.peerId}:${seqOf(frame)}`, performance.now());
            return send(frame);
          };
          h.onLink(link);
        },
        onFrame: (link, frame) => {
          h.onFrame(link, frame);
          if (this.recordLatency && typeof frame === 'string' && frame.startsWith(SDM_PREFIX)) {
            const key = `${link.peerId}>${localId}:${seqOf(frame)}`;
            const t0 = this.sent.get(key);
            if (t0 !== undefined) {
              this.latencies.push(performance.now() - t0);
              this.sent.delete(key);
            }
          }
        },
        onUnlink: (link, reason) => h.onUnlink(link, reason),
      });
  }

  /**
   * Dials every edge [a, b] (a dials b), `parallel` at a time, each worker pausing `gapMs` after a
   * dial (so that one link's first frames do not land in the next dial); records each dial's
   * duration. Returns the wall time.
   */
  async link(edges, parallel = 16, gapMs = 0) {
    const t0 = performance.now();
    let next = 0;
    const failures = [];
    const worker = async () => {
      while (next < edges.length) {
        const [a, b] = edges[next++];
        const t = performance.now();
        let timer;
        try {
          // The transport times every dial out itself (SIGNAL_TIMEOUT_MS); this guard makes a dial that
          // never settles a reported failure instead of a hung benchmark.
          const stuck = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`dial did not settle within ${DIAL_GUARD_MS} ms`)), DIAL_GUARD_MS);
          });
          await Promise.race([this.nodes[a].transport.dial(`127.0.0.1:${this.nodes[b].http.port}`), stuck]);
          this.dialMs.push(performance.now() - t);
        } catch (err) {
          failures.push(`${a}-${b}: ${err.message}`);
        } finally {
          clearTimeout(timer);
        }
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, edges.length) }, worker));
    if (failures.length) console.log(`  ${failures.length} dial(s) failed: ${failures.slice(0, 3).join('; ')}`);
    return performance.now() - t0;
  }

  /** Waits until every node has `helloed` replicas from all its linked peers. */
  async settle(timeoutMs = 10_000) {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const ok = this.nodes.every(({ node }) => node.status().peers.every((p) => !p.connected || p.drift !== null));
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** The connection graph the nodes actually formed, as an edge list of indices. */
  formedEdges() {
    const byId = new Map(this.nodes.map((x, i) => [x.id, i]));
    const edges = [];
    this.nodes.forEach(({ node }, i) => {
      for (const p of node.status().peers) {
        const j = byId.get(p.id);
        if (p.connected && j !== undefined && j > i) edges.push([i, j]);
      }
    });
    return edges;
  }

  drifts() {
    return this.nodes.map(({ node }) => node.state.drift);
  }

  messages() {
    let out = 0;
    for (const { node } of this.nodes) out += node.status().messages.out;
    return out;
  }

  /** Starts every node's timer; with `staggerMs`, node i starts i*staggerMs/n later (real nodes are not phase-aligned). */
  async startAll(staggerMs = 0) {
    if (staggerMs <= 0) {
      for (const { node } of this.nodes) node.start();
      return;
    }
    for (let i = 0; i < this.nodes.length; i++) {
      this.nodes[i].node.start();
      await new Promise((r) => setTimeout(r, staggerMs / this.nodes.length));
    }
  }

  async stop() {
    await withGuard(Promise.all(this.nodes.map(({ node }) => node.stop('bench done'))), 'stopping the nodes');
    await withGuard(Promise.all(this.nodes.map(({ http }) => http.close())), 'closing the HTTP servers');
  }
}
