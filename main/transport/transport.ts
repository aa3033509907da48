/**
 * The network as the node sees it: links to peers identified by node id,
 * text frames in and out. Two implementations: WebRtcTransport
 * (node-datachannel + WebSocket signaling, for real use) and
 * MemoryTransport (in-process, deterministic, for fast node tests).
 */

/** One open, ordered, reliable channel to one peer. */
export interface Link {
  /** The peer's node id, proven on this very connection (WebRtcTransport: docs/protocol.md "Handshake"). */
  readonly peerId: string;
  /** Random per-start instance id of the peer: a new value means the peer restarted. */
  readonly peerInstance: string;
  /** host:port the peer's signaling answered on, when we dialled it; undefined for inbound links. */
  readonly dialledAddress: string | undefined;
  /** Address the peer connected from or was reached at, for display ("127.0.0.1:7712"). */
  readonly remoteAddress: string;
  /** True while frames can be sent. */
  readonly isOpen: boolean;
  /** Sends one text frame; false if the link is closed or the frame could not be queued. */
  send(frame: string): boolean;
  /** Closes this link; `onUnlink` follows once. Idempotent. */
  close(reason: string): void;
}

export interface TransportHandler {
  /** A link is open and ready; at most one open link per peer id at a time. */
  onLink(link: Link): void;
  /** A frame arrived on an open link; `frame` is untrusted (binary arrives as Uint8Array). */
  onFrame(link: Link, frame: string | Uint8Array): void;
  /** The link closed (by either side, by error or by a newer link replacing it). Called once per link. */
  onUnlink(link: Link, reason: string): void;
}

/** What can go wrong when dialling, for logs and the UI. */
export class DialError extends Error {
  constructor(
    readonly code: 'unreachable' | 'refused' | 'self' | 'duplicate' | 'timeout' | 'protocol' | 'closed' | 'full',
    message: string,
    /** The id of the node reached, when the dial got that far (e.g. a link refused by admission). */
    readonly peerId?: string,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** What the proof of identity and the address limits did (WebRtcTransport). */
export interface TransportStats {
  /** Links whose peer proved its id. */
  proven: number;
  /** Failed proofs by reason (docs/protocol.md "Handshake"). */
  proofFailures: Record<string, number>;
  /** Sessions refused before a proof, by reason. */
  refused: Record<string, number>;
  /** Remote addresses remembered for hold-offs and ids per address. */
  trackedAddresses: number;
  /** Dials whose fast setup failed before the channel opened and were set up once more in the safe order (webrtc.ts, SetupOrder). */
  setupRetries?: number;
}

/** What the other side said about itself when asking for a link (a claim: use it only to avoid churn, never for trust). */
export interface AdmissionHint {
  /** The dialer has no other open link: refusing it for a peer limit would leave it alone. */
  alone: boolean;
}

export interface Transport {
  /** Our node id. */
  readonly localId: string;
  /** Our random per-start instance id. */
  readonly instance: string;
  /** Installs the single receiver of link events; call before listen/dial. */
  setHandler(handler: TransportHandler): void;
  /**
   * Asked before a new inbound or outbound link opens: return false to refuse it
   * (e.g. the node is at maxPeers). Defaults to accepting everything.
   */
  setAdmission(admit: (peerId: string, hint?: AdmissionHint) => boolean): void;
  /**
   * Opens a link to the node at `address` ("host:port"). Resolves with the
   * peer's id once the link is open (after onLink), rejects with a DialError.
   * Simultaneous dials resolve to one link: the one dialled by the lower id.
   */
  dial(address: string): Promise<string>;
  /** Counters of the proof of identity; transports without one (in-memory) omit it. */
  stats?(): TransportStats;
  /** Closes every link (onUnlink for each), stops listening and frees native resources. Idempotent. */
  shutdown(): Promise<void>;
}
