/**
 * The contract between the node and any UI: the one typed API the renderer
 * sees (through Electron's preload in the desktop app, through a WebSocket
 * bridge in a browser), the channel names that carry it, and the shapes of
 * status and events. Pure types and constants: main, preload and renderer
 * all import this file and nothing else of each other.
 */
import type { RejectReason } from '../protocol/messages.js';
import type { DiscoveryStatus } from '../discovery/types.js';
import type { Settings } from '../store/schema.js';

export type { Settings };

/** Every IPC / bridge channel, in one list; the Channel type is derived from it. */
export const CHANNELS = [
  'lvs:get-status',
  'lvs:get-settings',
  'lvs:add-peer',
  'lvs:update-settings',
  'lvs:set-paused',
  'lvs:event',
] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Operations only the desktop app offers: they open the system's file
 * dialogs in the main process, so the key never passes through the page.
 * The preload exposes them; a browser dashboard has none.
 */
export const DESKTOP_CHANNELS = ['lvs:export-identity', 'lvs:import-identity'] as const;
export type DesktopChannel = (typeof DESKTOP_CHANNELS)[number];

/** The desktop app's extra methods on window.lvs (docs/store.md, "Moving a node to another machine"). */
export interface DesktopApi {
  /** Asks where to save, then writes this node's identity there; null when the user cancelled. */
  exportIdentity(): Promise<Result<{ file: string } | null>>;
  /** Asks for a backup file and confirmation, then imports it and restarts the app; null when cancelled. */
  importIdentity(): Promise<Result<{ id: string } | null>>;
}

export const DESKTOP_CHANNEL_OF = {
  exportIdentity: 'lvs:export-identity',
  importIdentity: 'lvs:import-identity',
} as const satisfies Record<keyof DesktopApi, DesktopChannel>;

/** Calls the renderer may make; the event channel flows the other way. */
export type RequestChannel = Exclude<Channel, 'lvs:event'>;

export interface PeerStatus {
  id: string;
  name: string;
  drift: [number, number] | null;
  /** Smoothed |u| of the peer's entropy packets, 0..sqrt(2). */
  intensity: number;
  connected: boolean;
  fresh: boolean;
  lastSeenCycles: number | null;
  address: string | null;
  /** The host:port we dialled to reach this peer (worth keeping in the peer book), null for inbound links. */
  dialledAddress: string | null;
  messagesIn: number;
  messagesOut: number;
  rejects: Partial<Record<RejectReason, number>>;
  /** Trust score in (0, 1): 0.5 for a newcomer (docs/drift-model.md "Trust"). */
  trust: number;
  /** Why this linked peer does not pull the node now (stale, low trust, outlier...), or null. */
  excluded: string | null;
  /** What runs the peer: a native node or a browser tab (docs/browser-nodes.md). */
  kind: 'native' | 'browser';
  /** The linked peer's own peers as it last reported them (`nbrs`; a claim, display only), or null. */
  nbrs: Array<{ id: string; drift: [number, number] | null; kind: 'native' | 'browser' }> | null;
}

/** What the node relayed between its browser peers (docs/browser-nodes.md): signaling only. */
export interface RelayStatus {
  /** Signaling frames forwarded from one peer to another. */
  forwarded: number;
  /** Frames not forwarded, by reason. */
  dropped: Record<string, number>;
}

/** One node of the network as this node's record book knows it (docs/status-api.md "network"). */
export interface NetworkNode {
  id: string;
  name: string;
  /** Its drift, tc and cycle when it signed the record (ageMs ago). */
  drift: [number, number];
  tc: number;
  cycle: number;
  /** Its direct peers, as it listed them (at most MAX_RECORD_PEERS). */
  peers: string[];
  seq: number;
  /** fresh: refreshed lately; stale: quiet for RECORD_STALE_REFRESHES refreshes; offline: seen leaving; copy: kept by this node, a holder, past the drop time. */
  status: 'fresh' | 'stale' | 'offline' | 'copy';
  /** Milliseconds since its owner signed the record, as far as the gossip path tells. */
  ageMs: number;
  /** This node holds its copy (the shard map). */
  held: boolean;
  self: boolean;
}

/** The network memory's view (issue 12): every node this node knows of, and what the memory refused. */
export interface NetworkStatus {
  nodes: NetworkNode[];
  /** Records and requests refused, by reason (docs/protocol.md "Network memory"). */
  refusals: Record<string, number>;
  /** Records received again that were already held. */
  duplicates: number;
  /** Exchanges this node started (one per gossip interval with a peer that speaks the memory). */
  exchanges: number;
  /** How often this node re-signs its own record now (grows with the known nodes). */
  refreshMs: number;
  /** The nodes that hold this node's copy, by the shard map as this node computes it. */
  holders: string[];
  /** 'new': signs its own records; 'waiting': started without state, asking peers for a copy of its record; 'restored': continued from a copy. */
  restore: { state: 'new' | 'waiting' | 'restored'; seq: number | null; cycle: number | null };
}

export interface DialTarget {
  address: string;
  /** Id of the node last reached at this address (a new id there is a new peer). */
  peerId: string | null;
  failures: number;
  lastError: string | null;
  nextDialAt: number | null;
}

export interface NodeStatus {
  id: string;
  name: string;
  cycle: number;
  state: { drift: [number, number]; vu: number; tc: number };
  peers: PeerStatus[];
  config: { cycleMs: number; alpha: number; beta: number; gamma: number; maxPeers: number; staleCycles: number };
  running: boolean;
  paused: boolean;
  waitingForPeers: boolean;
  uptimeMs: number;
  cyclesPerSecond: number;
  /** This node's own entropy intensity (smoothed |u|), for colouring its dot like the peers'. */
  intensity: number;
  messages: { in: number; out: number };
  rejects: Partial<Record<RejectReason, number>>;
  dialTargets: DialTarget[];
  /** The peer weighting of the drift step: 'wmsr' (robust, the default), 'seed' or 'metropolis'. */
  weights: 'wmsr' | 'seed' | 'metropolis';
  /** Peers cut off (low trust, a burst of invalid frames) or blocked by the user, and why. */
  heldOff: Array<{ id: string; reason: string; until: number | null }>;
  /** What runs this node. */
  kind: 'native' | 'browser';
  relay: RelayStatus;
  /** The network memory (absent on a node that does not run it). */
  network?: NetworkStatus;
  /** What the proof of identity refused (docs/protocol.md "Handshake"); absent on the in-memory transport. */
  proofs?: {
    proven: number;
    failures: Record<string, number>;
    refused: Record<string, number>;
    /** Our dials whose fast setup failed before the channel opened and were set up again (docs/protocol.md "Setup order"). */
    setupRetries?: number;
  };
}

/** What the status API and the bridge return: the node's status plus where it runs. */
export interface DashboardStatus extends NodeStatus {
  /** host:port of the node's HTTP/signaling port. */
  listen: string;
  dataDir: string;
  /** LAN discovery: interfaces served, peers heard, its log and, after 30 s alone, a hint; says why when off. */
  discovery: DiscoveryStatus;
  /** What the node's port refused (signaling gate, HTTP limits), by reason; absent before the port is open. */
  signaling?: SignalingStatus;
  /** Who may use the dashboard and the status API, and what was refused. */
  uiAccess?: UiAccessStatus;
}

/**
 * Why the node's port refused a stranger (docs/security.md): a /signal page
 * of a foreign origin, too many sessions in flight or too many new ones
 * from one address, too many connections from one address or from all, a
 * full address table, a request whose headers or body did not arrive in
 * time, a request head too large, or one HTTP could not parse.
 */
export const SIGNAL_REFUSALS = [
  'origin',
  'address-sessions',
  'address-rate',
  'address-connections',
  'server-connections',
  'tracking-full',
  'request-timeout',
  'headers-too-large',
  'bad-request',
] as const;
export type SignalRefusal = (typeof SIGNAL_REFUSALS)[number];

export interface SignalingStatus {
  refused: Partial<Record<SignalRefusal, number>>;
  /** Remote addresses the gate keeps counters for now. */
  tracked: number;
}

/** Why a dashboard or status request was refused with --ui-public: no credential, a wrong one, or too many wrong ones from that address. */
export const UI_ACCESS_REFUSALS = ['missing', 'wrong', 'locked-out'] as const;
export type UiAccessRefusal = (typeof UI_ACCESS_REFUSALS)[number];

export interface UiAccessStatus {
  /** 'none': loopback clients only, no credential; otherwise what --ui-public asks for. */
  credential: 'none' | 'token' | 'password';
  refused: Partial<Record<UiAccessRefusal, number>>;
  /** Addresses whose failed attempts are remembered now. */
  tracked: number;
}

export interface CycleEvent {
  cycle: number;
  drift: [number, number];
  diff: [number, number];
  entropy: [number, number];
  vu: number;
  tc: number;
  freshPeers: number;
  /** This node's replica of each linked peer's drift after the cycle, so a UI moves peers every cycle too. */
  peerDrifts: Record<string, [number, number]>;
  at: number;
}

export type PeerEventKind = 'linked' | 'hello' | 'unlinked' | 'stale' | 'fresh' | 'rejected';
export interface PeerEvent {
  kind: PeerEventKind;
  peer: PeerStatus;
  detail: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface LogEvent {
  level: LogLevel;
  message: string;
  at: number;
}

/** One message on the event channel. */
export type NodeEventMessage =
  | ({ type: 'cycle' } & CycleEvent)
  | ({ type: 'peer' } & PeerEvent)
  | ({ type: 'log' } & LogEvent)
  | { type: 'paused'; paused: boolean }
  | { type: 'settings'; settings: Settings };

/** Every call answers with a value or one clear line; nothing throws across the bridge. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SettingsUpdate {
  settings: Settings;
  /** Fields that were saved but only take effect after a restart (e.g. the port). */
  restartRequired: (keyof Settings)[];
}

/** The API the renderer sees, one method per operation. */
export interface LvsApi {
  getStatus(): Promise<Result<DashboardStatus>>;
  getSettings(): Promise<Result<Settings>>;
  /** Adds "host:port" to the peers this node keeps linked. */
  addPeer(address: string): Promise<Result<{ address: string }>>;
  updateSettings(patch: Partial<Settings>): Promise<Result<SettingsUpdate>>;
  setPaused(paused: boolean): Promise<Result<{ paused: boolean }>>;
  /** Subscribes to cycles, peer changes and log lines; returns the unsubscribe function. */
  onEvent(listener: (event: NodeEventMessage) => void): () => void;
}

/** Which API method each request channel carries. */
export const CHANNEL_OF = {
  getStatus: 'lvs:get-status',
  getSettings: 'lvs:get-settings',
  addPeer: 'lvs:add-peer',
  updateSettings: 'lvs:update-settings',
  setPaused: 'lvs:set-paused',
} as const satisfies Record<Exclude<keyof LvsApi, 'onEvent'>, RequestChannel>;

/**
 * The WebSocket bridge (`ws://<node>/bridge`) carries the same API to a
 * browser: requests with an id, replies with that id, and pushed events.
 */
export const BRIDGE_PATH = '/bridge';
/** WebSocket subprotocol of the bridge; the node answers with it whenever a page offers it. */
export const BRIDGE_PROTOCOL = 'lvs-bridge';
/**
 * With --ui-public a page proves it holds the credential by offering a
 * second subprotocol, this prefix and the credential's UTF-8 bytes in
 * base64url (browsers cannot set headers on a WebSocket; a query string
 * would end up in logs and browser history). The node never echoes it.
 */
export const BRIDGE_AUTH_PROTOCOL_PREFIX = 'lvs-auth.';
/** GET here answers 204 when the request carries a usable credential (or needs none), 401 or 429 otherwise. */
export const AUTH_CHECK_PATH = '/api/auth';
/** The start log shows a new access token as `http://host:port/#token=...`: a fragment never reaches a server or its logs. */
export const TOKEN_FRAGMENT_KEY = 'token';
export interface BridgeRequest {
  id: number;
  channel: RequestChannel;
  args: unknown[];
}
export type BridgeServerFrame = { id: number; result: Result<unknown> } | { event: NodeEventMessage };
