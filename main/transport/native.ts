/**
 * node-datachannel lifecycle, process-wide.
 *
 * What we know about node-datachannel 0.33.x (checked against its sources
 * and by experiment; see test/webrtc-transport.test.ts):
 *
 * - `cleanup()` is process-global: it closes every PeerConnection and
 *   DataChannel of every user in the process, joins libdatachannel's threads
 *   (blocking the event loop, up to 10 s, throwing on a suspected deadlock)
 *   and drops the logger callback. Callbacks still queued are discarded.
 * - `initLogger(level, cb)` registers a thread-safe function that keeps the
 *   Node process alive until `cleanup()`. Without `cleanup()` a process that
 *   logged never exits by itself.
 * - PeerConnections can be created again after `cleanup()` (libdatachannel
 *   re-initialises lazily); the logger callback has to be registered again.
 * - Every method of a closed PeerConnection or DataChannel throws
 *   ("... called on destroyed peer connection"), and so do malformed SDP or
 *   candidates: every native call goes through try/catch.
 * - A closed PeerConnection reports state 'closed' (also when closed before it
 *   ever connected); only then does the binding release its callbacks.
 *
 * So: one lease per live transport; the last lease released (after its
 * channels and connections reported closed, bounded wait) calls `cleanup()`
 * exactly once; the next acquire re-registers the logger.
 */
import nodeDataChannel from 'node-datachannel';
import type { DataChannel, DataChannelInitConfig, PeerConnection, RtcConfig } from 'node-datachannel';
import { NATIVE_CLOSE_WAIT_MS, SCTP_DELAYED_SACK_MS } from '../model/limits.js';

export type NativeLogLevel = 'debug' | 'info' | 'warn';
export type NativeLog = (level: NativeLogLevel, message: string) => void;


let leases = 0;
let cleanups = 0;
/** One entry per live lease that has a log option (wrapped: two leases may share one function). */
const sinks = new Set<{ log: NativeLog }>();

function mapLevel(level: string): NativeLogLevel {
  if (level === 'Verbose' || level === 'Debug') return 'debug';
  if (level === 'Info') return 'info';
  return 'warn';
}

function routeLog(level: string, message: string): void {
  for (const sink of sinks) {
    try {
      sink.log(mapLevel(level), `libdatachannel: ${message}`);
    } catch {
      // a log sink must never break the native callback
    }
  }
}

/** For tests and diagnostics: live leases and how often cleanup() ran in this process. */
export function nativeStats(): { leases: number; cleanups: number } {
  return { leases, cleanups };
}

/** A PeerConnection with its DataChannels and a promise that settles when it reports 'closed'. */
export class NativePeer {
  readonly pc: PeerConnection;
  readonly closed: Promise<void>;
  private readonly channels = new Set<DataChannel>();
  private markClosed!: () => void;
  private isClosed = false;

  constructor(
    private readonly lease: NativeLease,
    name: string,
    config: RtcConfig,
    onState: (state: string) => void,
  ) {
    this.closed = new Promise<void>((resolve) => {
      this.markClosed = resolve;
    });
    this.pc = new nodeDataChannel.PeerConnection(name, config);
    this.pc.onStateChange((state) => {
      if (state === 'closed') this.finish();
      onState(state);
    });
  }

  get reportedClosed(): boolean {
    return this.isClosed;
  }

  createDataChannel(label: string, init: DataChannelInitConfig): DataChannel {
    const dc = this.pc.createDataChannel(label, init);
    this.channels.add(dc);
    return dc;
  }

  /** Incoming channels are tracked too, so shutdown closes them first. */
  adoptChannel(dc: DataChannel): void {
    this.channels.add(dc);
  }

  /**
   * Closes the connection, and with it its channels. Idempotent, never throws.
   * Ordinary link closes do not close the channel first: closing a channel
   * and then its connection at once makes the far side's libdatachannel warn
   * "SCTP reset stream failed", and the connection close reaches the peer
   * either way. Shutdown does close channels first (see NativeLease.release).
   */
  close(): void {
    this.channels.clear();
    try {
      this.pc.close();
    } catch {
      // already destroyed
    }
  }

  /** Closes every open channel of this connection, leaving the connection up. */
  closeChannels(): void {
    for (const dc of this.channels) {
      try {
        if (dc.isOpen()) dc.close();
      } catch {
        // already destroyed
      }
    }
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.channels.clear();
    this.lease.forget(this);
    this.markClosed();
  }

  /** Called by the lease when cleanup() ran: no 'closed' event will come any more. */
  abandon(): void {
    this.finish();
  }
}

/** One transport's share of the native library. */
export class NativeLease {
  private readonly peers = new Set<NativePeer>();
  private released = false;
  private readonly sink: { log: NativeLog } | undefined;

  constructor(private readonly log: NativeLog | undefined) {
    if (log) {
      this.sink = { log };
      sinks.add(this.sink);
    }
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Throws if the lease was released or libdatachannel refuses the configuration. */
  createPeer(name: string, config: RtcConfig, onState: (state: string) => void): NativePeer {
    if (this.released) throw new Error('native lease already released');
    const peer = new NativePeer(this, name, config, onState);
    this.peers.add(peer);
    return peer;
  }

  /** @internal */
  forget(peer: NativePeer): void {
    this.peers.delete(peer);
  }

  /** PeerConnections created through this lease that have not reported 'closed' yet. */
  get livePeers(): number {
    return this.peers.size;
  }

  /** Closes every open DataChannel of every live connection (shutdown's first step). */
  closeChannels(): void {
    for (const peer of this.peers) peer.closeChannels();
  }

  /**
   * Closes every DataChannel, then every PeerConnection, waits up to
   * `waitMs` for them to report 'closed', then gives the lease back; the last
   * lease in the process runs cleanup(). Idempotent.
   */
  async release(waitMs = NATIVE_CLOSE_WAIT_MS): Promise<void> {
    if (this.released) return;
    this.released = true;
    const peers = [...this.peers];
    for (const peer of peers) peer.closeChannels();
    for (const peer of peers) peer.close();
    if (peers.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const all = Promise.all(peers.map((p) => p.closed)).then(() => 'closed' as const);
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), waitMs);
      });
      const outcome = await Promise.race([all, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.log?.('warn', `${this.peers.size} peer connection(s) did not report closed within ${waitMs} ms`);
      }
    }
    leases--;
    if (this.sink) sinks.delete(this.sink);
    if (leases === 0) {
      try {
        nodeDataChannel.cleanup();
        cleanups++;
      } catch (err) {
        this.log?.('warn', `node-datachannel cleanup failed: ${(err as Error).message}`);
      }
    }
    // Whatever did not report closed never will now (cleanup or not, we are done with it).
    for (const peer of [...this.peers]) peer.abandon();
  }
}

/**
 * Takes a lease on node-datachannel. The first lease (again after a
 * cleanup) registers the logger, routed to every live lease's `log`.
 */
export function acquireNative(log?: NativeLog): NativeLease {
  if (leases === 0) {
    nodeDataChannel.initLogger('Warning', routeLog);
    // Process-wide, read when an SCTP association is created; set again after every cleanup().
    nodeDataChannel.setSctpSettings({ delayedSackTime: SCTP_DELAYED_SACK_MS });
  }
  leases++;
  return new NativeLease(log);
}
