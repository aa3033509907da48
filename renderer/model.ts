/**
 * What the dashboard knows: the latest status, merged with the events that
 * arrived since, and per visible node its glide and trail. DOM-free: the
 * plane and the panels read it, the bridge writes it; `now` is passed in
 * (performance.now() in the page, anything in tests).
 */
import type { DashboardStatus, DialTarget, LogLevel, NodeEventMessage, PeerStatus, Settings } from '../main/bridge/api.js';
import { spread } from '../main/model/drift.js';
import { INTENSITY_SMOOTHING } from '../main/model/limits.js';
import { nodeLabel } from './format.js';
import { Glide, Trail, type Point } from './interpolate.js';
import { LogBook, type LogEntry } from './log-book.js';

export type { LogEntry };

/** Log lines kept for the log view. */
export const LOG_CAPACITY = 200;
/** Assumed cycle period until the first status says otherwise. */
const DEFAULT_CYCLE_MS = 100;

/**
 * self; a linked peer, fresh or stale (its live replica); or a node known
 * only from the network memory (docs/status-api.md "network"): 'known'
 * (its record is fresh), 'known-stale' (its owner has gone quiet) or
 * 'offline' (seen leaving, or only a holder's copy is left).
 */
export type LinkState = 'self' | 'fresh' | 'stale' | 'known' | 'known-stale' | 'offline';

/** A node shown because this node or a peer linked to it: drawn, and counted in the local spread. */
export function isDirect(link: LinkState): boolean {
  return link === 'self' || link === 'fresh' || link === 'stale';
}

/** One line of the network graph beyond this node's own links: from the records' peer lists, or a peer's `nbrs` list. */
export interface GraphLink {
  a: string;
  b: string;
  /** 'record': an owner signed it; 'nbrs': a linked peer said so (a claim, shown when no record covers it). */
  source: 'record' | 'nbrs';
}

/** One dot on the plane. */
export interface PlaneNode {
  id: string;
  label: string;
  self: boolean;
  intensity: number;
  link: LinkState;
  glide: Glide;
  trail: Trail;
}

/** How a peer row describes its link. */
export type PeerLinkState = 'linked' | 'stale' | 'disconnected';

export function peerLinkState(peer: PeerStatus): PeerLinkState {
  if (!peer.connected) return 'disconnected';
  return peer.fresh ? 'linked' : 'stale';
}

/** A peer is on the plane while it is linked (fresh or stale) and we hold a replica of its drift. */
export function onPlane(peer: PeerStatus): peer is PeerStatus & { drift: [number, number] } {
  return peer.connected && peer.drift !== null && Number.isFinite(peer.drift[0]) && Number.isFinite(peer.drift[1]);
}

export class DashboardModel {
  status: DashboardStatus | null = null;
  settings: Settings | null = null;
  /** The dots, keyed by node id; self included. */
  readonly nodes = new Map<string, PlaneNode>();
  /** Log lines in time order, oldest first (see LogBook for why arrival order is not enough). */
  readonly logs = new LogBook(LOG_CAPACITY);
  /** Bumped on every change the panels show. */
  revision = 0;
  private readonly peers = new Map<string, PeerStatus>();
  /** Cycle of the newest own drift applied: an older status snapshot must not move the dot back. */
  private selfCycle = -1;

  get selfId(): string | null {
    return this.status?.id ?? null;
  }

  get cycleMs(): number {
    return this.status?.config.cycleMs ?? DEFAULT_CYCLE_MS;
  }

  get paused(): boolean {
    return this.status?.paused ?? false;
  }

  /** Peers, linked first, then by name and id. */
  peerList(): PeerStatus[] {
    const order: Record<PeerLinkState, number> = { linked: 0, stale: 1, disconnected: 2 };
    return [...this.peers.values()].sort(
      (a, b) =>
        order[peerLinkState(a)] - order[peerLinkState(b)] ||
        nodeLabel(a.name, a.id).localeCompare(nodeLabel(b.name, b.id)) ||
        a.id.localeCompare(b.id),
    );
  }

  /** Addresses being dialled that have no linked peer behind them (those say why not). */
  pendingDials(): DialTarget[] {
    const targets = this.status?.dialTargets ?? [];
    const linkedAddresses = new Set<string>();
    for (const p of this.peers.values()) if (p.connected && p.dialledAddress) linkedAddresses.add(p.dialledAddress);
    return targets.filter((t) => {
      if (linkedAddresses.has(t.address)) return false;
      const peer = t.peerId ? this.peers.get(t.peerId) : undefined;
      return !(peer?.connected ?? false);
    });
  }

  /** Forgets the order of own cycles (a reconnect may meet a restarted node whose cycle went back a little). */
  resetSequence(): void {
    this.selfCycle = -1;
  }

  applyStatus(next: DashboardStatus, now: number): void {
    if (this.status && this.status.id !== next.id) this.forgetNodes();
    const prev = this.status;
    if (prev && next.cycle < this.selfCycle) {
      // This snapshot left the node before the latest cycle event arrived: keep the newer own state.
      next.cycle = prev.cycle;
      next.state = prev.state;
      next.intensity = prev.intensity;
    } else {
      this.selfCycle = next.cycle;
    }
    this.status = next;
    this.peers.clear();
    for (const peer of next.peers) this.peers.set(peer.id, peer);
    this.syncNodes(now);
    this.revision++;
  }

  applyEvent(event: NodeEventMessage, now: number): void {
    switch (event.type) {
      case 'cycle': {
        const s = this.status;
        if (!s) return;
        this.selfCycle = event.cycle;
        s.cycle = event.cycle;
        s.state = { drift: [event.drift[0], event.drift[1]], vu: event.vu, tc: event.tc };
        const u = Math.hypot(event.entropy[0], event.entropy[1]);
        if (Number.isFinite(u)) s.intensity += INTENSITY_SMOOTHING * (u - s.intensity);
        for (const [id, drift] of Object.entries(event.peerDrifts ?? {})) {
          const peer = this.peers.get(id);
          if (peer) peer.drift = [drift[0], drift[1]];
        }
        this.syncNodes(now);
        this.revision++;
        return;
      }
      case 'peer': {
        this.peers.set(event.peer.id, event.peer);
        if (this.status) this.status.peers = [...this.peers.values()];
        this.syncNodes(now);
        this.revision++;
        return;
      }
      case 'log':
        this.addLog(event.level, event.message, event.at);
        return;
      case 'paused':
        if (this.status) this.status.paused = event.paused;
        this.revision++;
        return;
      case 'settings': {
        this.settings = event.settings;
        const s = this.status;
        if (s) {
          s.config = { ...s.config, cycleMs: event.settings.cycleMs, alpha: event.settings.alpha, beta: event.settings.beta, gamma: event.settings.gamma, maxPeers: event.settings.maxPeers };
          if (event.settings.name.trim() !== '') s.name = event.settings.name.trim();
          this.syncSelf(now);
        }
        this.revision++;
        return;
      }
    }
  }

  addLog(level: LogLevel, message: string, at: number): void {
    if (this.logs.add(level, message, at)) this.revision++;
  }

  /** The drift each dot is heading to, by node id (self included). */
  positions(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const node of this.nodes.values()) out[node.id] = node.glide.target;
    return out;
  }

  /** Latest drifts of the dots on the plane. */
  targets(): Point[] {
    return [...this.nodes.values()].map((n) => n.glide.target);
  }

  /** Spread of this node and its linked peers: RMS distance to their centroid (the model's spread()). */
  spread(): number {
    return spread(this.targetsWhere((n) => isDirect(n.link)));
  }

  /** Dots of this node and its linked peers. */
  localCount(): number {
    let n = 0;
    for (const node of this.nodes.values()) if (isDirect(node.link)) n++;
    return n;
  }

  /** The network-wide spread: every node on the plane that is not offline (linked or known from the memory). */
  networkSpread(): { spread: number; nodes: number; offline: number } {
    const live = this.targetsWhere((n) => n.link !== 'offline');
    return { spread: spread(live), nodes: live.length, offline: this.nodes.size - live.length };
  }

  /**
   * The graph beyond this node's own links: every link a record lists
   * between two nodes on the plane, then the links of the peers' `nbrs`
   * lists that no record covers. Each pair once; this node's own links are
   * drawn apart (from the live peer list).
   */
  graphLinks(): GraphLink[] {
    const selfId = this.selfId;
    const seen = new Set<string>();
    const out: GraphLink[] = [];
    const add = (a: string, b: string, source: GraphLink['source']) => {
      if (a === b || a === selfId || b === selfId || !this.nodes.has(a) || !this.nodes.has(b)) return;
      const key = a < b ? `${a} ${b}` : `${b} ${a}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ a, b, source });
    };
    for (const k of this.status?.network?.nodes ?? []) for (const p of k.peers) add(k.id, p, 'record');
    for (const peer of this.peers.values()) if (peer.connected) for (const n of peer.nbrs ?? []) add(peer.id, n.id, 'nbrs');
    return out;
  }

  private targetsWhere(keep: (node: PlaneNode) => boolean): Point[] {
    const out: Point[] = [];
    for (const node of this.nodes.values()) if (keep(node)) out.push(node.glide.target);
    return out;
  }

  private forgetNodes(): void {
    this.nodes.clear();
    this.peers.clear();
    this.selfCycle = -1;
  }

  private syncSelf(now: number): void {
    const s = this.status;
    if (!s) return;
    this.upsert(s.id, s.name, true, s.intensity, 'self', s.state.drift, now);
  }

  private syncNodes(now: number): void {
    const s = this.status;
    if (!s) return;
    const keep = new Set<string>([s.id]);
    this.syncSelf(now);
    for (const peer of this.peers.values()) {
      if (peer.id === s.id || !onPlane(peer)) continue;
      keep.add(peer.id);
      this.upsert(peer.id, peer.name, false, peer.intensity, peer.fresh ? 'fresh' : 'stale', peer.drift, now);
    }
    // The rest of the network, from the memory's records (their drift when signed), then from the peers' neighbour lists.
    for (const k of s.network?.nodes ?? []) {
      if (keep.has(k.id)) continue;
      keep.add(k.id);
      this.upsert(k.id, k.name, false, 0, k.status === 'fresh' ? 'known' : k.status === 'stale' ? 'known-stale' : 'offline', k.drift, now);
    }
    for (const peer of this.peers.values()) {
      if (!onPlane(peer)) continue;
      for (const n of peer.nbrs ?? []) {
        if (keep.has(n.id) || n.drift === null) continue;
        keep.add(n.id);
        this.upsert(n.id, '', false, 0, 'known', n.drift, now);
      }
    }
    for (const id of [...this.nodes.keys()]) if (!keep.has(id)) this.nodes.delete(id);
  }

  private upsert(id: string, name: string, self: boolean, intensity: number, link: LinkState, drift: readonly [number, number], now: number): void {
    if (!Number.isFinite(drift[0]) || !Number.isFinite(drift[1])) return;
    let node = this.nodes.get(id);
    if (!node) {
      node = { id, label: nodeLabel(name, id), self, intensity, link, glide: new Glide([drift[0], drift[1]], now, this.cycleMs), trail: new Trail() };
      this.nodes.set(id, node);
      return;
    }
    node.label = nodeLabel(name, id);
    node.intensity = intensity;
    node.link = link;
    const t = node.glide.target;
    if (t[0] !== drift[0] || t[1] !== drift[1]) node.glide.retarget([drift[0], drift[1]], now, this.cycleMs);
  }
}
