/**
 * Assembles one node: store, identity, WebRTC transport, the HTTP port
 * (signaling, status API, dashboard and its bridge), the drift node and its
 * terminal output, and takes them down again in the order node-datachannel
 * needs. The headless CLI and the Electron main process both start nodes here.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DashboardStatus } from '../bridge/api.js';
import { NodeService } from '../bridge/service.js';
import { discoveryOff, MdnsDiscovery, type DiscoveryStatus } from '../discovery/mdns-discovery.js';
import { wireDiscovery } from '../discovery/wire.js';
import { DISCOVERY_OFF_BY_SETTING } from '../discovery/types.js';
import { seededRandom } from '../model/prng.js';
import { DriftNode } from '../node/drift-node.js';
import { startHttpServer, type RunningHttpServer } from '../server/http-server.js';
import { WsBridge } from '../server/ws-bridge.js';
import { parseUdpPorts } from '../store/schema.js';
import { loadUiCredential, type UiCredential } from '../server/ui-credential.js';
import { NodeStore, type StoreOpenOptions } from '../store/store.js';
import { WebRtcTransport } from '../transport/webrtc.js';
import { deriveNetworkKey, nodeHandshakeCrypto } from '../identity/handshake-crypto.js';
import type { RunOptions } from './cli-args.js';
import { defaultNodeName } from './default-name.js';
import { LogLines, type Write } from './log-lines.js';

export interface RunningNode {
  readonly node: DriftNode;
  readonly store: NodeStore;
  readonly http: RunningHttpServer;
  readonly service: NodeService;
  readonly log: LogLines;
  /** LAN discovery, null when it is off (--no-discovery, the setting, or a loopback-only node). */
  readonly discovery: MdnsDiscovery | null;
  status(): DashboardStatus;
  /**
   * SIGHUP: re-reads the settings from the store file, applies what applies
   * live and logs one line saying what changed and what needs a restart (or
   * why the file was not taken; the running settings stay then).
   */
  reloadSettings(): void;
  /** Says bye, closes every link, saves state and frees the port. Idempotent. */
  stop(reason?: string): Promise<void>;
}

export interface RunEnvironment {
  /** The desktop app passes electron-store here (see StoreOpenOptions.createConf). */
  createConf?: StoreOpenOptions['createConf'];
  /** Where the built dashboard lives; defaults to dist/renderer beside this build. */
  rendererDir?: string | null;
}

const builtRendererDir = fileURLToPath(new URL('../../renderer/', import.meta.url));

/** An ICE server URL for the log: a TURN password is never printed. */
export function redactIceServer(url: string): string {
  return url.replace(/^(turns?:[^:@]+):[^@]+@/, '$1:***@');
}

/**
 * Starts a node. The data dir is locked first (a second node on it fails
 * with DataDirLockError), then everything that can fail is done before the
 * store is written: a start that fails (the port in use, an address this
 * machine does not have) leaves the data dir exactly as it was, or absent.
 */
export async function runNode(options: RunOptions, write: Write, env: RunEnvironment = {}): Promise<RunningNode> {
  const log = new LogLines(options.logFormat, write);
  // Before the store opens: a --ui-public start without a usable credential must leave nothing on disk.
  const uiCredential = options.uiPublic ? loadUiCredential(options.dataDir, options.uiPasswordFile ?? null) : null;
  const store = NodeStore.prepare(options.dataDir, {
    log: (level, message) => log.record('store', message, {}, level),
    defaults: options.settings,
    ...(env.createConf ? { createConf: env.createConf } : {}),
  });
  try {
    return await assemble(options, log, store, env, uiCredential);
  } catch (err) {
    store.abandon();
    throw err;
  }
}

/** Builds and starts the node on a prepared store, which it commits once the port is open. */
async function assemble(options: RunOptions, log: LogLines, store: NodeStore, env: RunEnvironment, uiCredential: UiCredential | null): Promise<RunningNode> {
  // Held in memory until the port is open: a start that fails saves none of them.
  if (Object.keys(options.settings).length > 0) store.updateSettings(options.settings);
  const settings = store.settings;
  const saved = store.state;
  const fresh = saved.cycle === 0;
  const initial = fresh && options.drift ? { ...saved, drift: options.drift } : saved;
  const defaultName = defaultNodeName(hostname(), store.identity.id);

  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const portRange = parseUdpPorts(settings.udpPorts);
  const auth = nodeHandshakeCrypto(store.identity, options.networkKey ? deriveNetworkKey(options.networkKey) : null);
  const transport = new WebRtcTransport({
    localId: store.identity.id,
    auth,
    ...(wildcard ? {} : { bindAddress: options.host === 'localhost' ? '127.0.0.1' : options.host }),
    // Host candidates only unless the user configured STUN/TURN servers (a LAN needs none).
    iceServers: settings.iceServers,
    // A pinned UDP range (udpPorts) for firewalls; the settings schema has checked it.
    ...(portRange ? { portRange } : {}),
    log: (level, message) => log.record('transport', message, {}, level),
  });
  if (portRange) log.record('start', `WebRTC UDP ports ${portRange.begin}-${portRange.end} (one per link)`, { udpPorts: settings.udpPorts });
  if (settings.iceServers.length > 0) {
    log.record('start', `ICE servers: ${settings.iceServers.map(redactIceServer).join(', ')}`, { iceServers: settings.iceServers.map(redactIceServer) });
  }
  const node = new DriftNode({
    id: store.identity.id,
    name: settings.name || defaultName,
    transport,
    params: { alpha: settings.alpha, beta: settings.beta, gamma: settings.gamma },
    cycleMs: settings.cycleMs,
    maxPeers: settings.maxPeers,
    initial,
    ...(options.seed !== null ? { random: seededRandom(options.seed) } : {}),
    awaitPeers: options.awaitPeers,
    blocked: settings.blockedPeers ?? [],
    ...(options.weights ? { weights: options.weights } : {}),
    // The network memory: a known identity without state (an imported identity, a lost state) asks its peers for its record first;
    // an identity made by this start has no record anywhere to ask for.
    memory: { crypto: auth, stored: store.memory, restore: fresh && !store.createdIdentity, persist: (memory) => store.setMemory(memory) },
  });

  let http: RunningHttpServer | null = null;
  let discovery: MdnsDiscovery | null = null;
  let discoveryStatus = (): DiscoveryStatus => discoveryOff('not started', transport.instance, http?.port ?? settings.port);
  const status = (): DashboardStatus => ({
    ...node.status(),
    listen: `${options.host}:${http?.port ?? settings.port}`,
    dataDir: options.dataDir,
    discovery: discoveryStatus(),
    ...(http ? { signaling: http.signalingStatus(), uiAccess: http.uiAccessStatus() } : {}),
  });
  const service = new NodeService({ node, store, status, defaultName });
  const bridge = new WsBridge(service);
  const rendererDir = env.rendererDir === undefined ? (existsSync(builtRendererDir) ? builtRendererDir : null) : env.rendererDir;
  try {
    http = await startHttpServer({
      host: options.host,
      port: settings.port,
      uiPublic: options.uiPublic,
      rendererDir,
      getStatus: status,
      onSignalUpgrade: (req, socket, head) => transport.handleSignalUpgrade(req, socket, head),
      onBridgeUpgrade: (req, socket, head) => bridge.handleUpgrade(req, socket, head),
      uiCredential,
      allowedOrigins: () => store.settings.allowedOrigins ?? [],
      log: (level, message) => log.record('http', message, {}, level),
    });
    // The port is ours: now the store may reach the disk (identity, settings from the command line).
    store.commit();
    uiCredential?.save();
  } catch (err) {
    await http?.close();
    bridge.close();
    await http?.close();
    await transport.shutdown();
    throw err;
  }
  const listening = http;
  if (!fresh && options.drift) log.record('start', `continuing from saved drift ${JSON.stringify(saved.drift)} at cycle ${saved.cycle}; --drift applies to a new data dir only`);

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

  const uiHost = wildcard ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  const dashboard = `http://${uiHost}:${listening.port}/`;
  const access = !uiCredential
    ? ''
    : uiCredential.newToken
      ? `#token=${uiCredential.newToken} (a new access token, shown only this once; kept in ${uiCredential.path})`
      : uiCredential.kind === 'token'
        ? ` (access token in ${uiCredential.path})`
        : ` (password from ${uiCredential.path})`;
  log.record('listening', `node ${store.identity.id} (${settings.name || defaultName}) listening on ${options.host}:${listening.port}; dashboard ${dashboard}${access}; data in ${options.dataDir}`, {
    id: store.identity.id,
    host: options.host,
    port: listening.port,
    dataDir: options.dataDir,
    uiCredential: uiCredential?.kind ?? 'none',
    drift: initial.drift,
    cycle: initial.cycle,
  });
  node.start();
  for (const address of options.peers) node.addPeer(address);
  // Peers reached before (by address) are dialled again, so a restart rejoins the mesh by itself.
  for (const entry of store.peers) if (entry.addresses[0]) node.addPeer(entry.addresses[0]);

  // LAN discovery: on by default; off with --no-discovery, the saved setting, or a node that listens on loopback only.
  const loopbackOnly = /^127\./.test(options.host) || options.host === 'localhost' || options.host === '::1';
  const discoveryOffReason = options.noDiscovery ? '--no-discovery' : !settings.discovery ? DISCOVERY_OFF_BY_SETTING : loopbackOnly ? `listening on loopback only (${options.host})` : null;
  let unwireDiscovery = (): void => {};
  if (discoveryOffReason) {
    discoveryStatus = () => discoveryOff(discoveryOffReason, transport.instance, listening.port);
  } else {
    const started = new MdnsDiscovery({
      id: store.identity.id,
      instance: transport.instance,
      port: listening.port,
      bindAddress: wildcard ? null : options.host,
      ipv6: options.host === '::',
      log: (level, message, fields) => log.record('discovery', message, fields ?? {}, level),
      hasPeers: () => node.status().peers.some((p) => p.connected),
    });
    discovery = started;
    discoveryStatus = () => started.status();
    unwireDiscovery = wireDiscovery(node, started);
    started.start();
  }

  const reloadSettings = (): void => {
    let result: ReturnType<NodeService['reloadSettings']>;
    try {
      result = service.reloadSettings();
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (!result.ok) {
      log.record('reload', `settings not reloaded: ${result.error}; the running settings stay`, { error: result.error }, 'error');
      return;
    }
    const { changed, restartRequired } = result.value;
    const applied = changed.filter((key) => !restartRequired.includes(key));
    const text =
      changed.length === 0
        ? `settings reloaded from ${store.path}: nothing changed`
        : `settings reloaded from ${store.path}: ` +
          [applied.length > 0 ? `applied ${applied.join(', ')}` : null, restartRequired.length > 0 ? `${restartRequired.join(', ')} saved, applied at the next start (restart needed)` : null]
            .filter((part) => part !== null)
            .join('; ');
    log.record('reload', text, { changed, applied, restartRequired });
  };

  let stopping: Promise<void> | null = null;
  return {
    node,
    store,
    http: listening,
    service,
    log,
    discovery,
    status,
    reloadSettings,
    stop(reason = 'shutdown') {
      stopping ??= (async () => {
        clearInterval(summaryTimer);
        // Discovery goes first, with its goodbye, so peers stop dialling this node before its links close.
        unwireDiscovery();
        await discovery?.stop();
        bridge.close();
        await node.stop(reason);
        const s = node.state;
        store.setState(s);
        store.close();
        await listening.close();
        log.record('stopped', `bye: state saved at cycle ${s.cycle}, drift ${JSON.stringify(s.drift)}`, { cycle: s.cycle, drift: s.drift });
      })();
      return stopping;
    },
  };
}
