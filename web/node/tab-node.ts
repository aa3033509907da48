/**
 * A browser tab as a node (docs/browser-nodes.md): the tab's identity and
 * state from IndexedDB, the same DriftNode the native node runs, over a
 * BrowserTransport; linked to the node that served the page (its hub) and,
 * through the hub's relayed signaling, directly to the other tabs the hub
 * lists. Exposes the dashboard's API (LvsApi), so the dashboard page itself
 * shows this tab's node.
 */
import type { DashboardStatus, LvsApi, NodeEventMessage, Result, Settings, SettingsUpdate } from '../../main/bridge/api.js';
import { DEFAULT_SETTINGS, validateSettingsPatch } from '../../main/store/schema.js';
import { DriftNode, type CycleTimer } from '../../main/node/drift-node.js';
import type { HandshakeCrypto } from '../../main/protocol/handshake.js';
import { NBRS_EVERY_CYCLES } from '../../main/model/limits.js';
import { parseHostPort } from '../../main/protocol/host-port.js';
import { BrowserTransport } from './browser-transport.js';
import { loadTabIdentity, type TabIdentity, type TabState } from './tab-identity.js';

/** The tab saves its state this often (cycles), and when the page is hidden or goes away. */
const SAVE_EVERY_CYCLES = 20;
/** Settings a tab has; the rest (port, discovery, ICE, UDP ports, origins) belong to a process with a port. */
const TAB_SETTINGS: readonly (keyof Settings)[] = ['name', 'alpha', 'beta', 'gamma', 'cycleMs', 'maxPeers', 'blockedPeers'];
/** A relayed-dial address (BrowserTransport): "relay:<relay id>:<peer id>". */
const RELAY_PREFIX = 'relay:';

export interface TabNodeOptions {
  /** host:port of the node that served the page: the tab's hub. */
  hub: string;
  /** The cycle clock (a worker in the page; setTimeout when absent). */
  cycleTimer?: CycleTimer;
  /** The private network's passphrase, when the hub has one. */
  networkPassphrase?: string | null;
  /** Identity and state (IndexedDB by default). */
  identity?: TabIdentity;
}

function discoveryOff(instance: string): DashboardStatus['discovery'] {
  return { enabled: false, off: 'a browser tab cannot use LAN discovery: it joins the node that served it', service: '_lvs._tcp', instance, port: 0, interfaces: [], peers: [], hint: null, log: [] };
}

export class TabNode {
  readonly node: DriftNode;
  readonly transport: BrowserTransport;
  readonly api: LvsApi;
  private settings: Settings;
  private readonly listeners = new Set<(event: NodeEventMessage) => void>();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly identity: TabIdentity,
    readonly hub: string,
    transport: BrowserTransport,
    cycleTimer: CycleTimer | undefined,
    /** Signs this tab's state records for the network memory (docs/protocol.md "Network memory"). */
    crypto: HandshakeCrypto,
  ) {
    this.transport = transport;
    const saved = identity.settings;
    this.settings = { ...DEFAULT_SETTINGS, discovery: false, port: 0, ...saved };
    const initial: TabState = identity.state ?? { drift: [Math.random() * 10 - 5, Math.random() * 10 - 5], vu: 0, tc: 1, cycle: 0 };
    this.node = new DriftNode({
      id: identity.id,
      name: this.settings.name || `tab-${identity.id.slice(0, 4)}`,
      transport,
      params: { alpha: this.settings.alpha, beta: this.settings.beta, gamma: this.settings.gamma },
      cycleMs: this.settings.cycleMs,
      maxPeers: this.settings.maxPeers,
      initial,
      kind: 'browser',
      blocked: this.settings.blockedPeers ?? [],
      // The tab gossips and holds copies like any node, while it is open (they are not kept across reloads).
      memory: { crypto },
      ...(cycleTimer ? { cycleTimer } : {}),
    });
    transport.setRelay((via, to, sid, payload) => this.node.sendSignal(via, to, sid, payload));
    this.node.setSignalInbox((signal) => transport.deliverRelayed(signal));
    this.node.events.on('cycle', (e) => {
      this.emit({ type: 'cycle', ...e });
      if (e.cycle % NBRS_EVERY_CYCLES === 0) this.meshWithTabs();
      if (e.cycle % SAVE_EVERY_CYCLES === 0) void this.save();
    });
    this.node.events.on('peer', (e) => this.emit({ type: 'peer', ...e }));
    this.node.events.on('log', (e) => {
      if (e.level !== 'debug') this.emit({ type: 'log', ...e });
    });
    this.api = this.makeApi();
  }

  start(): void {
    this.node.addPeer(this.hub);
    this.node.start();
  }

  /** Saves the state now (the page is going away or hidden). */
  save(): Promise<void> {
    const state = this.node.state;
    this.saving = this.saving.then(() => this.identity.save({ state, settings: this.ownSettings() })).catch(() => undefined);
    return this.saving;
  }

  status(): DashboardStatus {
    return {
      ...this.node.status(),
      listen: `this browser tab, joined to ${this.hub}`,
      dataDir: 'this browser (IndexedDB)',
      discovery: discoveryOff(this.transport.instance),
    };
  }

  /**
   * Keeps this tab linked straight to every other tab its hubs list: of two
   * tabs the one with the lower id dials (through the hub's relay), so the
   * two never cross. Addresses of tabs no hub lists any more are forgotten.
   */
  private meshWithTabs(): void {
    const wanted = new Set<string>();
    for (const peer of this.node.linkedPeers()) {
      if (peer.kind !== 'native') continue;
      for (const n of this.node.neighboursOf(peer.id) ?? []) {
        if (n.kind === 'browser' && n.id !== this.identity.id && this.identity.id < n.id) wanted.add(`${RELAY_PREFIX}${peer.id}:${n.id}`);
      }
    }
    // One route per tab is enough: a tab two hubs list is dialled through the first.
    const byTab = new Map<string, string>();
    for (const address of wanted) {
      const tab = address.slice(address.lastIndexOf(':') + 1);
      if (!byTab.has(tab)) byTab.set(tab, address);
    }
    const keep = new Set(byTab.values());
    for (const target of this.node.dialTargets()) {
      if (target.address.startsWith(RELAY_PREFIX) && !keep.has(target.address)) this.node.removePeer(target.address);
    }
    for (const [tab, address] of byTab) this.node.addPeer(address, tab);
  }

  private ownSettings(): Partial<Settings> {
    const out: Partial<Record<keyof Settings, unknown>> = {};
    for (const key of TAB_SETTINGS) if (this.settings[key] !== undefined) out[key] = this.settings[key];
    return out as Partial<Settings>;
  }

  private emit(event: NodeEventMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // one broken listener must not stop the others
      }
    }
  }

  private makeApi(): LvsApi {
    const ok = <T>(value: T): Promise<Result<T>> => Promise.resolve({ ok: true, value });
    const fail = (error: string): Promise<{ ok: false; error: string }> => Promise.resolve({ ok: false, error });
    return {
      getStatus: () => ok(this.status()),
      getSettings: () => ok({ ...this.settings }),
      addPeer: (address) => {
        // The rules a native node's addPeer applies (parseSignalAddress is this same parser).
        const parsed = parseHostPort(typeof address === 'string' ? address.trim() : address);
        if (!parsed.ok) return fail(`"${String(address).slice(0, 80)}": ${parsed.detail}`);
        const text = parsed.value.address;
        if (!this.node.addPeer(text)) return fail(`${text} is already in the peer list`);
        return ok({ address: text });
      },
      updateSettings: (patch) => {
        const checked = validateSettingsPatch(patch);
        if (!checked.ok) return fail(checked.error);
        const foreign = Object.keys(checked.settings).filter((k) => !TAB_SETTINGS.includes(k as keyof Settings) && checked.settings[k as keyof Settings] !== this.settings[k as keyof Settings]);
        if (foreign.length > 0) return fail(`a browser tab has no ${foreign.join(', ')}: those belong to a node process`);
        this.settings = { ...this.settings, ...checked.settings };
        const s = this.settings;
        this.node.configure({ params: { alpha: s.alpha, beta: s.beta, gamma: s.gamma }, cycleMs: s.cycleMs, maxPeers: s.maxPeers, name: s.name || `tab-${this.identity.id.slice(0, 4)}`, blocked: s.blockedPeers ?? [] });
        void this.save();
        this.emit({ type: 'settings', settings: { ...s } });
        return ok<SettingsUpdate>({ settings: { ...s }, restartRequired: [] });
      },
      setPaused: (paused) => {
        if (typeof paused !== 'boolean') return fail('paused must be true or false');
        this.node.setPaused(paused);
        this.emit({ type: 'paused', paused });
        return ok({ paused });
      },
      onEvent: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    };
  }
}

/** Loads (or makes) this tab's identity and starts its node, linked to `hub`. */
export async function startTabNode(options: TabNodeOptions): Promise<TabNode> {
  const identity = options.identity ?? (await loadTabIdentity());
  let tab: TabNode | null = null;
  const auth = await identity.handshake(options.networkPassphrase ?? null);
  const transport = new BrowserTransport({
    localId: identity.id,
    auth,
    log: (level, message) => {
      if (level !== 'debug') tab?.node.events.emit('log', { level, message, at: Date.now() });
    },
  });
  tab = new TabNode(identity, options.hub, transport, options.cycleTimer, auth);
  tab.start();
  return tab;
}
