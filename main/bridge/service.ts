/**
 * The node side of the UI API: one object that answers every request
 * channel and streams events. Electron's IPC wrapper and the headless
 * WebSocket bridge are thin doors onto this; neither holds logic of its own.
 */
import type { DriftNode } from '../node/drift-node.js';
import { validateSettingsPatch, type Settings } from '../store/schema.js';
import { changedSettings, type NodeStore } from '../store/store.js';
import { parseSignalAddress } from '../transport/signaling.js';
import type { DashboardStatus, NodeEventMessage, RequestChannel, Result, SettingsUpdate } from './api.js';
import { checkPayload } from './payloads.js';

/** Log lines a new subscriber may ask to see first. */
export const LOG_REPLAY_LINES = 100;

/**
 * Settings that are saved at once but need a restart to apply: the port is
 * bound, discovery started and the transport (with its ICE servers and UDP
 * port range) built when the node starts. Everything else (alpha, beta, gamma, cycleMs,
 * maxPeers, name) applies live.
 */
export const RESTART_REQUIRED: readonly (keyof Settings)[] = ['port', 'discovery', 'iceServers', 'udpPorts'];

/** What reloading the settings file did (SIGHUP). */
export interface SettingsReloaded extends SettingsUpdate {
  /** Fields whose value in the file differed from the running settings. */
  changed: (keyof Settings)[];
}

export interface ServiceDeps {
  node: DriftNode;
  store: NodeStore;
  status(): DashboardStatus;
  /** Host name used when the name setting is empty. */
  defaultName: string;
}

export class NodeService {
  private readonly listeners = new Set<(event: NodeEventMessage) => void>();
  private readonly recentLog: NodeEventMessage[] = [];
  /** Rejected requests by channel, for diagnostics. */
  readonly rejected = new Map<string, number>();

  constructor(private readonly deps: ServiceDeps) {
    deps.node.events.on('cycle', (e) => this.emit({ type: 'cycle', ...e }));
    deps.node.events.on('peer', (e) => this.emit({ type: 'peer', ...e }));
    deps.node.events.on('log', (e) => {
      if (e.level === 'debug') return;
      const event: NodeEventMessage = { type: 'log', ...e };
      this.recentLog.push(event);
      if (this.recentLog.length > LOG_REPLAY_LINES) this.recentLog.shift();
      this.emit(event);
    });
  }

  /**
   * Subscribes to events. With `replayLog`, the last LOG_REPLAY_LINES log
   * lines come first, so a dashboard opened late still sees how the node got here.
   */
  subscribe(listener: (event: NodeEventMessage) => void, options: { replayLog?: boolean } = {}): () => void {
    if (options.replayLog) for (const event of this.recentLog) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates and answers one request. Never throws. */
  handle(channel: RequestChannel, args: unknown): Result<unknown> {
    const checked = checkPayload(channel, args);
    if (!checked.ok) return this.reject(channel, checked.error);
    try {
      switch (channel) {
        case 'lvs:get-status':
          return { ok: true, value: this.deps.status() };
        case 'lvs:get-settings':
          return { ok: true, value: this.deps.store.settings };
        case 'lvs:add-peer':
          return this.addPeer(checked.args[0] as string);
        case 'lvs:update-settings':
          return this.updateSettings(checked.args[0]);
        case 'lvs:set-paused':
          return this.setPaused(checked.args[0] as boolean);
      }
    } catch (err) {
      return this.reject(channel, `${channel}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private addPeer(input: string): Result<{ address: string }> {
    const parsed = parseSignalAddress(input.trim());
    if (!parsed.ok) return this.reject('lvs:add-peer', `"${input}": ${parsed.detail}`);
    const address = parsed.value.address;
    const added = this.deps.node.addPeer(address);
    if (!added) return this.reject('lvs:add-peer', `${address} is already in the peer list`);
    return { ok: true, value: { address } };
  }

  private updateSettings(patch: unknown): Result<SettingsUpdate> {
    const checked = validateSettingsPatch(patch);
    if (!checked.ok) return this.reject('lvs:update-settings', checked.error);
    const before = this.deps.store.settings;
    const settings = this.deps.store.updateSettings(checked.settings);
    return { ok: true, value: this.apply(before, settings) };
  }

  /**
   * Re-reads the settings from the store file (SIGHUP: a user or a tool
   * edited it) and applies them the way a settings update from the UI is
   * applied. An invalid file changes nothing and is one error line.
   */
  reloadSettings(): Result<SettingsReloaded> {
    const before = this.deps.store.settings;
    const reloaded = this.deps.store.reloadSettings();
    if (!reloaded.ok) return { ok: false, error: reloaded.error };
    if (reloaded.changed.length === 0) return { ok: true, value: { settings: reloaded.settings, restartRequired: [], changed: [] } };
    return { ok: true, value: { ...this.apply(before, reloaded.settings), changed: reloaded.changed } };
  }

  /** Hands saved settings to the running node and tells every UI; says which changed fields wait for a restart. */
  private apply(before: Settings, settings: Settings): SettingsUpdate {
    this.deps.node.configure({
      params: { alpha: settings.alpha, beta: settings.beta, gamma: settings.gamma },
      cycleMs: settings.cycleMs,
      maxPeers: settings.maxPeers,
      name: settings.name || this.deps.defaultName,
      blocked: settings.blockedPeers ?? [],
    });
    const changed = changedSettings(before, settings);
    const restartRequired = RESTART_REQUIRED.filter((key) => changed.includes(key));
    this.emit({ type: 'settings', settings });
    return { settings, restartRequired };
  }

  private setPaused(paused: boolean): Result<{ paused: boolean }> {
    this.deps.node.setPaused(paused);
    this.emit({ type: 'paused', paused });
    return { ok: true, value: { paused } };
  }

  private reject(channel: string, error: string): { ok: false; error: string } {
    this.rejected.set(channel, (this.rejected.get(channel) ?? 0) + 1);
    return { ok: false, error };
  }

  private emit(event: NodeEventMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber (a closed window, a dropped socket) must not stop the others.
      }
    }
  }
}
