/**
 * Assembles one headless node: store, identity, WebRTC transport, HTTP port,
 * the drift node and its terminal output, and takes them down again in the
 * order node-datachannel needs. The Electron main process will reuse this.
 */
import { hostname } from 'node:os';
import { seededRandom } from '../model/prng.js';
import { DriftNode, type NodeStatus } from '../node/drift-node.js';
import { startHttpServer, type RunningHttpServer } from '../server/http-server.js';
import { NodeStore } from '../store/store.js';
import { WebRtcTransport } from '../transport/webrtc.js';
import type { RunOptions } from './cli-args.js';
import { LogLines, type Write } from './log-lines.js';

export interface RunningNode {
  readonly node: DriftNode;
  readonly store: NodeStore;
  readonly http: RunningHttpServer;
  readonly log: LogLines;
  /** Says bye, closes every link, saves state and frees the port. Idempotent. */
  stop(reason?: string): Promise<void>;
}

/** Status API body (DESIGN.md §5) plus what the node knows beyond it. */
export function statusBody(node: DriftNode, extra: { listen: string; dataDir: string }) {
  const s: NodeStatus = node.status();
  return { ...s, listen: extra.listen, dataDir: extra.dataDir, dialTargets: node.dialTargets() };
}

export async function runNode(options: RunOptions, write: Write): Promise<RunningNode> {
  const log = new LogLines(options.logFormat, write);
  const store = NodeStore.open(options.dataDir, {
    log: (level, message) => log.record('store', message, {}, level),
    defaults: options.settings,
  });
  if (Object.keys(options.settings).length > 0) store.updateSettings(options.settings);
  const settings = store.settings;
  const saved = store.state;
  const fresh = saved.cycle === 0;
  const initial = fresh && options.drift ? { ...saved, drift: options.drift } : saved;
  if (!fresh && options.drift) log.record('start', `continuing from saved drift ${JSON.stringify(saved.drift)} at cycle ${saved.cycle}; --drift applies to a new data dir only`);

  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const transport = new WebRtcTransport({
    localId: store.identity.id,
    ...(wildcard ? {} : { bindAddress: options.host === 'localhost' ? '127.0.0.1' : options.host }),
    log: (level, message) => log.record('transport', message, {}, level),
  });
  const node = new DriftNode({
    id: store.identity.id,
    name: settings.name || hostname(),
    transport,
    params: { alpha: settings.alpha, beta: settings.beta, gamma: settings.gamma },
    cycleMs: settings.cycleMs,
    maxPeers: settings.maxPeers,
    initial,
    ...(options.seed !== null ? { random: seededRandom(options.seed) } : {}),
    awaitPeers: options.awaitPeers,
  });

  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      host: options.host,
      port: settings.port,
      statusPublic: options.statusPublic,
      getStatus: () => statusBody(node, { listen: `${options.host}:${http.port}`, dataDir: options.dataDir }),
      onSignalUpgrade: (req, socket, head) => transport.handleSignalUpgrade(req, socket, head),
    });
  } catch (err) {
    await transport.shutdown();
    store.close();
    throw err;
  }

  node.events.on('cycle', (e) => {
    store.setState({ drift: e.drift, vu: e.vu, tc: e.tc, cycle: e.cycle });
    if (options.logCycles) log.cycle(e);
  });
  node.events.on('peer', (e) => {
    if (e.kind === 'hello') store.rememberPeer(e.peer.id, e.peer.dialledAddress, e.peer.name, Date.now());
  });
  node.events.on('log', (e) => {
    if (e.level !== 'debug') log.record('log', e.message, {}, e.level);
  });

  let last = { at: Date.now(), in: 0, out: 0 };
  const summaryTimer = setInterval(() => {
    const s = node.status();
    const now = Date.now();
    const seconds = Math.max(0.001, (now - last.at) / 1000);
    log.summary(s, { in: (s.messages.in - last.in) / seconds, out: (s.messages.out - last.out) / seconds });
    last = { at: now, in: s.messages.in, out: s.messages.out };
  }, 1000);

  log.record('listening', `node ${store.identity.id} (${settings.name || hostname()}) listening on ${options.host}:${http.port}, data in ${options.dataDir}`, {
    id: store.identity.id,
    host: options.host,
    port: http.port,
    dataDir: options.dataDir,
    drift: initial.drift,
    cycle: initial.cycle,
  });
  node.start();
  for (const address of options.peers) node.addPeer(address);

  let stopping: Promise<void> | null = null;
  return {
    node,
    store,
    http,
    log,
    stop(reason = 'shutdown') {
      stopping ??= (async () => {
        clearInterval(summaryTimer);
        await node.stop(reason);
        const s = node.state;
        store.setState(s);
        store.close();
        await http.close();
        log.record('stopped', `bye: state saved at cycle ${s.cycle}, drift ${JSON.stringify(s.drift)}`, { cycle: s.cycle, drift: s.drift });
      })();
      return stopping;
    },
  };
}
