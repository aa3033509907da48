/**
 * The gate in front of /signal and of the node's TCP port: per remote
 * address, a cap on open connections (checked at accept, before a byte is
 * read), a cap on signaling sessions in flight (counted from the upgrade
 * until the socket closes) and a token bucket on new sessions; the Origin
 * rule for browser pages; and one counter per reason for everything it,
 * or the HTTP server's own limits, refused. The transport's global cap on
 * pending sessions (MAX_PENDING_INBOUND_SESSIONS) stays behind it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SignalingStatus, SignalRefusal } from '../bridge/api.js';
import {
  ADDRESS_TABLE_SWEEP_MS,
  MAX_CONNECTIONS_PER_ADDRESS,
  MAX_SIGNAL_SESSIONS_PER_ADDRESS,
  MAX_TRACKED_SIGNAL_ADDRESSES,
  REFUSED_ORIGIN_LOG_INTERVAL_MS,
  REFUSED_ORIGIN_LOG_MAX,
  SIGNAL_SESSIONS_PER_SECOND_PER_ADDRESS,
  SIGNAL_SESSION_BURST_PER_ADDRESS,
} from '../model/limits.js';
import { AddressTable, addressKey } from './address-table.js';
import { signalOriginRefusal } from './origin-policy.js';
import { ThrottledLog } from './throttled-log.js';
import { TokenBucket } from '../model/token-bucket.js';

export interface SignalGateOptions {
  /**
   * Per-address limits on (the default). Off only for a cluster whose nodes
   * all share one address (the benchmark harness on 127.0.0.1), where they
   * would act as global limits; the global caps stay either way.
   */
  perAddress?: boolean;
  /** Origins the user allowed besides the node's own (read on every upgrade, so a settings reload applies at once). */
  allowedOrigins?: () => readonly string[];
  log?: (level: 'info' | 'warn', message: string) => void;
  now?: () => number;
}

/** A refused upgrade: the HTTP status line to answer with, and extra headers (X-Lvs-Refused names the reason, for the dialer's log). */
export interface GateRefusal {
  status: string;
  headers: Record<string, string>;
  reason: SignalRefusal;
}

interface AddressEntry {
  connections: number;
  sessions: number;
  bucket: TokenBucket;
}

function refusal(status: string, reason: SignalRefusal, retryAfterS?: number): GateRefusal {
  return { status, reason, headers: { 'X-Lvs-Refused': reason, ...(retryAfterS !== undefined ? { 'Retry-After': String(retryAfterS) } : {}) } };
}

export class SignalGate {
  private readonly perAddress: boolean;
  private readonly allowedOrigins: () => readonly string[];
  private readonly now: () => number;
  private readonly refused = new Map<SignalRefusal, number>();
  private readonly originLog: ThrottledLog;
  private readonly table: AddressTable<AddressEntry>;
  private readonly sweepTimer: ReturnType<typeof setInterval>;

  constructor(options: SignalGateOptions = {}) {
    this.perAddress = options.perAddress ?? true;
    this.allowedOrigins = options.allowedOrigins ?? (() => []);
    this.now = options.now ?? Date.now;
    const log = options.log ?? (() => {});
    this.originLog = new ThrottledLog(REFUSED_ORIGIN_LOG_INTERVAL_MS, REFUSED_ORIGIN_LOG_MAX, (message) => log('warn', message));
    this.table = new AddressTable<AddressEntry>(
      MAX_TRACKED_SIGNAL_ADDRESSES,
      (now) => ({ connections: 0, sessions: 0, bucket: new TokenBucket(SIGNAL_SESSIONS_PER_SECOND_PER_ADDRESS, SIGNAL_SESSION_BURST_PER_ADDRESS, now) }),
      (entry, now) => entry.connections === 0 && entry.sessions === 0 && entry.bucket.isFull(now),
    );
    this.sweepTimer = setInterval(() => this.table.sweep(this.now()), ADDRESS_TABLE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Counts a refusal made elsewhere (the HTTP server's own limits and timeouts). */
  count(reason: SignalRefusal): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /**
   * A new TCP connection: kept (and counted for its address until it
   * closes) or destroyed at once. Returns whether it was kept.
   */
  admitConnection(socket: Duplex & { remoteAddress?: string | undefined }): boolean {
    if (!this.perAddress) return true;
    const key = addressKey(socket.remoteAddress);
    const entry = key === null ? null : this.table.get(key, this.now());
    const reason: SignalRefusal | null = key === null ? null : entry === null ? 'tracking-full' : entry.connections >= MAX_CONNECTIONS_PER_ADDRESS ? 'address-connections' : null;
    if (key === null || entry === null || reason !== null) {
      if (reason) this.count(reason);
      socket.destroy();
      return false;
    }
    entry.connections++;
    socket.once('close', () => {
      entry.connections--;
    });
    return true;
  }

  /**
   * A WebSocket upgrade on /signal: null to hand it to the transport (its
   * socket then counts as a session in flight until it closes), or why not.
   */
  admitSignal(req: IncomingMessage, socket: Duplex): GateRefusal | null {
    const originProblem = signalOriginRefusal(req.headers.origin, req.headers.host, this.allowedOrigins());
    if (originProblem) {
      this.count('origin');
      const origin = String(req.headers.origin).slice(0, 100);
      this.originLog.maybe(origin, `refused /signal from ${addressKey(req.socket.remoteAddress) ?? 'a closed socket'}: ${originProblem} (logged once a minute per origin)`, this.now());
      return refusal('403 Forbidden', 'origin');
    }
    if (!this.perAddress) return null;
    const key = addressKey(req.socket.remoteAddress);
    // A socket already gone has nothing to count (and its close event may have passed).
    if (key === null || socket.destroyed) return refusal('400 Bad Request', 'bad-request');
    const now = this.now();
    const entry = this.table.get(key, now);
    if (entry === null) {
      this.count('tracking-full');
      return refusal('503 Service Unavailable', 'tracking-full');
    }
    if (entry.sessions >= MAX_SIGNAL_SESSIONS_PER_ADDRESS) {
      this.count('address-sessions');
      return refusal('429 Too Many Requests', 'address-sessions', 1);
    }
    if (!entry.bucket.take(now)) {
      this.count('address-rate');
      return refusal('429 Too Many Requests', 'address-rate', Math.max(1, Math.ceil(entry.bucket.msUntilToken(now) / 1000)));
    }
    entry.sessions++;
    socket.once('close', () => {
      entry.sessions--;
    });
    return null;
  }

  status(): SignalingStatus {
    return { refused: Object.fromEntries(this.refused), tracked: this.table.size };
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }
}
