/**
 * Shapes of LAN discovery as the status API and a UI see them. Pure types:
 * nothing here needs Node, so the bridge contract can carry them as they are.
 */

/** One line of the discovery log, oldest first in DiscoveryStatus.log. */
export interface DiscoveryLogEntry {
  /** Milliseconds since the epoch. */
  at: number;
  kind:
    | 'interface-up' // an interface is served: its mDNS socket joined the group
    | 'interface-down' // an interface went away (cable, Wi-Fi, VPN down) or failed
    | 'announce' // this node announced itself on an interface
    | 'heard' // another node was heard for the first time, or at new addresses
    | 'restart' // a known node was heard with a new instance id: it restarted
    | 'goodbye' // a node said goodbye (TTL 0), or this node said it on stop
    | 'dial' // discovery asked the node to dial an address
    | 'dial-failed' // the dialer reported why a dial failed (its lastError)
    | 'linked' // a discovered node is linked
    | 'hint' // the one plain hint when nothing is found
    | 'warn'; // anything else worth knowing (socket errors, odd packets, a clone of this node's id)
  message: string;
  /** Network interface name ("eth0", "wlan0"), when the entry belongs to one. */
  interface?: string;
  peerId?: string;
  /** host:port, when the entry is about one address. */
  address?: string;
}

/** A node heard on the LAN. */
export interface DiscoveredPeer {
  id: string;
  /** Random per-start instance id from its TXT record; a new one means it restarted. */
  instance: string;
  /** Dialable "ip:port" addresses, IPv4 first. */
  addresses: string[];
  /** Interface it was last heard on. */
  interface: string;
  firstSeen: number;
  lastHeard: number;
  /** Times it was heard with a new instance id. */
  restarts: number;
  /** It said goodbye (stopped) and has not been heard since. */
  left: boolean;
}

/** DiscoveryStatus.off when the saved `discovery` setting turned it off at start (a UI tells this apart from a flag). */
export const DISCOVERY_OFF_BY_SETTING = 'the discovery setting is off';

/** The `discovery` field of /api/status. */
export interface DiscoveryStatus {
  enabled: boolean;
  /** Why discovery is not running ("--no-discovery", "the discovery setting is off", ...), else null. */
  off: string | null;
  /** "_lvs._tcp" */
  service: string;
  /** This node's own instance id (its TXT `inst`). */
  instance: string;
  /** Port advertised in the SRV record. */
  port: number;
  /** Interfaces served now, with the addresses advertised on each. */
  interfaces: { name: string; addresses: string[]; since: number }[];
  peers: DiscoveredPeer[];
  /** The plain hint logged after DISCOVERY_HINT_AFTER_MS without peers, else null. */
  hint: string | null;
  /** At most DISCOVERY_LOG_MAX entries, oldest first. */
  log: DiscoveryLogEntry[];
}
