/**
 * LvsApi over the headless node's WebSocket bridge, for the dashboard in a
 * browser (Electron's preload provides window.lvs instead). Requests carry
 * an id and are answered with that id; events are pushed. If the socket
 * drops, calls in flight fail with one clear line and the client reconnects
 * with backoff, telling its listeners so the page can say so.
 *
 * Touches no DOM global at import time: the socket comes from a factory
 * (new WebSocket by default), so tests run it under Node with a fake.
 */
import {
  BRIDGE_PATH,
  CHANNEL_OF,
  type BridgeRequest,
  type DashboardStatus,
  type LvsApi,
  type NodeEventMessage,
  type RequestChannel,
  type Result,
  type Settings,
  type SettingsUpdate,
} from '../main/bridge/api.js';

/** The part of a WebSocket the client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a socket offering these WebSocket subprotocols. */
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export interface ConnectionState {
  connected: boolean;
  /** Whether a connection ever opened (the first attempt is "connecting", not "lost"). */
  everConnected: boolean;
  /** Consecutive failed attempts since the last open socket. */
  attempt: number;
  /** When the next attempt starts (Date.now() clock), null while connected or connecting. */
  retryAt: number | null;
  lastError: string | null;
}

export interface BridgeClientOptions {
  socket?: SocketFactory;
  /** A request without an answer after this long fails. */
  timeoutMs?: number;
  random?: () => number;
  now?: () => number;
  /** Subprotocols offered on each connect (the bridge's own, and the credential when the node asks for one). */
  protocols?: () => string[];
}

const OPEN = 1;
export const REQUEST_TIMEOUT_MS = 10_000;
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_CAP_MS = 10_000;

/** Wait before reconnect attempt `attempt` (1, 2, ...): doubling from 0.5 s to 10 s, with ±20% jitter. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** ws://host/bridge for a page on http, wss:// for https. */
export function bridgeUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${BRIDGE_PATH}`;
}

interface Pending {
  request: BridgeRequest;
  sent: boolean;
  resolve(result: Result<unknown>): void;
  timer: ReturnType<typeof setTimeout>;
}

export class BridgeClient implements LvsApi {
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: NodeEventMessage) => void>();
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** suspend(): no socket and no reconnect until resume() (the page is waiting for a credential). */
  private suspended = false;
  private readonly makeSocket: SocketFactory;
  private readonly protocols: () => string[];
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private state: ConnectionState = { connected: false, everConnected: false, attempt: 0, retryAt: null, lastError: null };

  constructor(
    readonly url: string,
    options: BridgeClientOptions = {},
  ) {
    this.makeSocket = options.socket ?? ((u, p) => new WebSocket(u, p) as unknown as SocketLike);
    this.protocols = options.protocols ?? (() => []);
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  get connection(): ConnectionState {
    return { ...this.state };
  }

  /** Opens the socket (and keeps reopening it until close()). */
  start(): void {
    if (this.closed || this.socket) return;
    this.connect();
  }

  /** Stops for good: no reconnect, every pending call fails. */
  close(): void {
    this.closed = true;
    this.dropSocket('page closed');
    this.failPending(() => true, 'the dashboard closed its connection to the node');
  }

  /**
   * Closes the socket and stops reconnecting until resume(): the node
   * refuses the credential the page has, and retrying with it would only
   * count as more wrong attempts. Calls not yet sent wait; sent ones fail.
   */
  suspend(why: string): void {
    if (this.closed || this.suspended) return;
    this.suspended = true;
    this.dropSocket('waiting for a credential');
    this.failPending((p) => p.sent, `lost the connection to the node before it answered (${why})`);
    this.setState({ connected: false, everConnected: this.state.everConnected, attempt: this.state.attempt, retryAt: null, lastError: why });
  }

  /** Connects again at once after suspend(), or cuts a reconnect wait short. */
  resume(): void {
    this.suspended = false;
    if (this.closed || this.socket) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.connect();
  }

  private dropSocket(reason: string): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.onopen = null;
      try {
        socket.close(1000, reason);
      } catch {
        // Already closing.
      }
    }
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  onEvent(listener: (event: NodeEventMessage) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  getStatus(): Promise<Result<DashboardStatus>> {
    return this.call(CHANNEL_OF.getStatus, []) as Promise<Result<DashboardStatus>>;
  }

  getSettings(): Promise<Result<Settings>> {
    return this.call(CHANNEL_OF.getSettings, []) as Promise<Result<Settings>>;
  }

  addPeer(address: string): Promise<Result<{ address: string }>> {
    return this.call(CHANNEL_OF.addPeer, [address]) as Promise<Result<{ address: string }>>;
  }

  updateSettings(patch: Partial<Settings>): Promise<Result<SettingsUpdate>> {
    return this.call(CHANNEL_OF.updateSettings, [patch]) as Promise<Result<SettingsUpdate>>;
  }

  setPaused(paused: boolean): Promise<Result<{ paused: boolean }>> {
    return this.call(CHANNEL_OF.setPaused, [paused]) as Promise<Result<{ paused: boolean }>>;
  }

  private call(channel: RequestChannel, args: unknown[]): Promise<Result<unknown>> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'the dashboard closed its connection to the node' });
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        const seconds = Math.round(this.timeoutMs / 100) / 10;
        resolve({
          ok: false,
          error: this.state.connected ? `the node did not answer ${channel} within ${seconds} s` : `not connected to the node (waited ${seconds} s)`,
        });
      }, this.timeoutMs);
      const pending: Pending = { request: { id, channel, args }, sent: false, resolve, timer };
      this.pending.set(id, pending);
      this.trySend(pending);
    });
  }

  private trySend(p: Pending): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || p.sent) return;
    try {
      socket.send(JSON.stringify(p.request));
      p.sent = true;
    } catch {
      // The socket is going down; onclose fails or requeues it.
    }
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.closed || this.suspended) return;
    let socket: SocketLike;
    try {
      socket = this.makeSocket(this.url, this.protocols());
    } catch (err) {
      this.lost(`cannot open ${this.url}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setState({ connected: true, everConnected: true, attempt: 0, retryAt: null, lastError: null });
      for (const p of this.pending.values()) this.trySend(p);
    };
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.receive(ev.data);
    };
    socket.onerror = () => {
      // Browsers say nothing useful here; onclose follows with a code.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const code = ev.code ?? 0;
      const why = this.state.connected
        ? `connection closed${code ? ` (code ${code}${ev.reason ? `: ${ev.reason}` : ''})` : ''}`
        : `cannot reach the node at ${this.url}`;
      this.lost(why);
    };
  }

  private lost(why: string): void {
    // Calls already sent will never be answered on a new socket; unsent ones wait for it.
    this.failPending((p) => p.sent, `lost the connection to the node before it answered (${why})`);
    const attempt = this.state.attempt + 1;
    const delay = reconnectDelay(attempt, this.random);
    this.setState({ connected: false, everConnected: this.state.everConnected, attempt, retryAt: this.now() + delay, lastError: why });
    if (!this.closed && !this.suspended) this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private failPending(which: (p: Pending) => boolean, error: string): void {
    for (const [id, p] of [...this.pending]) {
      if (!which(p)) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ ok: false, error });
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame === null || typeof frame !== 'object') return;
    const f = frame as Record<string, unknown>;
    if (typeof f.id === 'number') {
      const p = this.pending.get(f.id);
      if (!p) return;
      const result = f.result as Record<string, unknown> | null | undefined;
      clearTimeout(p.timer);
      this.pending.delete(f.id);
      if (result && result.ok === true) p.resolve({ ok: true, value: result.value });
      else if (result && result.ok === false && typeof result.error === 'string') p.resolve({ ok: false, error: result.error });
      else p.resolve({ ok: false, error: `the node sent a malformed answer to ${p.request.channel}` });
      return;
    }
    const event = f.event as Record<string, unknown> | null | undefined;
    if (event && typeof event === 'object' && typeof event.type === 'string') {
      for (const listener of this.eventListeners) {
        try {
          listener(event as unknown as NodeEventMessage);
        } catch {
          // One broken listener must not starve the others.
        }
      }
    }
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.connectionListeners) {
      try {
        listener({ ...state });
      } catch {
        // Ignore.
      }
    }
  }
}
