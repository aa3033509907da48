/**
 * LAN discovery: DNS-SD over mDNS (service `_lvs._tcp`, records in
 * ./dns-sd.ts) on every network interface that is up, one multicast-dns
 * socket per interface, each joined to 224.0.0.251 on its own interface and
 * sending from it, so a machine whose default route goes into a VPN or a
 * virtual adapter is still found on its LAN.
 *
 * Per interface: announce on coming up (DISCOVERY_ANNOUNCE_COUNT times,
 * doubling intervals), browse with queries at doubling intervals up to
 * DISCOVERY_QUERY_MAX_MS (with known-answer suppression), answer queries
 * (multicast after a random 20-120 ms for shared records, at most once a
 * second per interface; unicast for legacy queries), and on stop send the
 * goodbye (every record with TTL 0). Interfaces are read again every
 * DISCOVERY_INTERFACE_POLL_MS: a cable plugged back in or a VPN coming up is
 * served (and announced on) within seconds.
 *
 * What is heard: the node's own advertisement is ignored (same id); another
 * node is reported as a 'peer' event {id, instance, addresses} when first
 * heard, when it restarted (new `inst`), when its addresses changed, and
 * again at most every DISCOVERY_REPORT_INTERVAL_MS while it keeps being
 * heard (so an unlinked peer that reappears is redialled). Addresses are
 * believed only if they are on the link the packet came in on (or are the
 * sender's own source address).
 */
import type { Packet } from 'dns-packet';
import type { RemoteInfo } from 'node:dgram';
import makeMdns from 'multicast-dns';
import {
  DISCOVERY_ANNOUNCE_COUNT,
  DISCOVERY_ANNOUNCE_INTERVAL_MS,
  DISCOVERY_FORGET_MS,
  DISCOVERY_GOODBYE_WAIT_MS,
  DISCOVERY_HINT_AFTER_MS,
  DISCOVERY_INTERFACE_POLL_MS,
  DISCOVERY_MIN_RESPONSE_INTERVAL_MS,
  DISCOVERY_QUERY_MAX_MS,
  DISCOVERY_QUERY_MIN_MS,
  DISCOVERY_RECORD_TTL_S,
  DISCOVERY_REPORT_INTERVAL_MS,
  DISCOVERY_RESPONSE_DELAY_MAX_MS,
  DISCOVERY_RESPONSE_DELAY_MIN_MS,
  DISCOVERY_SOCKET_RETRY_MS,
  MAX_DISCOVERED_PEERS,
  MDNS_SERVICE_TYPE,
  PROTOCOL_VERSION,
} from '../model/limits.js';
import { Emitter } from '../node/emitter.js';
import { DiscoveryLog } from './discovery-log.js';
import { announcementPacket, answerQuery, browseQuery, readSightings, resolveQuery, type Advertisement, type Sighting } from './dns-sd.js';
import { believableAddresses, interfaceKey, onLink, servedInterfaces, type ServedInterface } from './interfaces.js';
import type { DiscoveredPeer, DiscoveryLogEntry, DiscoveryStatus } from './types.js';

export type { DiscoveredPeer, DiscoveryLogEntry, DiscoveryStatus };

/** The mDNS port and group (RFC 6762). */
const MDNS_PORT = 5353;
const MDNS_GROUP = '224.0.0.251';

/** A peer as discovery reports it to whoever dials. */
export interface DiscoveryPeerEvent {
  id: string;
  instance: string;
  /** "ip:port", IPv4 first. */
  addresses: string[];
  interface: string;
  /** Why it is reported now. */
  reason: 'new' | 'restart' | 'moved' | 'again';
}

export interface DiscoveryEvents {
  peer: DiscoveryPeerEvent;
  /** A peer said goodbye. */
  gone: { id: string; interface: string };
}

/** The part of a multicast-dns instance discovery uses (a test passes an in-memory one). */
export interface MdnsSocket {
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'query' | 'response', listener: (packet: Packet, rinfo: RemoteInfo) => void): unknown;
  on(event: 'error' | 'warning', listener: (err: Error) => void): unknown;
  query(packet: Packet, callback?: (err: Error | null) => void): void;
  respond(packet: Packet, rinfo?: { port: number; address?: string }, callback?: (err: Error | null) => void): void;
  destroy(callback?: () => void): void;
}

export type DiscoveryLogLevel = 'info' | 'warn';

export interface MdnsDiscoveryOptions {
  id: string;
  /** This node's per-start instance id (the transport's, so signaling and discovery agree). */
  instance: string;
  /** The TCP port peers dial (signaling). */
  port: number;
  version?: number;
  /** Serve only the interface holding this address (a node bound to one address); null = all. */
  bindAddress?: string | null;
  /** Advertise global IPv6 addresses too (only when the node listens on ::). */
  ipv6?: boolean;
  /** Lines for the node's own log (terminal / journal). */
  log?: (level: DiscoveryLogLevel, message: string, fields?: Record<string, unknown>) => void;
  /** True while the node has any linked peer (manual ones count): no hint then. */
  hasPeers?: () => boolean;
  /** Test seams. */
  listInterfaces?: () => ServedInterface[];
  createSocket?: (iface: ServedInterface) => MdnsSocket;
  random?: () => number;
  now?: () => number;
}

interface PeerEntry extends DiscoveredPeer {
  name: string;
  reportedAt: number;
}

class Served {
  readonly since: number;
  ready = false;
  closed = false;
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  lastResponseAt = 0;
  pending: { answers: NonNullable<Packet['answers']>; additionals: NonNullable<Packet['additionals']> } | null = null;
  pendingTimer: ReturnType<typeof setTimeout> | null = null;
  queryInterval = DISCOVERY_QUERY_MIN_MS;
  /** Instance names heard on this interface, with when (for known-answer suppression). */
  readonly heard = new Map<string, number>();
  /** Incomplete sightings asked about, with when. */
  readonly resolving = new Map<string, number>();

  constructor(
    readonly iface: ServedInterface,
    readonly key: string,
    readonly socket: MdnsSocket,
    now: number,
  ) {
    this.since = now;
  }

  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
  }
}

export class MdnsDiscovery {
  readonly events = new Emitter<DiscoveryEvents>((event, err) => {
    this.note({ kind: 'warn', message: `a discovery ${event} listener failed: ${err instanceof Error ? err.message : String(err)}` });
  });
  readonly log: DiscoveryLog;
  private readonly opts: MdnsDiscoveryOptions;
  private readonly version: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly served = new Map<string, Served>();
  private readonly peers = new Map<string, PeerEntry>();
  private readonly warned = new Set<string>();
  /** Interfaces whose socket failed, with when they may be tried again. */
  private readonly failedUntil = new Map<string, number>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private hintTimer: ReturnType<typeof setTimeout> | null = null;
  private hint: string | null = null;
  private running = false;
  private stopping: Promise<void> | null = null;

  constructor(options: MdnsDiscoveryOptions) {
    this.opts = options;
    this.version = options.version ?? PROTOCOL_VERSION;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.log = new DiscoveryLog(undefined, this.now);
  }

  /** Starts serving every interface that is up, and keeps following them. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.refreshInterfaces();
    if (this.served.size === 0) {
      this.note({ kind: 'warn', message: 'no network interface with an IPv4 address is up: nothing to announce on yet (checking again every few seconds)' }, 'warn');
    }
    this.pollTimer = setInterval(() => this.refreshInterfaces(), DISCOVERY_INTERFACE_POLL_MS);
    this.pollTimer.unref?.();
    this.hintTimer = setTimeout(() => this.maybeHint(), DISCOVERY_HINT_AFTER_MS);
    this.hintTimer.unref?.();
  }

  /** Says goodbye (TTL 0) on every interface, then closes the sockets. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.pollTimer) clearInterval(this.pollTimer);
      if (this.hintTimer) clearTimeout(this.hintTimer);
      this.pollTimer = null;
      this.hintTimer = null;
      await Promise.all([...this.served.values()].map((s) => this.closeServed(s, true)));
      this.served.clear();
    })();
    return this.stopping;
  }

  /** Adds a line to the discovery log (the wiring records dials and their outcomes here). */
  note(entry: Omit<DiscoveryLogEntry, 'at'>, level: DiscoveryLogLevel | null = null): DiscoveryLogEntry {
    const stored = this.log.add(entry);
    if (level) this.opts.log?.(level, `discovery: ${stored.message}`, { discovery: entry.kind, ...(entry.interface ? { interface: entry.interface } : {}), ...(entry.peerId ? { peerId: entry.peerId } : {}), ...(entry.address ? { address: entry.address } : {}) });
    return stored;
  }

  /** Peers heard on the LAN, most recently heard first. */
  discovered(): DiscoveredPeer[] {
    return [...this.peers.values()]
      .sort((a, b) => b.lastHeard - a.lastHeard)
      .map(({ id, instance, addresses, interface: iface, firstSeen, lastHeard, restarts, left }) => ({ id, instance, addresses: [...addresses], interface: iface, firstSeen, lastHeard, restarts, left }));
  }

  status(): DiscoveryStatus {
    return {
      enabled: true,
      off: null,
      service: MDNS_SERVICE_TYPE,
      instance: this.opts.instance,
      port: this.opts.port,
      interfaces: [...this.served.values()].map((s) => ({ name: s.iface.name, addresses: this.advertisedAddresses(s.iface), since: s.since })),
      peers: this.discovered(),
      hint: this.hint,
      log: this.log.list(),
    };
  }

  // ------------------------------------------------------------ interfaces

  private advertisement(iface: ServedInterface): Advertisement {
    return {
      id: this.opts.id,
      version: this.version,
      instance: this.opts.instance,
      port: this.opts.port,
      ipv4: iface.advertised.ipv4,
      ipv6: iface.advertised.ipv6,
    };
  }

  private advertisedAddresses(iface: ServedInterface): string[] {
    return [...iface.advertised.ipv4, ...iface.advertised.ipv6];
  }

  private refreshInterfaces(): void {
    if (!this.running) return;
    let list: ServedInterface[];
    try {
      list = (this.opts.listInterfaces ?? (() => servedInterfaces({ bindAddress: this.opts.bindAddress ?? null, ipv6: this.opts.ipv6 ?? false })))();
    } catch (err) {
      this.warnOnce('interfaces', `cannot list network interfaces: ${(err as Error).message}`);
      return;
    }
    const wanted = new Map(list.map((i) => [i.name, i]));
    for (const [name, s] of this.served) {
      const now = wanted.get(name);
      if (!now || interfaceKey(now) !== s.key) {
        this.served.delete(name);
        void this.closeServed(s, false);
        this.note({ kind: 'interface-down', interface: name, message: now ? `${name}: addresses changed (${this.advertisedAddresses(now).join(', ')}), serving it again` : `${name} went down or lost its address: no longer served` }, now ? null : 'info');
      }
    }
    const now = this.now();
    for (const iface of list) {
      if (this.served.has(iface.name) || (this.failedUntil.get(iface.name) ?? 0) > now) continue;
      this.failedUntil.delete(iface.name);
      this.serve(iface);
    }
    this.forgetSilentPeers();
  }

  private serve(iface: ServedInterface): void {
    let socket: MdnsSocket;
    try {
      socket = this.opts.createSocket
        ? this.opts.createSocket(iface)
        // One socket per interface: bound to 0.0.0.0:5353 (address reuse on, as every mDNS stack does),
        // joined to the group on this interface only, sending from it.
        : (makeMdns({ interface: iface.primary, bind: '0.0.0.0', port: MDNS_PORT, ip: MDNS_GROUP, reuseAddr: true, loopback: true, ttl: 255 }) as unknown as MdnsSocket);
    } catch (err) {
      this.warnOnce(`socket:${iface.name}`, `${iface.name}: cannot open an mDNS socket: ${(err as Error).message}`, iface.name);
      return;
    }
    const s = new Served(iface, interfaceKey(iface), socket, this.now());
    this.served.set(iface.name, s);
    socket.on('error', (err) => {
      // EADDRINUSE / EACCES: port 5353 is taken without address reuse, or not allowed here.
      this.warnOnce(`error:${iface.name}:${err.message}`, `${iface.name}: mDNS socket failed: ${err.message} (trying again every ${DISCOVERY_SOCKET_RETRY_MS / 1000} s)`, iface.name);
      if (this.served.get(iface.name) === s) this.served.delete(iface.name);
      this.failedUntil.set(iface.name, this.now() + DISCOVERY_SOCKET_RETRY_MS);
      void this.closeServed(s, false);
    });
    socket.on('warning', (err) => this.warnOnce(`warning:${iface.name}:${err.message}`, `${iface.name}: ${err.message}`, iface.name));
    socket.on('query', (packet, rinfo) => {
      if (this.owns(s, rinfo)) this.onQuery(s, packet, rinfo);
    });
    socket.on('response', (packet, rinfo) => {
      if (this.owns(s, rinfo)) this.onResponse(s, packet, rinfo);
    });
    socket.on('ready', () => {
      if (s.closed || s.ready) return;
      s.ready = true;
      this.note({ kind: 'interface-up', interface: iface.name, message: `serving ${iface.name} (${this.advertisedAddresses(iface).join(', ')}): mDNS joined ${MDNS_GROUP} there` }, 'info');
      this.announce(s, 0);
      // The first browse query waits 20-120 ms (RFC 6762 §5.2), then the interval doubles.
      s.later(this.responseDelay(), () => this.browse(s));
    });
  }

  private async closeServed(s: Served, goodbye: boolean): Promise<void> {
    if (s.closed) return;
    s.close();
    if (goodbye && s.ready) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DISCOVERY_GOODBYE_WAIT_MS);
        try {
          s.socket.respond(announcementPacket(this.advertisement(s.iface), 0), undefined, () => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
      this.note({ kind: 'goodbye', interface: s.iface.name, message: `said goodbye on ${s.iface.name} (records with TTL 0)` });
    }
    await new Promise<void>((resolve) => {
      try {
        s.socket.destroy(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /**
   * Every socket on port 5353 may receive what arrives on any interface
   * (Linux delivers a group's packets to every socket that joined it), so a
   * packet is handled by the served interface whose subnet holds its sender;
   * a sender on none of them is handled by each (handling is idempotent).
   */
  private owns(s: Served, rinfo: RemoteInfo): boolean {
    if (!this.running || s.closed) return false;
    for (const other of this.served.values()) {
      if (onLink(other.iface, rinfo.address)) return other === s;
    }
    return true;
  }

  // ------------------------------------------------------------ sending

  private announce(s: Served, n: number): void {
    if (n >= DISCOVERY_ANNOUNCE_COUNT) return;
    this.send(s, () => s.socket.respond(announcementPacket(this.advertisement(s.iface)), undefined, (err) => {
      if (err) this.warnOnce(`announce:${s.iface.name}:${err.message}`, `${s.iface.name}: announcement not sent: ${err.message}`, s.iface.name);
    }));
    s.lastResponseAt = this.now();
    if (n === 0) {
      this.note({ kind: 'announce', interface: s.iface.name, message: `announced ${MDNS_SERVICE_TYPE} port ${this.opts.port} on ${s.iface.name} (${this.advertisedAddresses(s.iface).join(', ')}), id ${this.opts.id}, inst ${this.opts.instance}` });
    }
    s.later(DISCOVERY_ANNOUNCE_INTERVAL_MS * 2 ** n, () => this.announce(s, n + 1));
  }

  private browse(s: Served): void {
    const now = this.now();
    const known: string[] = [];
    for (const [name, at] of s.heard) if (now - at < (DISCOVERY_RECORD_TTL_S * 1000) / 2) known.push(name);
    this.send(s, () => s.socket.query(browseQuery(known.slice(0, 32)), (err) => {
      if (err) this.warnOnce(`query:${s.iface.name}:${err.message}`, `${s.iface.name}: query not sent: ${err.message}`, s.iface.name);
    }));
    const next = s.queryInterval;
    s.queryInterval = Math.min(DISCOVERY_QUERY_MAX_MS, s.queryInterval * 2);
    s.later(next, () => this.browse(s));
  }

  private send(s: Served, fn: () => void): void {
    if (s.closed) return;
    try {
      fn();
    } catch (err) {
      this.warnOnce(`send:${s.iface.name}:${(err as Error).message}`, `${s.iface.name}: cannot send: ${(err as Error).message}`, s.iface.name);
    }
  }

  private responseDelay(): number {
    return DISCOVERY_RESPONSE_DELAY_MIN_MS + this.random() * (DISCOVERY_RESPONSE_DELAY_MAX_MS - DISCOVERY_RESPONSE_DELAY_MIN_MS);
  }

  // ------------------------------------------------------------ receiving

  private onQuery(s: Served, packet: Packet, rinfo: RemoteInfo): void {
    const legacy = rinfo.port !== MDNS_PORT;
    const answer = answerQuery(this.advertisement(s.iface), packet, legacy);
    if (!answer) return;
    if (legacy) {
      // A plain DNS client asking 224.0.0.251 directly: answer it alone, echoing its id and questions (RFC 6762 §6.7).
      this.send(s, () => s.socket.respond(
        { type: 'response', id: packet.id ?? 0, questions: packet.questions ?? [], answers: answer.answers, additionals: answer.additionals },
        { port: rinfo.port, address: rinfo.address },
      ));
      return;
    }
    // Coalesce into one multicast answer, sent after the shared-record delay and at most once a second.
    const pending = (s.pending ??= { answers: [], additionals: [] });
    const key = (r: object): string => JSON.stringify([(r as { type?: unknown }).type, (r as { name?: unknown }).name, (r as { data?: unknown }).data]);
    const inAnswers = new Set(pending.answers.map(key));
    for (const a of answer.answers) if (!inAnswers.has(key(a))) pending.answers.push(a);
    const taken = new Set([...pending.answers, ...pending.additionals].map(key));
    for (const a of answer.additionals) if (!taken.has(key(a))) pending.additionals.push(a);
    if (s.pendingTimer) return;
    const wait = Math.max(answer.shared ? this.responseDelay() : 0, s.lastResponseAt + DISCOVERY_MIN_RESPONSE_INTERVAL_MS - this.now());
    s.pendingTimer = setTimeout(() => {
      s.pendingTimer = null;
      const out = s.pending;
      s.pending = null;
      if (!out || s.closed) return;
      s.lastResponseAt = this.now();
      this.send(s, () => s.socket.respond({ type: 'response', answers: out.answers, additionals: out.additionals }));
    }, Math.max(0, wait));
    s.pendingTimer.unref?.();
  }

  private onResponse(s: Served, packet: Packet, rinfo: RemoteInfo): void {
    let sightings: Sighting[];
    try {
      sightings = readSightings(packet);
    } catch (err) {
      this.warnOnce(`parse:${rinfo.address}`, `odd mDNS packet from ${rinfo.address}: ${(err as Error).message}`, s.iface.name);
      return;
    }
    for (const sighting of sightings) {
      switch (sighting.kind) {
        case 'goodbye':
          this.onGoodbye(s, sighting.name, sighting.id, rinfo);
          break;
        case 'incomplete':
          this.resolve(s, sighting);
          break;
        case 'invalid':
          this.warnOnce(`invalid:${sighting.name}:${sighting.detail}`, `ignored ${sighting.name} from ${rinfo.address}: ${sighting.detail}`, s.iface.name);
          break;
        case 'service':
          this.onService(s, sighting, rinfo);
          break;
      }
    }
  }

  private resolve(s: Served, sighting: { name: string; host: string | null }): void {
    const now = this.now();
    const key = sighting.name.toLowerCase();
    const asked = s.resolving.get(key);
    if (asked !== undefined && now - asked < DISCOVERY_MIN_RESPONSE_INTERVAL_MS) return;
    if (s.resolving.size >= 64) s.resolving.clear();
    s.resolving.set(key, now);
    this.send(s, () => s.socket.query(resolveQuery(sighting)));
  }

  private onGoodbye(s: Served, name: string, id: string | null, rinfo: RemoteInfo): void {
    s.heard.delete(name.toLowerCase());
    if (id === this.opts.id) return;
    const peer = id ? this.peers.get(id) : [...this.peers.values()].find((p) => p.name === name.toLowerCase());
    if (!peer || peer.left) return;
    // Kept (marked) so that its next start is seen as a restart.
    peer.left = true;
    this.note({ kind: 'goodbye', interface: s.iface.name, peerId: peer.id, message: `${peer.id} said goodbye on ${s.iface.name} (from ${rinfo.address})` }, 'info');
    this.events.emit('gone', { id: peer.id, interface: s.iface.name });
  }

  private onService(s: Served, sighting: Extract<Sighting, { kind: 'service' }>, rinfo: RemoteInfo): void {
    const now = this.now();
    if (sighting.id === this.opts.id) {
      // Our own advertisement looped back, or a copy of this node's data dir running elsewhere.
      if (sighting.instance !== this.opts.instance) {
        this.warnOnce(`clone:${sighting.instance}`, `another node at ${rinfo.address} announces this node's own id ${sighting.id} (a copied data dir?); ignoring it`, s.iface.name);
      }
      return;
    }
    if (sighting.version !== this.version) {
      this.warnOnce(`version:${sighting.id}:${sighting.version}`, `${sighting.id} at ${rinfo.address} speaks protocol v${sighting.version}, this node v${this.version}: not dialling it`, s.iface.name);
      return;
    }
    const addresses = believableAddresses(s.iface, rinfo.address, sighting.port, sighting.ipv4, sighting.ipv6);
    if (addresses.length === 0) {
      this.warnOnce(`addr:${sighting.id}:${sighting.ipv4.join(',')}`, `${sighting.id} heard on ${s.iface.name} from ${rinfo.address} advertises no address on this link (${[...sighting.ipv4, ...sighting.ipv6].join(', ') || 'none'}): not dialling it`, s.iface.name);
      return;
    }
    s.heard.set(sighting.name.toLowerCase(), now);
    if (s.heard.size > MAX_DISCOVERED_PEERS) s.heard.delete(s.heard.keys().next().value!);

    let peer = this.peers.get(sighting.id);
    let reason: DiscoveryPeerEvent['reason'] | null = null;
    if (!peer) {
      if (this.peers.size >= MAX_DISCOVERED_PEERS) this.forgetOldest();
      peer = { id: sighting.id, name: sighting.name.toLowerCase(), instance: sighting.instance, addresses, interface: s.iface.name, firstSeen: now, lastHeard: now, restarts: 0, left: false, reportedAt: 0 };
      this.peers.set(peer.id, peer);
      reason = 'new';
      this.note({ kind: 'heard', interface: s.iface.name, peerId: peer.id, address: addresses[0]!, message: `heard ${peer.id} on ${s.iface.name} at ${addresses.join(', ')} (inst ${sighting.instance})` }, 'info');
      if (this.hint) this.hint = null;
    } else {
      if (peer.instance !== sighting.instance) {
        reason = 'restart';
        peer.restarts++;
        this.note({ kind: 'restart', interface: s.iface.name, peerId: peer.id, address: addresses[0]!, message: `${peer.id} restarted (inst ${peer.instance} → ${sighting.instance}), at ${addresses.join(', ')}` }, 'info');
        peer.instance = sighting.instance;
      } else if (peer.left) {
        reason = 'again';
        this.note({ kind: 'heard', interface: s.iface.name, peerId: peer.id, address: addresses[0]!, message: `${peer.id} is back (same inst ${peer.instance}) at ${addresses.join(', ')}` });
      } else if (addresses.join(',') !== peer.addresses.join(',') && (peer.interface === s.iface.name || now - peer.lastHeard > DISCOVERY_REPORT_INTERVAL_MS)) {
        reason = 'moved';
        this.note({ kind: 'heard', interface: s.iface.name, peerId: peer.id, address: addresses[0]!, message: `${peer.id} now at ${addresses.join(', ')} on ${s.iface.name} (was ${peer.addresses.join(', ')})` });
      } else if (now - peer.reportedAt >= DISCOVERY_REPORT_INTERVAL_MS) {
        reason = 'again';
      }
      if (reason === 'moved' || reason === 'restart' || peer.interface === s.iface.name) {
        peer.addresses = addresses;
        peer.interface = s.iface.name;
      }
      peer.lastHeard = now;
      peer.left = false;
    }
    if (reason) {
      peer.reportedAt = now;
      this.events.emit('peer', { id: peer.id, instance: peer.instance, addresses: [...addresses], interface: s.iface.name, reason });
    }
  }

  private forgetOldest(): void {
    let oldest: PeerEntry | null = null;
    for (const p of this.peers.values()) if (!oldest || p.lastHeard < oldest.lastHeard) oldest = p;
    if (oldest) this.peers.delete(oldest.id);
  }

  private forgetSilentPeers(): void {
    const now = this.now();
    for (const p of [...this.peers.values()]) if (now - p.lastHeard > DISCOVERY_FORGET_MS) this.peers.delete(p.id);
  }

  // ------------------------------------------------------------ diagnostics

  private warnOnce(key: string, message: string, iface?: string): void {
    if (this.warned.has(key)) return;
    if (this.warned.size >= 256) this.warned.clear();
    this.warned.add(key);
    this.note({ kind: 'warn', message, ...(iface ? { interface: iface } : {}) }, 'warn');
  }

  private maybeHint(): void {
    this.hintTimer = null;
    if (!this.running || this.peers.size > 0 || this.opts.hasPeers?.()) return;
    const served = [...this.served.values()].map((s) => `${s.iface.name} (${this.advertisedAddresses(s.iface).join(', ')})`);
    this.hint =
      `no peer found on the LAN after ${DISCOVERY_HINT_AFTER_MS / 1000} s (announcing on ${served.length > 0 ? served.join(', ') : 'no interface'}). ` +
      'LAN discovery uses mDNS (UDP port 5353, multicast 224.0.0.251) and is commonly blocked by: Wi-Fi client isolation (guest networks), ' +
      'machines on different VLANs or subnets, a firewall dropping UDP 5353, Docker bridges or VPN adapters carrying the traffic instead of the LAN. ' +
      'Link to a peer by hand instead: start with --peer host:port, or use the add-peer field of the dashboard.';
    this.note({ kind: 'hint', message: this.hint }, 'warn');
  }
}

/** The status of a node whose discovery does not run, and why. */
export function discoveryOff(reason: string, instance: string, port: number): DiscoveryStatus {
  return { enabled: false, off: reason, service: MDNS_SERVICE_TYPE, instance, port, interfaces: [], peers: [], hint: null, log: [] };
}
