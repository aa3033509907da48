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

/** A peer is fresh while its last message is at most this many of our cycles old (docs/drift-model.md §1). */
export const DEFAULT_STALE_CYCLES = 10;

/** A link that has been silent this many cycles is closed as dead and redialled. */
export const DEAD_LINK_CYCLES = 50;

/** A full `state` snapshot is sent to every peer every this many cycles. */
export const SNAPSHOT_EVERY_CYCLES = 50;

/** After asking a peer for `sync`, ask again at most this often (cycles) until a `state` arrives. */
export const SYNC_RETRY_CYCLES = 10;

/** Allowed cycle period, in milliseconds (docs/drift-model.md §1). */
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
// ------------------------------------------------------------- Trust (VaultGuard Lite)
// The robust drift step (main/model/wmsr.ts) and the per-peer trust score
// (main/model/trust.ts); docs/drift-model.md, "Robust step (W-MSR)".

/**
 * W-MSR trims F = 1 value on each side of each axis from this many fresh
 * peers on: with 3, dropping one value above and one below still keeps
 * one; with fewer, nothing would be left to outvote a liar with.
 */
export const WMSR_F1_MIN_DEGREE = 3;
/**
 * ...and F = 2 from this many: a node at the default maxPeers (8) then
 * tolerates two liars among its links, at the cost of up to 4 of 8 values per axis.
 */
export const WMSR_F2_MIN_DEGREE = 8;

/**
 * A value W-MSR dropped is trust evidence ('outlier') only when it lies
 * farther than this many drift units outside the kept values (ours
 * included): 12 per-axis standard deviations of the two-node noise floor
 * (0.083, docs/drift-model.md §3), so the extreme honest values W-MSR drops
 * every cycle are not counted.
 */
export const WMSR_OUTLIER_MIN_MARGIN = 1;
/**
 * ...nor closer than this many widths of the kept values' range: while a
 * network is still converging from far apart its honest extremes are far
 * out too, and are not lies.
 */
export const WMSR_OUTLIER_RANGE_FACTOR = 1;

/**
 * Trust evidence (good and bad) halves every this many milliseconds, so a
 * peer's score tells about its last few minutes: an honest peer's good
 * evidence settles at about 87 (10 messages/s, a score of 0.99), and a peer
 * that lied for 10 minutes and then turned honest is back at 0.9 after
 * about 100 s.
 */
export const TRUST_HALF_LIFE_MS = 60_000;

/**
 * Below this trust a peer no longer pulls (its replica is left out of the
 * drift step). A newcomer starts at 0.5; one whose every value is a far
 * outlier gets here in about 7 s of 100 ms cycles, while an honest newcomer
 * joining 100 drift units away is an outlier for its first ~46 cycles and
 * stays above (lowest 0.35; from 1000 units away, 65 cycles and 0.31).
 */
export const TRUST_PULL_MIN = 0.3;

/**
 * Below this trust a peer gets `bye` and its address is held off
 * (TRUST_HOLD_OFF_MS): a newcomer that lies on every cycle gets here in
 * about 27 s, a peer that earned full trust first in about 5 minutes (W-MSR
 * trims it meanwhile). `node bench/robust.mjs` prints these times;
 * test/trust.test.ts checks them.
 */
export const TRUST_DROP_MIN = 0.15;

/**
 * This many rejected frames from one peer within REJECT_BURST_WINDOW_MS
 * get it `bye` and a hold-off at once, whatever its trust: an honest node
 * (the same code) sends none, and one broken frame per cycle at the fastest
 * cycle (50 ms) is 20 a second, well below.
 */
export const REJECT_BURST_FRAMES = 50;
export const REJECT_BURST_WINDOW_MS = 1000;

/**
 * An address whose peer was dropped for low trust or a reject burst is not
 * dialled nor admitted again before this: long enough that a stubborn or
 * flooding peer spends most of its time cut off, short enough that a node
 * fixed by its owner comes back without a restart.
 */
export const TRUST_HOLD_OFF_MS = 5 * 60_000;
// ---------------------------------------------------------------------------
// Data dir lock (main/store/data-dir-lock.ts): one node per data dir.

/** Longest lock file read; ours is under 200 bytes, so a longer one is not ours and counts as unreadable. */
export const DATA_DIR_LOCK_MAX_BYTES = 1024;
/**
 * A lock file that does not parse is a starter between creating and writing
 * it (microseconds) for at most this long; an older one was left by a crash
 * at that moment and is taken over.
 */
export const DATA_DIR_LOCK_UNWRITTEN_GRACE_MS = 2000;
/** The takeover guard is held for the milliseconds a dead holder's lock is replaced; older, its holder died and it is removed. */
export const DATA_DIR_LOCK_TAKEOVER_STALE_MS = 4000;
/** Longest a start waits on a lock file being written or taken over by another start (longer than the two above). */
export const DATA_DIR_LOCK_WAIT_MS = 6000;
/** Pause between looks at a lock file another start is writing or taking over. */
export const DATA_DIR_LOCK_RETRY_MS = 25;
// ------------------------------------------------------------- UDP port range (udpPorts, --udp-ports)

/**
 * Lowest port a pinned WebRTC UDP range may start at: ports below 1024 need
 * privileges to bind, so a range there would fail every link of an ordinary user.
 */
export const MIN_PINNED_UDP_PORT = 1024;
/** Highest UDP port. */
export const MAX_UDP_PORT = 65535;
// ------------------------------------------------------------- Signaling gate, HTTP server, dashboard access
// (main/server/: what a stranger on the LAN can make the node's one TCP port hold; docs/security.md)

/**
 * Signaling sockets one remote address may have in flight on /signal at
 * once (counted from the upgrade until the socket closes). An honest host
 * runs one node and needs one or two (its dial, and ours crossing it); 8
 * leaves room for a few nodes behind one address, and keeps any single
 * address to a quarter of MAX_PENDING_INBOUND_SESSIONS.
 */
export const MAX_SIGNAL_SESSIONS_PER_ADDRESS = 8;
/**
 * New /signal sessions per second one address may start, on average (a
 * token bucket refilled at this rate)... An honest dialer retries with
 * backoff (RECONNECT_MIN_MS doubling), well under one a second.
 */
export const SIGNAL_SESSIONS_PER_SECOND_PER_ADDRESS = 5;
/** ...and at once, after a quiet spell (the bucket's size): a node that starts and dials its whole peer book at one address. */
export const SIGNAL_SESSION_BURST_PER_ADDRESS = 20;
/**
 * TCP connections one remote address may hold open on the node's port at
 * once, of any kind (signaling, status, the dashboard's files and bridge).
 * A browser opens at most 6 per host plus the bridge; a node one or two.
 * Connections beyond it are closed at accept, before a byte is read.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 32;
/**
 * TCP connections the node's port holds open at once, from everyone
 * (Node's server.maxConnections; beyond it new sockets are closed at
 * accept). Signaling sockets close once their DataChannel is open, so a
 * node at MAX_PEERS_CEILING links holds far fewer; it is also well below
 * the usual 1024 open files a process may have.
 */
export const MAX_HTTP_CONNECTIONS = 256;
/**
 * Remote addresses the signaling gate keeps counters for. Larger than
 * MAX_HTTP_CONNECTIONS, so there is always an entry without a live
 * connection to forget when a new address arrives; entries are forgotten
 * as soon as they hold no connection and their bucket is full again.
 */
export const MAX_TRACKED_SIGNAL_ADDRESSES = 1024;
/** How often the per-address tables drop entries that have gone idle. */
export const ADDRESS_TABLE_SWEEP_MS = 10_000;

/**
 * Time a client has to send the complete request headers (Node's
 * server.headersTimeout). Real requests arrive in one packet; a slowloris
 * that trickles headers to hold a socket is cut after this. Also closes a
 * connection that sends nothing at all.
 */
export const HTTP_HEADERS_TIMEOUT_MS = 5000;
/** Time for a whole request (server.requestTimeout): the node takes GETs and upgrades only, without bodies. */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;
/** An idle keep-alive connection is closed after this (server.keepAliveTimeout; Node's default, so a browser's reuse still works). */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;
/** How often Node checks the two timeouts above (its default of 30 s would let a slowloris hold a socket 35 s). */
export const HTTP_TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** Most header lines in one request (server.maxHeadersCount): a browser sends about 20. */
export const HTTP_MAX_HEADERS_COUNT = 64;
/**
 * Largest request head in bytes (the server's maxHeaderSize). Browsers
 * send every cookie of a host to every port of it, so the dashboard on
 * 127.0.0.1 receives the cookies of other local web apps too: Node's
 * default of 16 KiB is kept for them.
 */
export const HTTP_MAX_HEADER_BYTES = 16 * 1024;

/** Origins in the `allowedOrigins` setting (pages of other sites allowed to open /signal). */
export const MAX_ALLOWED_ORIGINS = 16;
/** Longest origin accepted there: scheme, a DNS name of at most 253 characters and a port. */
export const MAX_ORIGIN_LENGTH = 300;
/** A refused Origin is logged at most once per this time... */
export const REFUSED_ORIGIN_LOG_INTERVAL_MS = 60_000;
/** ...for at most this many distinct origins per interval (the rest are only counted). */
export const REFUSED_ORIGIN_LOG_MAX = 16;

/** Bytes of the random dashboard access token (`ui-token` in the data dir, 256 bits). */
export const UI_TOKEN_BYTES = 32;
/** A password from --ui-password-file is at least this long... */
export const MIN_UI_PASSWORD_LENGTH = 12;
/** ...and at most this long (it rides in an HTTP header). */
export const MAX_UI_PASSWORD_LENGTH = 256;
/**
 * Wrong credentials one address may present in a row before it is refused
 * outright (HTTP 429, whatever it sends) until its bucket refills...
 */
export const UI_AUTH_FAILURE_BURST = 10;
/** ...at one attempt per this many milliseconds (10 a minute: a password of 12 characters takes longer than the universe's age). */
export const UI_AUTH_FAILURE_REFILL_MS = 6000;
/** Remote addresses whose failed attempts are remembered; one whose bucket is full again is forgotten. */
export const MAX_TRACKED_UI_AUTH_ADDRESSES = 1024;
/** Dashboards (bridge WebSockets) connected at once; more are answered HTTP 503. */
export const MAX_BRIDGE_CLIENTS = 16;

// ------------------------------------------------------------- degree cap against Sybils (VaultGuard Lite)

/**
 * A peer linked this many of our cycles (60 s at the default 100 ms) with
 * trust at least TRUST_ESTABLISHED_MIN is established: over maxPeers, a
 * newcomer never evicts it (the newcomer is the one dropped). Fresh ids
 * cost nothing to make, so a flood of them can only churn among newcomers.
 * Below it the cap drops at random, so a mesh that is forming keeps mixing.
 */
export const ESTABLISHED_PEER_CYCLES = 600;
export const TRUST_ESTABLISHED_MIN = 0.6;

/** Most peers a user can block (settings.blockedPeers). */
export const MAX_BLOCKED_PEERS = 256;

// ------------------------------------------------------------- link setup order (issue 13, BENCHMARKS.md)

/**
 * The dialer sends its host ICE candidates only once its own connectivity
 * check has succeeded, so that its DTLS server is listening before the
 * acceptor (the DTLS client) can reach it; if its check has not succeeded
 * this long after the answer was applied, it sends them anyway (a path that
 * only the acceptor can open). See webrtc.ts, mayLeave.
 */
export const DIALER_HOST_CANDIDATE_HOLD_MS = 250;

/**
 * In the acceptor-first order (the dialer's offer says a=setup:active) the
 * acceptor is the DTLS server and sends its answer only once its own
 * connectivity check has succeeded, so that its DTLS server listens before
 * the dialer can connect and send its ClientHello; if the check has not
 * succeeded this long after the offer was applied (a path only the dialer's
 * checks can open), the answer goes anyway. See webrtc.ts, SetupOrder.
 */
export const ACCEPTOR_ANSWER_HOLD_MS = 250;

/**
 * Tries of one dial in the acceptor-first order before the dialer-first one
 * (webrtc.ts, retrySetup): an acceptor-first try fails only when
 * libdatachannel's thread is preempted in a few microseconds' window (about
 * 1 in 100 dials on a loaded 2-core machine), so a second try nearly always
 * works and costs a few milliseconds, where dialer-first costs ~50 ms.
 */
export const SETUP_FAST_ATTEMPTS = 2;

// ------------------------------------------------------------- browser nodes (docs/browser-nodes.md)

/**
 * A node sends its neighbour list (`nbrs`) to a peer that asked for it this
 * often, in cycles (1 s at the default 100 ms): enough for a plane that
 * shows the peers' peers, and cheap next to the per-cycle sdm frames.
 */
export const NBRS_EVERY_CYCLES = 10;
/** Entries in one `nbrs` frame (a node's direct peers, capped: a peer's list is display only). */
export const MAX_NBRS_ENTRIES = 64;
/**
 * Relayed signaling (`sig`): frames one peer may have a node forward, per
 * second and as a burst. One link setup takes about 10 (hello, offer,
 * answer, a few candidates each way); more than this is a flood and is
 * dropped and counted (a dropped frame costs the sender trust).
 */
export const RELAY_FRAMES_PER_SECOND = 20;
export const RELAY_FRAMES_BURST = 60;
/** Relayed sessions other nodes have open to a browser node at once (its own dials are bounded by its dialer); more are refused (code 4003). */
export const MAX_RELAYED_SESSIONS = 8;
/** Length bounds of a relayed session id (`sig.sid`), like an instance id. */
export const MAX_SESSION_ID_LENGTH = 64;

// ------------------------------------------------------------- Network memory (issue 12, docs/store.md, docs/protocol.md)
// Identity backup (main/identity/backup.ts, `lvs-node identity export|import`).

/** Largest identity backup file read: ours is under 1 KB; anything this size is not one. */
export const MAX_IDENTITY_BACKUP_BYTES = 64 * 1024;
/**
 * scrypt work of a sealed backup: N = 2^17, r = 8, p = 1 (128 MiB, about
 * half a second on one core), the interactive-login strength of the scrypt
 * paper and of OWASP's advice; a passphrase is typed by people, so it is stretched.
 */
export const IDENTITY_BACKUP_SCRYPT_N = 2 ** 17;
export const IDENTITY_BACKUP_SCRYPT_R = 8;
export const IDENTITY_BACKUP_SCRYPT_P = 1;
/** A backup file names its own scrypt parameters: one asking for more memory than this (or p above the next) is refused unread. */
export const MAX_IDENTITY_BACKUP_SCRYPT_MEMORY = 256 * 2 ** 20;
export const MAX_IDENTITY_BACKUP_SCRYPT_P = 4;
/** Shortest passphrase a backup is sealed or opened with. */
export const MIN_BACKUP_PASSPHRASE_LENGTH = 8;

// Signed state records, the record book and its gossip (main/memory/).

/** Direct peers a state record lists; a node with more lists this many of them (the record stays under 1 KB). */
export const MAX_RECORD_PEERS = 16;
/** Nodes a record book remembers, its own included; a new id beyond it takes the place of a stale one or is refused. */
export const MAX_KNOWN_NODES = 4096;
/**
 * An owner signs a fresh record at least this often (and at once when its
 * peers or name change). Every node hears every refresh, so at this
 * interval N / 30 records a second would reach each node: beyond 60 known
 * nodes the interval grows with N (RECORD_REFRESH_MS_PER_NODE), and the
 * stale and drop times below with it (BENCHMARKS.md, row 21).
 */
export const RECORD_REFRESH_MS = 30_000;
/** A record not refreshed for this long is shown stale: its owner has missed four refreshes (at 30 s; RECORD_STALE_REFRESHES). */
export const RECORD_STALE_MS = 120_000;
/** ...and after this long it is dropped (kept only by its holders, as a copy), and no longer gossiped (at least; RECORD_DROP_REFRESHES). */
export const RECORD_DROP_MS = 10 * 60_000;
/** A holder keeps the copy of a node that went quiet this long, so the node can restore from it after a long outage. */
export const COPY_KEEP_MS = 7 * 24 * 60 * 60_000;
/** A node starts one gossip exchange with one random linked peer this often. */
export const GOSSIP_INTERVAL_MS = 1000;
/**
 * A record is hot (listed in every digest and pushed first) this long after
 * this node took it: 15 exchanges, more than a new record needs to reach
 * every node of a full book (about 12 rounds for 4096 nodes, BENCHMARKS.md row 20).
 */
export const RECORD_HOT_MS = 15_000;
/** Entries of one digest frame (45 bytes each: 256 fit in MAX_FRAME_BYTES with room to spare); at most a quarter are hot ones. */
export const MAX_DIGEST_ENTRIES = 256;
/** Entries of the page a digest compares beside the hot ones: a full book (4096) is swept in 128 exchanges, about two minutes. */
export const DIGEST_PAGE_ENTRIES = 32;
/** Records sent in one answer, and ids asked for in one want: 12 records of the largest size fit in one frame. */
export const MAX_RECORDS_PER_EXCHANGE = 12;
/** New ids one source (a linked peer) may bring into the book at once... */
export const NEW_IDS_BURST_PER_SOURCE = 512;
/** ...and then per minute (a token bucket): a node joining a full network learns it from several peers in minutes. */
export const NEW_IDS_PER_SOURCE_PER_MINUTE = 256;
/** Digests and wants one source may have answered at once, and then per second (a peer starts one exchange per GOSSIP_INTERVAL_MS). */
export const MEMORY_REQUESTS_BURST_PER_SOURCE = 4;
export const MEMORY_REQUESTS_PER_SOURCE_PER_SECOND = 2;
/** Sources the book keeps per-source counters for; the least recently heard go first. */
export const MAX_MEMORY_SOURCES = 1024;
/** Holders of each node's record (the R of the shard map). */
export const SHARD_REPLICAS = 3;
/** Records from a peer are taken only as the answer to our digest or want, this long after we sent it. */
export const MEMORY_ANSWER_WAIT_MS = 5000;
/** No node holds more than this many times R copies (bounded-load rendezvous hashing, main/memory/shard-map.ts): the busiest at twice the mean. */
export const SHARD_LOAD_FACTOR = 2;
// ------------------------------------------------------------- public web demo (web/demo, docs/web-demo.md)

/**
 * Nodes the demo page simulates: from this many (fewer make a sparse,
 * slow picture)...
 */
export const DEMO_MIN_NODES = 8;
/**
 * ...to this many: the page computes the noise floor it predicts for its
 * graph (main/sim/spectrum.ts steadySpread, O(n^2 k) per cycle of the sum)
 * when the graph changes, which takes 0.2 s (6 links per node) to 0.6 s
 * (3 links) at 200 nodes.
 */
export const DEMO_MAX_NODES = 200;
export const DEMO_DEFAULT_NODES = 36;
/**
 * Links per simulated node (a random k-regular graph). At least 3: random
 * 2-regular graphs are unions of cycles, often disconnected, and W-MSR
 * trims nothing below WMSR_F1_MIN_DEGREE peers.
 */
export const DEMO_MIN_DEGREE = 3;
/** At most this many: the default maxPeers of a real node is 8; 12 leaves room to see what more links do. */
export const DEMO_MAX_DEGREE = 12;
export const DEMO_DEFAULT_DEGREE = 6;
// ------------------------------------------------------------- browser nodes and the relay: attack limits (docs/security.md "Browser nodes and the relay")

/**
 * Relayed sessions one peer (one `from` id) may have in flight at a browser
 * node at once. An honest tab opens one session to another tab at a time
 * (of two tabs only the lower id dials), so 2 leaves room for a redial
 * crossing a session that is timing out; without it one tab could hold all
 * MAX_RELAYED_SESSIONS slots and keep every other tab from linking. Hellos
 * beyond it are dropped without an answer: answering each would let a
 * flood spend the victim's own relay budget (RELAY_FRAMES_PER_SECOND).
 */
export const MAX_RELAYED_SESSIONS_PER_PEER = 2;
// ------------------------------------------------------------- Network memory in the node (issue 12, main/node/network-memory.ts)

/**
 * The refresh interval grows with the network: an owner re-signs every
 * max(RECORD_REFRESH_MS, known nodes x RECORD_REFRESH_MS_PER_NODE), so each
 * node receives about 1000 / RECORD_REFRESH_MS_PER_NODE = 2 refreshed
 * records a second whatever N is (30 s up to 60 nodes, 50 s at 100, 34 min
 * at a full book), and the gossip's bytes per node stay bounded (BENCHMARKS.md).
 */
export const RECORD_REFRESH_MS_PER_NODE = 500;
/** Stale after this many missed refreshes, dropped after this many (2 min and 10 min at the 30 s refresh). */
export const RECORD_STALE_REFRESHES = 4;
export const RECORD_DROP_REFRESHES = 20;
/**
 * When its links or its name change, a node re-signs its record at once,
 * but not sooner than this after the last one (nor than a third of the
 * refresh interval): link churn must not turn into a record flood.
 */
export const RECORD_CHANGE_MIN_MS = 10_000;
/** The shard map (who holds which copies) is rebuilt from the known ids at most this often, and only when they changed. */
export const SHARD_REBUILD_MS = 10_000;
/** ...but a book of at most this many ids (a map of 65,000 hashes, well under a millisecond) is mapped again within two gossip rounds of a change. */
export const SHARD_QUICK_REBUILD_MAX = 256;
/**
 * A node started without state (cycle 0) asks its peers for its own record
 * and waits this long after its first peer that speaks the memory before it
 * gives up and signs a record of its own.
 */
export const RESTORE_WAIT_MS = 10_000;
/**
 * Copies of its own record that arrive within this long of the first one
 * are compared: the newest is adopted. Every peer is asked as it says
 * hello, so their answers come within a round trip of each other.
 */
export const RESTORE_GATHER_MS = 250;
/**
 * Copies read from the store stay held this long after the first peer that
 * speaks the memory linked, whatever the (still partial) shard map says:
 * long enough to learn the network before letting any go.
 */
export const SHARD_SETTLE_MS = 60_000;
/** Held copies kept in the store: the map gives a node at most SHARD_LOAD_FACTOR x R = 6; the rest is room while the map settles. */
export const MAX_STORED_COPIES = 64;
