/**
 * LAN discovery without a network: DNS-SD records and their reading,
 * interface and address rules, the discovery log, the MdnsDiscovery state
 * machine over an in-memory "link" (packets still go through dns-packet's
 * encoder and decoder), and the wiring that dials what is found. Nothing
 * here opens a socket; the real thing runs in test/lan.test.ts, inside
 * network namespaces.
 */
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCli } from '../main/headless/cli-args.js';
import { runNode } from '../main/headless/run-node.js';
import { tempDir } from './helpers/node-process.js';
import { DiscoveryLog } from '../main/discovery/discovery-log.js';
import { announcementPacket, answerQuery, browseQuery, readSightings, readTxt, type Advertisement } from '../main/discovery/dns-sd.js';
import { believableAddresses, isDialableIpv6, sameSubnet, servedInterfaces, type ServedInterface } from '../main/discovery/interfaces.js';
import { MdnsDiscovery, type DiscoveryPeerEvent, type MdnsSocket } from '../main/discovery/mdns-discovery.js';
import { wireDiscovery, type DialingNode } from '../main/discovery/wire.js';
import { DISCOVERY_HIGHER_ID_WAIT_MS, DISCOVERY_HINT_AFTER_MS, DISCOVERY_LOG_MAX, PROTOCOL_VERSION } from '../main/model/limits.js';
import { Emitter } from '../main/node/emitter.js';
import type { DialTarget, NodeStatus } from '../main/bridge/api.js';

const ID_A = 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAA';
const ID_B = 'BBBBBBB-BBBBBBB-BBBBBBB-BBBBB';

const adA: Advertisement = { id: ID_A, version: PROTOCOL_VERSION, instance: 'instance-a-1', port: 7710, ipv4: ['10.0.0.1'], ipv6: [] };

/** Through the real encoder and decoder, as on the wire. */
function wire(packet: dnsPacket.Packet): dnsPacket.Packet {
  return dnsPacket.decode(dnsPacket.encode(packet));
}

describe('DNS-SD records', () => {
  it('an announcement reads back as the service: id, version, instance, port, addresses', () => {
    const sightings = readSightings(wire(announcementPacket({ ...adA, ipv4: ['10.0.0.1', '192.168.1.5'], ipv6: ['2001:db8::1'] })));
    expect(sightings).toEqual([
      { kind: 'service', name: `${ID_A}._lvs._tcp.local`, id: ID_A, version: PROTOCOL_VERSION, instance: 'instance-a-1', port: 7710, ipv4: ['10.0.0.1', '192.168.1.5'], ipv6: ['2001:db8::1'] },
    ]);
  });

  it('the goodbye is the same records with TTL 0', () => {
    const packet = wire(announcementPacket(adA, 0));
    expect(packet.answers!.every((a) => (a as { ttl?: number }).ttl === 0)).toBe(true);
    expect(readSightings(packet)).toEqual([{ kind: 'goodbye', name: `${ID_A}._lvs._tcp.local`, id: ID_A }]);
  });

  it('a PTR alone asks for resolving; bad TXT is invalid; garbage is ignored without throwing', () => {
    expect(readSightings(wire({ type: 'response', answers: [{ type: 'PTR', name: '_lvs._tcp.local', ttl: 120, data: `${ID_A}._lvs._tcp.local` }] })))
      .toEqual([{ kind: 'incomplete', name: `${ID_A}._lvs._tcp.local`, host: null }]);
    const bad = announcementPacket(adA);
    (bad.answers![2] as { data: string[] }).data = ['id=not-an-id', 'v=1', 'inst=instance-a-1'];
    expect(readSightings(wire(bad))[0]).toMatchObject({ kind: 'invalid' });
    const noInst = announcementPacket(adA);
    (noInst.answers![2] as { data: string[] }).data = [`id=${ID_A}`, 'v=1'];
    expect(readSightings(wire(noInst))[0]).toMatchObject({ kind: 'invalid' });
    expect(readSightings({ type: 'response', answers: [{ type: 'A', name: 'printer.local', ttl: 120, data: '10.0.0.9' }] })).toEqual([]);
    expect(readSightings({} as dnsPacket.Packet)).toEqual([]);
    expect(readTxt(['=x', 'k', Buffer.from('Id=1'), 'id=2'])).toEqual(new Map([['id', '1']]));
  });

  it('answers a browse query with the PTR and the rest as additionals, unless the querier already knows it', () => {
    const answer = answerQuery(adA, wire(browseQuery()))!;
    expect(answer.answers.map((a) => a.type)).toEqual(['PTR']);
    expect(answer.additionals.map((a) => a.type).sort()).toEqual(['A', 'SRV', 'TXT']);
    expect(answer.shared).toBe(true);
    expect(answerQuery(adA, wire(browseQuery([`${ID_A}._lvs._tcp.local`])))).toBeNull();
    expect(answerQuery(adA, wire({ type: 'query', questions: [{ type: 'PTR', name: '_http._tcp.local' }] }))).toBeNull();
    const direct = answerQuery(adA, wire({ type: 'query', questions: [{ type: 'SRV', name: `${ID_A.toLowerCase()}._LVS._tcp.local` }] }))!;
    expect(direct.answers.map((a) => a.type)).toEqual(['SRV']);
    expect(direct.shared).toBe(false);
    const legacy = answerQuery(adA, wire(browseQuery()), true)!;
    expect([...legacy.answers, ...legacy.additionals].every((a) => (a as { ttl?: number }).ttl === 10 && !(a as { flush?: boolean }).flush)).toBe(true);
  });
});

describe('interfaces and addresses', () => {
  const table = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.5', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '192.168.1.5/24' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
      { address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: '2001:db8::5/64', scopeid: 0 },
    ],
    tun0: [{ address: '10.8.0.2', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '10.8.0.2/24' }],
    v6only: [{ address: '2001:db8:1::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: '2001:db8:1::5/64', scopeid: 0 }],
  } as const;
  const t = table as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;

  it('serves every interface with IPv4 (VPN too), never loopback; IPv6 only when listening on ::, never link-local', () => {
    expect(servedInterfaces({}, t).map((i) => [i.name, i.advertised])).toEqual([
      ['eth0', { ipv4: ['192.168.1.5'], ipv6: [] }],
      ['tun0', { ipv4: ['10.8.0.2'], ipv6: [] }],
    ]);
    expect(servedInterfaces({ ipv6: true }, t)[0]!.advertised).toEqual({ ipv4: ['192.168.1.5'], ipv6: ['2001:db8::5'] });
    expect(servedInterfaces({ bindAddress: '10.8.0.2' }, t).map((i) => i.name)).toEqual(['tun0']);
    expect(servedInterfaces({ bindAddress: '2001:db8::5' }, t)[0]!.advertised).toEqual({ ipv4: [], ipv6: ['2001:db8::5'] });
    expect(servedInterfaces({ bindAddress: '127.0.0.1' }, t)).toEqual([]);
  });

  it('believes only addresses on the link the packet came in on, the sender first, IPv4 before IPv6', () => {
    const eth0 = servedInterfaces({ ipv6: true }, t)[0]!;
    expect(believableAddresses(eth0, '192.168.1.9', 7710, ['192.168.1.7', '8.8.8.8', '192.168.1.9', '127.0.0.1'], ['2001:db8::9', 'fe80::9', '2001:db9::1']))
      .toEqual(['192.168.1.9:7710', '192.168.1.7:7710', '[2001:db8::9]:7710']);
    expect(believableAddresses(null, '172.16.0.4', 7710, ['172.16.0.4', '172.16.0.5'], [])).toEqual(['172.16.0.4:7710']);
    expect(sameSubnet('10.231.0.12', '10.231.0.11', '255.255.255.0')).toBe(true);
    expect(sameSubnet('10.231.1.12', '10.231.0.11', '255.255.255.0')).toBe(false);
    expect(sameSubnet('::ffff:10.0.0.1', '::ffff:10.0.0.2', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00')).toBe(true);
    expect(['fe80::1', '::1', '::', 'ff02::fb', '::ffff:1.2.3.4', '2001:db8::1'].map(isDialableIpv6)).toEqual([false, false, false, false, false, true]);
  });
});

describe('discovery log', () => {
  it('keeps the newest DISCOVERY_LOG_MAX entries and cuts long messages', () => {
    const log = new DiscoveryLog();
    for (let i = 0; i < DISCOVERY_LOG_MAX + 50; i++) log.add({ kind: 'heard', message: `entry ${i}` });
    const list = log.list();
    expect(list).toHaveLength(DISCOVERY_LOG_MAX);
    expect(list[0]!.message).toBe('entry 50');
    expect(log.add({ kind: 'warn', message: 'x'.repeat(5000) }).message.length).toBeLessThan(1000);
  });
});

// ---------------------------------------------------------------- an in-memory link

class FakeLink {
  readonly sockets = new Set<FakeSocket>();
  readonly sent: { from: string; packet: dnsPacket.Packet }[] = [];
  deliver(from: FakeSocket, kind: 'query' | 'response', packet: dnsPacket.Packet): void {
    const bytes = dnsPacket.encode({ ...packet, type: kind });
    this.sent.push({ from: from.iface.primary, packet: dnsPacket.decode(bytes) });
    const rinfo: RemoteInfo = { address: from.iface.primary, port: 5353, family: 'IPv4', size: bytes.length };
    // Multicast loops back to the sender too, as on a real host.
    for (const s of [...this.sockets]) queueMicrotask(() => s.emit(kind, dnsPacket.decode(bytes), rinfo));
  }
}

class FakeSocket extends EventEmitter implements MdnsSocket {
  constructor(readonly link: FakeLink, readonly iface: ServedInterface) {
    super();
    link.sockets.add(this);
    setTimeout(() => this.emit('ready'), 0);
  }
  query(packet: dnsPacket.Packet, callback?: (err: Error | null) => void): void {
    this.link.deliver(this, 'query', packet);
    callback?.(null);
  }
  respond(packet: dnsPacket.Packet, _rinfo?: unknown, callback?: (err: Error | null) => void): void {
    this.link.deliver(this, 'response', packet);
    callback?.(null);
  }
  destroy(callback?: () => void): void {
    this.link.sockets.delete(this);
    callback?.();
  }
}

function iface(address: string): ServedInterface {
  return { name: 'eth0', primary: address, ipv4: [{ address, netmask: '255.255.255.0' }], ipv6: [], advertised: { ipv4: [address], ipv6: [] } };
}

function node(link: FakeLink, id: string, address: string, instance: string, extra: Partial<ConstructorParameters<typeof MdnsDiscovery>[0]> = {}) {
  const d = new MdnsDiscovery({
    id,
    instance,
    port: 7710,
    listInterfaces: () => [iface(address)],
    createSocket: (i) => new FakeSocket(link, i),
    random: () => 0.5,
    ...extra,
  });
  const peers: DiscoveryPeerEvent[] = [];
  const gone: string[] = [];
  d.events.on('peer', (p) => peers.push(p));
  d.events.on('gone', (g) => gone.push(g.id));
  return { d, peers, gone };
}

describe('MdnsDiscovery over an in-memory link', () => {
  afterEach(() => vi.useRealTimers());

  it('two nodes find each other, ignore themselves, notice a restart, and hear the goodbye', async () => {
    vi.useFakeTimers();
    const link = new FakeLink();
    const a = node(link, ID_A, '10.0.0.1', 'instance-a-1');
    const b = node(link, ID_B, '10.0.0.2', 'instance-b-1');
    a.d.start();
    b.d.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.peers[0]).toEqual({ id: ID_B, instance: 'instance-b-1', addresses: ['10.0.0.2:7710'], interface: 'eth0', reason: 'new' });
    expect(b.peers[0]).toMatchObject({ id: ID_A, addresses: ['10.0.0.1:7710'], reason: 'new' });
    expect(a.peers.every((p) => p.id !== ID_A)).toBe(true);
    expect(a.d.status()).toMatchObject({ enabled: true, service: '_lvs._tcp', instance: 'instance-a-1', port: 7710, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1'] }] });
    expect(a.d.status().peers).toMatchObject([{ id: ID_B, instance: 'instance-b-1', restarts: 0, left: false }]);
    const kinds = a.d.status().log.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['interface-up', 'announce', 'heard']));

    // b stops: its goodbye reaches a.
    await b.d.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(a.gone).toEqual([ID_B]);
    expect(link.sent.at(-1)!.packet.answers!.every((r) => (r as { ttl?: number }).ttl === 0)).toBe(true);
    expect(a.d.status().peers[0]).toMatchObject({ id: ID_B, left: true });

    // b starts again with a new instance id: a reports a restart.
    const b2 = node(link, ID_B, '10.0.0.2', 'instance-b-2');
    b2.d.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.peers.at(-1)).toMatchObject({ id: ID_B, instance: 'instance-b-2', reason: 'restart' });
    expect(a.d.status().peers[0]).toMatchObject({ restarts: 1, left: false });
    await a.d.stop();
    await b2.d.stop();
    expect(link.sockets.size).toBe(0);
  });

  it('a copy of its own id elsewhere is warned about, not dialled', async () => {
    vi.useFakeTimers();
    const link = new FakeLink();
    const a = node(link, ID_A, '10.0.0.1', 'instance-a-1');
    const clone = node(link, ID_A, '10.0.0.3', 'instance-a-2');
    a.d.start();
    clone.d.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.peers).toEqual([]);
    expect(a.d.status().log.some((e) => e.kind === 'warn' && e.message.includes("this node's own id"))).toBe(true);
    await a.d.stop();
    await clone.d.stop();
  });

  it('after 30 s without peers it logs one plain hint with the causes and the manual fallback', async () => {
    vi.useFakeTimers();
    const link = new FakeLink();
    const lines: string[] = [];
    const a = node(link, ID_A, '10.0.0.1', 'instance-a-1', { log: (_level, message) => lines.push(message), hasPeers: () => false });
    a.d.start();
    await vi.advanceTimersByTimeAsync(DISCOVERY_HINT_AFTER_MS + 1000);
    const hints = a.d.status().log.filter((e) => e.kind === 'hint');
    expect(hints).toHaveLength(1);
    for (const cause of ['client isolation', 'VLAN', 'UDP 5353', 'Docker', 'VPN', '--peer host:port', 'add-peer']) expect(hints[0]!.message).toContain(cause);
    expect(a.d.status().hint).toBe(hints[0]!.message);
    expect(lines.filter((l) => l.includes('client isolation'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(DISCOVERY_HINT_AFTER_MS * 2);
    expect(a.d.status().log.filter((e) => e.kind === 'hint')).toHaveLength(1);
    await a.d.stop();
  });

  it('no hint when the node has a (manual) peer', async () => {
    vi.useFakeTimers();
    const a = node(new FakeLink(), ID_A, '10.0.0.1', 'instance-a-1', { hasPeers: () => true });
    a.d.start();
    await vi.advanceTimersByTimeAsync(DISCOVERY_HINT_AFTER_MS + 1000);
    expect(a.d.status().hint).toBeNull();
    await a.d.stop();
  });
});

// ---------------------------------------------------------------- wiring

function fakeNode(id: string) {
  const targets: DialTarget[] = [];
  const linked = new Set<string>();
  const events = new Emitter<{ cycle: never; peer: { kind: string; peer: { id: string; address: string | null } }; log: never }>(() => {});
  const calls = { add: [] as string[], redial: [] as string[] };
  const n = {
    id,
    events,
    addPeer: (address: string) => {
      calls.add.push(address);
      if (targets.some((t) => t.address === address)) return false;
      targets.push({ address, peerId: null, failures: 0, lastError: null, nextDialAt: null });
      return true;
    },
    redialPeer: (address: string) => {
      calls.redial.push(address);
      return true;
    },
    status: () => ({ peers: [...linked].map((p) => ({ id: p, connected: true })), dialTargets: targets }) as unknown as NodeStatus,
  };
  return { node: n as unknown as DialingNode, targets, linked, calls, events };
}

describe('wireDiscovery', () => {
  it('dials a discovered peer once, redials it when heard again unlinked, leaves linked peers and itself alone', () => {
    const events = new Emitter<{ peer: DiscoveryPeerEvent; gone: { id: string; interface: string } }>(() => {});
    const notes: string[] = [];
    const discovery = { events, note: (e: { kind: string; message: string }) => (notes.push(`${e.kind}: ${e.message}`), { ...e, at: 0 }) } as unknown as MdnsDiscovery;
    const f = fakeNode(ID_A);
    const stop = wireDiscovery(f.node, discovery);
    const peer = (id: string, reason: DiscoveryPeerEvent['reason'], addresses = ['10.0.0.2:7710']) => events.emit('peer', { id, instance: 'inst-12345', addresses, interface: 'eth0', reason });

    peer(ID_A, 'new', ['10.0.0.1:7710']);
    expect(f.calls.add).toEqual([]);
    peer(ID_B, 'new');
    expect(f.calls.add).toEqual(['10.0.0.2:7710']);
    peer(ID_B, 'again');
    expect(f.calls.add).toEqual(['10.0.0.2:7710']);
    expect(f.calls.redial).toEqual(['10.0.0.2:7710']);
    f.linked.add(ID_B);
    peer(ID_B, 'restart');
    expect(f.calls.redial).toHaveLength(1);
    // Linked already (it dialled us): no second link is asked for, even at a new address.
    peer(ID_B, 'moved', ['10.0.0.7:7710']);
    expect(f.calls.add).toHaveLength(1);
    expect(notes.some((n) => n.startsWith('dial: dialling'))).toBe(true);
    stop();
  });
});

describe('wireDiscovery between two nodes that found each other', () => {
  afterEach(() => vi.useRealTimers());

  it('the higher id waits for the lower id to dial, and dials itself only if no link came', async () => {
    vi.useFakeTimers();
    const events = new Emitter<{ peer: DiscoveryPeerEvent; gone: { id: string; interface: string } }>(() => {});
    const discovery = { events, note: (e: object) => ({ ...e, at: 0 }) } as unknown as MdnsDiscovery;
    const f = fakeNode(ID_B);
    const stop = wireDiscovery(f.node, discovery);
    const heard = () => events.emit('peer', { id: ID_A, instance: 'inst-12345', addresses: ['10.0.0.1:7710'], interface: 'eth0', reason: 'new' });
    heard();
    expect(f.calls.add).toEqual([]);
    await vi.advanceTimersByTimeAsync(DISCOVERY_HIGHER_ID_WAIT_MS + 10);
    expect(f.calls.add).toEqual(['10.0.0.1:7710']); // nobody dialled us: we dial

    const g = fakeNode(ID_B);
    const stop2 = wireDiscovery(g.node, discovery);
    stop(); // only g listens now
    heard();
    g.linked.add(ID_A); // the lower id's dial arrived
    await vi.advanceTimersByTimeAsync(DISCOVERY_HIGHER_ID_WAIT_MS + 10);
    expect(g.calls.add).toEqual([]);
    stop2();
  });
});

describe('--no-discovery', () => {
  it('is a flag of this run, not a saved setting', () => {
    const cmd = parseCli(['--no-discovery', '--data-dir', '/tmp/x']);
    expect(cmd).toMatchObject({ kind: 'run', options: { noDiscovery: true, settings: {} } });
    expect(parseCli(['--data-dir', '/tmp/x'])).toMatchObject({ kind: 'run', options: { noDiscovery: false } });
  });

  it.each([
    [['--no-discovery'], '--no-discovery'],
    // A node on loopback has nobody on the LAN to meet: it opens no mDNS socket at all.
    [[], 'listening on loopback only (127.0.0.1)'],
  ])('a node run with %j reports discovery off in its status (%s)', async (flags, reason) => {
    const dir = tempDir('lvs-discovery-off-');
    const cmd = parseCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir.path, ...flags]);
    if (cmd.kind !== 'run') throw new Error('expected run');
    const running = await runNode(cmd.options, () => {});
    try {
      expect(running.discovery).toBeNull();
      expect((running.status() as { discovery?: unknown }).discovery).toMatchObject({ enabled: false, off: reason, service: '_lvs._tcp', interfaces: [], peers: [], port: running.http.port });
    } finally {
      await running.stop();
      dir.remove();
    }
  });
});
