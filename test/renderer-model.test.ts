/** The dashboard model (renderer/model.ts), the spread history and the settings form checks. */
import { describe, expect, it } from 'vitest';
import type { DashboardStatus, NetworkNode, PeerStatus, Settings } from '../main/bridge/api.js';
import { spread } from '../main/model/drift.js';
import { DashboardModel, LOG_CAPACITY, peerLinkState } from '../renderer/model.js';
import { checkSettingsForm, settingsToForm } from '../renderer/settings-check.js';
import { SPARK_FLOOR, sparkPoints, sparkScale, SpreadHistory } from '../renderer/spread-history.js';

const SELF = 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAA';
const P1 = 'BBBBBBB-BBBBBBB-BBBBBBB-BBBBB';
const P2 = 'CCCCCCC-CCCCCCC-CCCCCCC-CCCCC';

function peer(id: string, drift: [number, number] | null, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    id,
    name: '',
    drift,
    intensity: 0.7,
    connected: true,
    fresh: true,
    lastSeenCycles: 0,
    address: null,
    dialledAddress: null,
    messagesIn: 0,
    messagesOut: 0,
    rejects: {},
    trust: 0.9,
    excluded: null,
    kind: 'native',
    nbrs: null,
    ...over,
  };
}

function status(cycle: number, drift: [number, number], peers: PeerStatus[], over: Partial<DashboardStatus> = {}): DashboardStatus {
  return {
    id: SELF,
    name: 'self',
    cycle,
    state: { drift, vu: 1, tc: 1 },
    peers,
    config: { cycleMs: 100, alpha: 0.05, beta: 0.1, gamma: 0.001, maxPeers: 8, staleCycles: 10 },
    running: true,
    paused: false,
    waitingForPeers: false,
    uptimeMs: 1000,
    cyclesPerSecond: 10,
    kind: 'native',
    relay: { forwarded: 0, dropped: {} },
    intensity: 0.5,
    messages: { in: 0, out: 0 },
    rejects: {},
    dialTargets: [],
    weights: 'wmsr',
    heldOff: [],
    listen: '127.0.0.1:7710',
    dataDir: '/tmp/x',
    discovery: { enabled: false, off: '--no-discovery', service: '_lvs._tcp', instance: 'test-instance', port: 7710, interfaces: [], peers: [], hint: null, log: [] },
    ...over,
  };
}

function known(id: string, drift: [number, number], peers: string[], status: NetworkNode['status'] = 'fresh'): NetworkNode {
  return { id, name: id.slice(0, 3), drift, tc: 1, cycle: 5, peers, seq: 1, status, ageMs: 0, held: false, self: id === SELF };
}

function network(nodes: NetworkNode[]): NonNullable<DashboardStatus['network']> {
  return { nodes, refusals: {}, duplicates: 0, exchanges: 0, refreshMs: 30_000, holders: [], restore: { state: 'new', seq: null, cycle: null } };
}

describe('DashboardModel, the network beyond the linked peers', () => {
  const P3 = 'DDDDDDD-DDDDDDD-DDDDDDD-DDDDD';
  const P4 = 'EEEEEEE-EEEEEEE-EEEEEEE-EEEEE';
  const P5 = 'FFFFFFF-FFFFFFF-FFFFFFF-FFFFF';

  it('shows every known node, draws the links of their records and of the peers\' nbrs, and keeps the local spread apart from the network\'s', () => {
    const m = new DashboardModel();
    const nodes = network([
      known(SELF, [0, 0], [P1]),
      known(P1, [9, 9], [SELF, P2]),
      known(P2, [2, 0], [P1, P3]),
      known(P3, [4, 0], [P2], 'stale'),
      known(P4, [100, 100], [], 'offline'),
    ]);
    const nbrs = [{ id: P5, drift: [6, 0] as [number, number], kind: 'browser' as const }, { id: P2, drift: [2, 0] as [number, number], kind: 'native' as const }];
    m.applyStatus(status(10, [0, 0], [peer(P1, [1, 0], { nbrs })], { network: nodes }), 0);
    const states = Object.fromEntries([...m.nodes.values()].map((n) => [n.id, n.link]));
    // The live replica wins over the record for a linked peer; the rest come from records, then from nbrs.
    expect(states).toEqual({ [SELF]: 'self', [P1]: 'fresh', [P2]: 'known', [P3]: 'known-stale', [P4]: 'offline', [P5]: 'known' });
    expect(m.positions()[P1]).toEqual([1, 0]);
    expect(m.localCount()).toBe(2);
    expect(m.spread()).toBeCloseTo(spread([[0, 0], [1, 0]]), 12);
    const wide = m.networkSpread();
    expect(wide).toMatchObject({ nodes: 5, offline: 1 });
    expect(wide.spread).toBeCloseTo(spread([[0, 0], [1, 0], [2, 0], [4, 0], [6, 0]]), 12);
    // Our own links are not in the graph (the plane draws them from the peers); each pair once, records first.
    const links = m.graphLinks().map((l) => `${[l.a, l.b].sort().join('|')}:${l.source}`);
    expect(links.sort()).toEqual([`${P1}|${P2}:record`, `${P2}|${P3}:record`, `${P1}|${P5}:nbrs`].sort());
  });
});

describe('DashboardModel', () => {
  it('puts self and linked peers with a drift on the plane, and computes the spread like the model', () => {
    const m = new DashboardModel();
    m.applyStatus(status(10, [1, 1], [peer(P1, [3, 1]), peer(P2, null), peer('DDDDDDD-DDDDDDD-DDDDDDD-DDDDD', [9, 9], { connected: false })]), 0);
    expect(Object.keys(m.positions()).sort()).toEqual([SELF, P1].sort());
    expect(m.spread()).toBeCloseTo(spread([[1, 1], [3, 1]]), 12);
    expect(m.nodes.get(SELF)!.self).toBe(true);
    expect(m.peerList().map((p) => peerLinkState(p))).toEqual(['linked', 'linked', 'disconnected']);
  });

  it('moves self with cycle events and ignores an older status snapshot', () => {
    const m = new DashboardModel();
    m.applyStatus(status(10, [0, 0], []), 0);
    m.applyEvent({ type: 'cycle', cycle: 12, drift: [0.5, 0], diff: [0.5, 0], entropy: [1, 0], vu: 1, tc: 1, freshPeers: 0, peerDrifts: {}, at: 0 }, 100);
    expect(m.positions()[SELF]).toEqual([0.5, 0]);
    expect(m.status!.cycle).toBe(12);
    // A poll answered before cycle 12 arrives late: the dot must not step back.
    m.applyStatus(status(11, [0.2, 0], []), 150);
    expect(m.positions()[SELF]).toEqual([0.5, 0]);
    m.applyStatus(status(13, [0.6, 0], []), 200);
    expect(m.positions()[SELF]).toEqual([0.6, 0]);
  });

  it('moves linked peers with the replica drifts carried by cycle events', () => {
    const m = new DashboardModel();
    m.applyStatus(status(1, [0, 0], [peer(P1, [1, 0])]), 0);
    m.applyEvent({ type: 'cycle', cycle: 2, drift: [0.1, 0], diff: [0.1, 0], entropy: [1, 0], vu: 1, tc: 1, freshPeers: 1, peerDrifts: { [P1]: [0.9, 0.1] }, at: 0 }, 100);
    expect(m.positions()[P1]).toEqual([0.9, 0.1]);
  });

  it('glides instead of jumping when a target changes', () => {
    const m = new DashboardModel();
    m.applyStatus(status(1, [0, 0], []), 0);
    m.applyEvent({ type: 'cycle', cycle: 2, drift: [1, 0], diff: [1, 0], entropy: [1, 0], vu: 1, tc: 1, freshPeers: 0, peerDrifts: {}, at: 0 }, 1000);
    const glide = m.nodes.get(SELF)!.glide;
    expect(glide.at(1000)).toEqual([0, 0]);
    expect(glide.at(1000 + glide.glideMs)).toEqual([1, 0]);
  });

  it('applies peer events between polls: stale dims, unlinked leaves the plane', () => {
    const m = new DashboardModel();
    m.applyStatus(status(1, [0, 0], [peer(P1, [1, 0])]), 0);
    m.applyEvent({ type: 'peer', kind: 'stale', peer: peer(P1, [1, 0], { fresh: false }), detail: '' }, 10);
    expect(m.nodes.get(P1)!.link).toBe('stale');
    m.applyEvent({ type: 'peer', kind: 'unlinked', peer: peer(P1, [1, 0], { connected: false, fresh: false }), detail: '' }, 20);
    expect(m.nodes.has(P1)).toBe(false);
    expect(m.peerList()).toHaveLength(1);
  });

  it('keeps the newest LOG_CAPACITY log lines, reflects pause and settings events', () => {
    const m = new DashboardModel();
    m.applyStatus(status(1, [0, 0], []), 0);
    for (let i = 0; i < LOG_CAPACITY + 5; i++) m.applyEvent({ type: 'log', level: 'info', message: `line ${i}`, at: i }, 0);
    expect(m.logs.length).toBe(LOG_CAPACITY);
    expect(m.logs.at(0)!.message).toBe('line 5');
    m.applyEvent({ type: 'paused', paused: true }, 0);
    expect(m.paused).toBe(true);
    const settings: Settings = { port: 7710, cycleMs: 150, alpha: 0.05, beta: 0.1, gamma: 0.001, discovery: true, maxPeers: 8, name: 'renamed', iceServers: [], udpPorts: '' };
    m.applyEvent({ type: 'settings', settings }, 0);
    expect(m.cycleMs).toBe(150);
    expect(m.status!.name).toBe('renamed');
  });

  it('lists dial targets that have no linked peer behind them', () => {
    const m = new DashboardModel();
    m.applyStatus(
      status(1, [0, 0], [peer(P1, [1, 0], { dialledAddress: '127.0.0.1:7711' })], {
        dialTargets: [
          { address: '127.0.0.1:7711', peerId: P1, failures: 0, lastError: null, nextDialAt: null },
          { address: '127.0.0.1:7799', peerId: null, failures: 3, lastError: 'connection refused', nextDialAt: 5000 },
        ],
      }),
      0,
    );
    expect(m.pendingDials().map((d) => d.address)).toEqual(['127.0.0.1:7799']);
  });

  it('starts over when the node behind the bridge has another id', () => {
    const m = new DashboardModel();
    m.applyStatus(status(500, [0, 0], [peer(P1, [1, 0])]), 0);
    m.applyStatus(status(3, [2, 2], [], { id: P2 }), 10);
    expect(Object.keys(m.positions())).toEqual([P2]);
    expect(m.positions()[P2]).toEqual([2, 2]);
  });
});

describe('SpreadHistory and sparkline maths', () => {
  it('samples once per interval and keeps the capacity', () => {
    const h = new SpreadHistory(5, 1000);
    expect(h.maybeSample(1, 0)).toBe(true);
    expect(h.maybeSample(1, 500)).toBe(false);
    expect(h.maybeSample(NaN, 2000)).toBe(false);
    for (let i = 1; i <= 10; i++) h.maybeSample(i, i * 1000);
    expect(h.length).toBe(5);
    expect(h.latest()!.value).toBe(10);
  });

  it('scales on log10 with a floor, newest at the right edge', () => {
    const scale = sparkScale([0, 0.01, 1])!;
    expect(scale.min).toBe(SPARK_FLOOR);
    expect(scale.logMin).toBeCloseTo(-3, 12);
    expect(scale.logMax).toBeCloseTo(0, 12);
    const flat = sparkScale([0.1, 0.1])!;
    expect(flat.logMax - flat.logMin).toBeCloseTo(0.5, 12);
    expect(sparkScale([])).toBeNull();
    const pts = sparkPoints([{ at: 0, value: 1 }, { at: 1000, value: 0.01 }], 300, 60, 300_000, scale, 1000, 0);
    // log10(0.01) = -2 sits a third of the way up from -3 to 0: y = (1 - 1/3) * 60.
    expect(pts[1]).toEqual([300, expect.closeTo(40, 9)]);
    expect(pts[0]![0]).toBeCloseTo(299, 9);
    expect(pts[0]![1]).toBeCloseTo(0, 9);
  });
});

describe('settings form checks', () => {
  const loaded: Settings = { port: 7710, cycleMs: 100, alpha: 0.05, beta: 0.1, gamma: 0.001, discovery: true, maxPeers: 8, name: '', iceServers: [], udpPorts: '' };

  it('round-trips loaded settings with nothing to change', () => {
    expect(checkSettingsForm(settingsToForm(loaded), loaded)).toEqual({ ok: true, patch: {} });
  });

  it('returns only changed fields', () => {
    const form = { ...settingsToForm(loaded), cycleMs: '150', name: ' lab ' };
    expect(checkSettingsForm(form, loaded)).toEqual({ ok: true, patch: { cycleMs: 150, name: 'lab' } });
  });

  it('catches the obvious mistakes with one line naming the field', () => {
    const bad = (over: Partial<ReturnType<typeof settingsToForm>>) => checkSettingsForm({ ...settingsToForm(loaded), ...over }, loaded);
    const r1 = bad({ cycleMs: '20' });
    expect(r1).toMatchObject({ ok: false, field: 'cycleMs' });
    expect(!r1.ok && r1.error).toMatch(/^cycleMs must be an integer from 50 to 200/);
    expect(bad({ cycleMs: '100.5' })).toMatchObject({ ok: false, field: 'cycleMs' });
    expect(bad({ port: '70000' })).toMatchObject({ ok: false, field: 'port' });
    expect(bad({ maxPeers: '0' })).toMatchObject({ ok: false, field: 'maxPeers' });
    expect(bad({ alpha: 'abc' })).toMatchObject({ ok: false, field: 'alpha' });
    expect(bad({ gamma: '' })).toMatchObject({ ok: false, field: 'gamma' });
    expect(bad({ beta: '-0.1' })).toMatchObject({ ok: false, field: 'beta' });
    expect(bad({ name: 'x'.repeat(65) })).toMatchObject({ ok: false, field: 'name' });
  });

  it('leaves upper bounds it is unsure of to the main process', () => {
    expect(checkSettingsForm({ ...settingsToForm(loaded), beta: '0.9' }, loaded)).toEqual({ ok: true, patch: { beta: 0.9 } });
  });
});
