/**
 * Every limit of the node in one place. Pure: imported by the model, the
 * protocol, the node, the store and the UI alike. Change a number here and
 * it changes everywhere; docs cite these names.
 */

/** Wire protocol version spoken in signaling and on the `lvs` DataChannel (docs/protocol.md); v2 added the proof of identity, v1 peers are refused. */
export const PROTOCOL_VERSION = 2;

/** Largest accepted DataChannel frame, in bytes of UTF-8 text (DESIGN.md §2). */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Largest accepted signaling frame (an SDP offer with many candidates fits easily). */
export const MAX_SIGNAL_FRAME_BYTES = 64 * 1024;

/** Largest |coordinate| accepted in a drift, an entropy sample or a replica. */
export const MAX_COORDINATE = 1e6;

/** Largest |component| of one cycle's diff (alpha + beta*pull + gamma*x stays far below on any sane network). */
export const MAX_DIFF = 10;

/** Longest peer name, in characters; longer names are rejected. */
export const MAX_NAME_LENGTH = 64;

/** Most entries of a hello's `feat` list (optional protocol features the sender understands). */
export const MAX_FEATURES = 16;

/** Longest feature name in a hello's `feat` list. */
export const MAX_FEATURE_LENGTH = 32;

/**
 * SCTP delayed-acknowledgement time for every DataChannel of the process.
 * libdatachannel lowers usrsctp's RFC 4960 default of 200 ms to 20 ms for
 * bulk throughput; a node sends one small frame per peer per cycle
 * (50-200 ms), so with 20 ms nearly every frame draws a SACK packet of its
 * own, while with 200 ms the SACK rides on the peer's next cycle frame.
 * Measured in BENCHMARKS.md (row 5).
 */
export const SCTP_DELAYED_SACK_MS = 200;

/** Longest `bye` reason, in characters. */
export const MAX_REASON_LENGTH = 200;

/** A peer is fresh while its last message is at most this many of our cycles old (DESIGN.md §1). */
export const DEFAULT_STALE_CYCLES = 10;

/** A link that has been silent this many cycles is closed as dead and redialled. */
export const DEAD_LINK_CYCLES = 50;

/** A full `state` snapshot is sent to every peer every this many cycles. */
export const SNAPSHOT_EVERY_CYCLES = 50;

/** After asking a peer for `sync`, ask again at most this often (cycles) until a `state` arrives. */
export const SYNC_RETRY_CYCLES = 10;

/** Allowed cycle period, in milliseconds (DESIGN.md §1). */
export const MIN_CYCLE_MS = 50;
export const MAX_CYCLE_MS = 200;

/**
 * Cycle timers fire on a grid of this many milliseconds of the process
 * clock (the node's period and average rate stay exact; one cycle may start
 * up to this much later than its exact time). Nodes sharing a process whose
 * cycles fall in one slot then run in one timer turn, so their frames leave
 * together and the native transport's threads wake once for the group
 * instead of once per node: for 100 nodes in one process this takes the
 * CPU from about 62 % to about 42 % of a core, for a p50 latency of about
 * 0.7 ms instead of 0.4 ms (BENCHMARKS.md, row 5). A process with one node
 * only sees its cycles start up to this much late.
 */
export const CYCLE_TIMER_SLOT_MS = 5;

/** Most links a node keeps open by default (`maxPeers`). */
export const DEFAULT_MAX_PEERS = 8;
/** Hard ceiling on `maxPeers`, whatever the settings say. */
export const MAX_PEERS_CEILING = 256;

/**
 * Degree cap (docs/lan-discovery.md, "The degree cap"): a node at maxPeers
 * still admits this many links more, then at once drops random older links
 * until it is back at maxPeers, so a newcomer always finds a place and the
 * mesh keeps mixing instead of freezing into the first cliques that filled up.
 */
export const PEER_LIMIT_OVERFLOW = 1;
/** After the `bye`, a dropped link is closed by us this long later if the peer has not closed it first. */
export const PEER_SHED_CLOSE_MS = 500;
/**
 * An address whose link was dropped for the peer limit (by either side) is
 * not dialled again before this (with jitter), doubling each time it
 * happens again, up to PEER_LIMIT_BACKOFF_MAX_MS; a link that then lasts
 * longer than the maximum resets the doubling.
 */
export const PEER_LIMIT_BACKOFF_MS = 30_000;
export const PEER_LIMIT_BACKOFF_MAX_MS = 10 * 60_000;
/** A node at maxPeers does not dial; an address that came due meanwhile is tried again after this (with jitter). */
export const PEER_LIMIT_RECHECK_MS = 10_000;
/**
 * A node that was dropped for a peer's limit and still has other links waits
 * this long (with jitter) before dialling a replacement, so a node short of
 * one link does not bounce from full node to full node every second; a node
 * left with no link at all dials at once.
 */
export const PEER_LIMIT_REPLACE_WAIT_MS = 20_000;
/** The first dial of a newly added address waits a random delay up to this, so nodes given the same list do not all fill up with its first entries. */
export const DIAL_START_JITTER_MS = 200;

/** Peer records (connected or remembered) kept in memory; the oldest disconnected go first. */
export const MAX_PEER_RECORDS = 1024;

/** Addresses remembered per peer in the peer book. */
export const MAX_ADDRESSES_PER_PEER = 8;

/** Reconnect backoff: first retry after this, doubling up to the maximum, with jitter. */
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 60_000;

/** Most STUN/TURN servers in the `iceServers` setting (none by default: host candidates only, a LAN needs no server). */
export const MAX_ICE_SERVERS = 4;
/** Longest ICE server URL accepted in the settings. */
export const MAX_ICE_SERVER_URL_LENGTH = 512;

/** Longest ICE candidate line and media id accepted in signaling (real ones are ~100 and 1-2 characters). */
export const MAX_CANDIDATE_LENGTH = 1024;
export const MAX_MID_LENGTH = 64;

/** Remote ICE candidates accepted per signaling session (each one makes libjuice send checks to that address). */
export const MAX_REMOTE_CANDIDATES = 32;

/** Inbound signaling sessions allowed in flight at once; more are answered HTTP 503. */
export const MAX_PENDING_INBOUND_SESSIONS = 32;

/** How long a closing signaling WebSocket waits for the peer's close frame. */
export const WS_CLOSE_TIMEOUT_MS = 2000;

/** How long transport shutdown waits for PeerConnections to report closed before node-datachannel's cleanup. */
export const NATIVE_CLOSE_WAIT_MS = 1500;

/** Longest "host:port" kept in the peer book: a DNS name is at most 253 characters, brackets and ":65535" fit in the rest. */
export const MAX_ADDRESS_LENGTH = 300;

/** A signaling session that has not produced an open DataChannel by then is abandoned. */
export const SIGNAL_TIMEOUT_MS = 10_000;

/** Smoothing factor of a peer's entropy intensity (exponential moving average of |u|). */
export const INTENSITY_SMOOTHING = 0.2;

/** The store is written at most this often while running (and always on shutdown). */
export const STORE_WRITE_INTERVAL_MS = 1000;

/** A node asked to stop says bye, saves and exits within this time, whatever its peers do. */
export const SHUTDOWN_DEADLINE_MS = 2000;

/**
 * With node-datachannel loaded, one signal has been seen to reach a handler
 * twice within a millisecond: a SIGHUP this soon after the last one is taken
 * as that echo and ignored (one reload, one log line).
 */
export const SIGNAL_ECHO_MS = 250;

/** Default TCP port for signaling, status API and dashboard. */
export const DEFAULT_PORT = 7710;

// ------------------------------------------------------------- LAN discovery (DNS-SD over mDNS)

/** DNS-SD service type the nodes advertise and browse for (RFC 6763), without the `.local` domain. */
export const MDNS_SERVICE_TYPE = '_lvs._tcp';

/** TTL, in seconds, of every record a node advertises (PTR, SRV, TXT, A, AAAA); a goodbye sends them with TTL 0. */
export const DISCOVERY_RECORD_TTL_S = 120;

/** Unsolicited announcements sent on an interface when it comes up, the first at once (RFC 6762 §8.3: at least 2). */
export const DISCOVERY_ANNOUNCE_COUNT = 3;
/** Delay before the second announcement; each later one waits twice as long as the one before. */
export const DISCOVERY_ANNOUNCE_INTERVAL_MS = 1000;

/** Browse queries: the second follows the first after this, then the interval doubles... */
export const DISCOVERY_QUERY_MIN_MS = 1000;
/** ...up to this cap, so a peer that was missed (a lost packet, a link that came back) is found within a minute. */
export const DISCOVERY_QUERY_MAX_MS = 60_000;

/** How often the list of network interfaces is read again (adapters, VPNs and cables come and go). */
export const DISCOVERY_INTERFACE_POLL_MS = 2000;
/** After an interface's mDNS socket failed (port 5353 taken, no multicast there), it is tried again after this long. */
export const DISCOVERY_SOCKET_RETRY_MS = 30_000;
/** Most network interfaces served at once (one mDNS socket each). */
export const DISCOVERY_MAX_INTERFACES = 32;

/** A multicast answer to a shared (PTR) question waits a random delay in this range (RFC 6762 §6: 20-120 ms). */
export const DISCOVERY_RESPONSE_DELAY_MIN_MS = 20;
export const DISCOVERY_RESPONSE_DELAY_MAX_MS = 120;
/** Multicast answers on one interface are sent at most this often (RFC 6762 §6: once a second per record). */
export const DISCOVERY_MIN_RESPONSE_INTERVAL_MS = 1000;
/** TTL, in seconds, of records sent in answer to a legacy unicast query (RFC 6762 §6.7: at most 10). */
export const DISCOVERY_LEGACY_TTL_S = 10;

/** Other nodes remembered as discovered; the one heard longest ago goes first. */
export const MAX_DISCOVERED_PEERS = 256;
/** A discovered peer heard again is reported again (so an unlinked one is redialled) at most this often. */
export const DISCOVERY_REPORT_INTERVAL_MS = 5000;
/** A discovered peer not heard for this long is forgotten (two record lifetimes). */
export const DISCOVERY_FORGET_MS = 2 * DISCOVERY_RECORD_TTL_S * 1000;

/** Entries kept in the discovery log (announcements, peers heard, dials and their failures); oldest go first. */
export const DISCOVERY_LOG_MAX = 200;
/** Longest message of one discovery log entry, in characters. */
export const DISCOVERY_LOG_MESSAGE_MAX = 800;

/** With discovery on and no peer discovered or linked after this long, the node logs one hint about what blocks LAN discovery. */
export const DISCOVERY_HINT_AFTER_MS = 30_000;

/**
 * Two nodes usually discover each other at once. The one with the higher id
 * waits this long before dialling a newly discovered peer, so the lower id's
 * dial (the one the transport keeps when two cross) links alone instead of
 * racing a second one; if no link came by then, it dials itself.
 */
export const DISCOVERY_HIGHER_ID_WAIT_MS = 1500;

/** How often the discovery wiring reads the dialer's outcomes into the discovery log. */
export const DISCOVERY_DIAL_WATCH_MS = 1000;

/** On stop, how long discovery waits for its goodbye packets to leave before closing its sockets. */
export const DISCOVERY_GOODBYE_WAIT_MS = 300;

// ------------------------------------------------------------- proof of identity (VaultGuard Lite, docs/security.md)

/**
 * A signaling session whose dialer has not sent its hello by then is closed:
 * an honest dialer sends it the moment the WebSocket opens, so an idle socket
 * is someone holding a slot.
 */
export const SIGNAL_HELLO_TIMEOUT_MS = 3000;

/** Frames a peer may send after its `auth` frame while the proof is being checked; more is a protocol error. */
export const MAX_FRAMES_BEFORE_PROOF = 16;

/**
 * An address that failed this many proofs (bad signature, wrong key, replay,
 * relay, wrong network key) within PROOF_FAILURE_WINDOW_MS is refused for
 * PROOF_FAILURE_HOLD_OFF_MS: an honest node never fails one, a broken or
 * hostile one stops costing us a WebRTC setup per try.
 */
export const PROOF_FAILURES_BEFORE_HOLD_OFF = 3;
export const PROOF_FAILURE_WINDOW_MS = 10 * 60_000;
export const PROOF_FAILURE_HOLD_OFF_MS = 5 * 60_000;

/**
 * Distinct node ids accepted from one remote (non-loopback) IP address within
 * PEER_IDS_PER_ADDRESS_WINDOW_MS. Ed25519 keys cost nothing to make, so ids
 * are not scarce; addresses on a LAN are. A machine usually runs one node,
 * a few at most; a flood of fresh ids from one host is refused beyond this.
 * Loopback is exempt (nodes on this machine, e.g. the cluster harness).
 */
export const MAX_PEER_IDS_PER_ADDRESS = 8;
export const PEER_IDS_PER_ADDRESS_WINDOW_MS = 10 * 60_000;

/** Remote addresses tracked for proof failures and ids per address; the least recently seen go first. */
export const MAX_TRACKED_PEER_ADDRESSES = 1024;

/** Proof failures logged per address per minute, so a hostile host cannot flood the log. */
export const PROOF_FAILURE_LOGS_PER_MINUTE = 3;

// ------------------------------------------------------------- link setup order (issue 13, BENCHMARKS.md)

/**
 * The dialer sends its host ICE candidates only once its own connectivity
 * check has succeeded, so that its DTLS server is listening before the
 * acceptor (the DTLS client) can reach it; if its check has not succeeded
 * this long after the answer was applied, it sends them anyway (a path that
 * only the acceptor can open). See webrtc.ts, mayLeave.
 */
export const DIALER_HOST_CANDIDATE_HOLD_MS = 250;
