import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Conf from 'conf';
import { afterEach, describe, expect, it } from 'vitest';
import { checkIdentity, createIdentity } from '../main/identity/identity.js';
import { MAX_ADDRESSES_PER_PEER, MAX_PEER_RECORDS, STORE_WRITE_INTERVAL_MS } from '../main/model/limits.js';
import { nodeIdPattern } from '../main/protocol/messages.js';
import { migrate, migrateV0toV1 } from '../main/store/migrations.js';
import {
  DEFAULT_SETTINGS,
  STORE_SCHEMA_VERSION,
  storeSchema,
  validateSettingsPatch,
  type Settings,
  type StoreData,
} from '../main/store/schema.js';
import { NodeStore, StoreError, confSchemas, type StoreLog } from '../main/store/store.js';

const FILE = 'lvs-node.json';
const POSIX = process.platform !== 'win32';

const tempDirs: string[] = [];
const openStores: NodeStore[] = [];

afterEach(() => {
  for (const store of openStores.splice(0)) {
    try {
      store.close();
    } catch {
      // A test that broke the directory on purpose can't flush; the directory goes anyway.
    }
  }
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory per test; `data` inside it does not exist yet. */
function dataDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-store-'));
  tempDirs.push(root);
  return path.join(root, 'data');
}

function recorder(): { log: StoreLog; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return { log: (level, message) => lines.push({ level, message }), lines };
}

function open(dir: string, log: StoreLog = () => {}, defaults?: Partial<Settings>): NodeStore {
  const store = NodeStore.open(dir, defaults ? { log, defaults } : { log });
  openStores.push(store);
  return store;
}

function readFile(dir: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8'));
}

function writeFile(dir: string, data: unknown): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, FILE), typeof data === 'string' ? data : JSON.stringify(data));
}

function validV1(): StoreData {
  return {
    schemaVersion: 1,
    identity: createIdentity(),
    state: { drift: [3, -4], vu: 0.7, tc: 0.9, cycle: 1234 },
    peers: [{ id: 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAA', name: 'a', addresses: ['10.0.0.2:7710'], lastSeen: 1000 }],
    settings: { ...DEFAULT_SETTINGS, port: 7720 },
  };
}

function peerId(n: number): string {
  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `AAAAAAA-AAAAAAA-AAAA${digits[(n >> 10) & 31]}${digits[(n >> 5) & 31]}${digits[n & 31]}-AAAAA`;
}

describe('NodeStore.open on a first start', () => {
  it('creates an identity, default settings and a private file in a private directory', () => {
    const dir = dataDir();
    const store = open(dir);
    expect(store.createdIdentity).toBe(true);
    expect(store.setAside).toBeNull();
    expect(store.identity.id).toMatch(nodeIdPattern);
    expect(checkIdentity(store.identity)).toEqual(store.identity);
    expect(store.settings).toEqual(DEFAULT_SETTINGS);
    expect(store.peers).toEqual([]);
    expect(store.path).toBe(path.join(path.resolve(dir), FILE));

    const onDisk = storeSchema.parse(readFile(dir));
    expect(onDisk.identity).toEqual(store.identity);
    if (POSIX) {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(store.path).mode & 0o777).toBe(0o600);
    }
  });

  it('applies `defaults` to a fresh store only', () => {
    const dir = dataDir();
    open(dir, undefined, { port: 7800, name: 'first' }).close();
    const again = open(dir, undefined, { port: 7900 });
    expect(again.settings).toMatchObject({ port: 7800, name: 'first' });
  });

  it('refuses invalid defaults with the field and its range', () => {
    expect(() => open(dataDir(), undefined, { maxPeers: 0 })).toThrow(/maxPeers must be an integer from 1 to 256/);
  });

  it('fails with a StoreError when the directory cannot be made', () => {
    const root = path.dirname(dataDir());
    fs.writeFileSync(path.join(root, 'a-file'), '');
    expect(() => open(path.join(root, 'a-file', 'data'))).toThrow(StoreError);
  });
});

describe('NodeStore across restarts', () => {
  it('keeps the identity, state, peers and settings', () => {
    const dir = dataDir();
    const first = open(dir);
    first.setState({ drift: [1.5, -2.25], vu: 0.5, tc: 0.75, cycle: 42 });
    first.rememberPeer(peerId(1), '192.168.1.9:7710', 'bob', 1_700_000_000_000);
    first.updateSettings({ cycleMs: 150, name: 'lab' });
    first.close();

    const second = open(dir);
    expect(second.createdIdentity).toBe(false);
    expect(second.identity).toEqual(first.identity);
    expect(second.state).toEqual({ drift: [1.5, -2.25], vu: 0.5, tc: 0.75, cycle: 42 });
    expect(second.peers).toEqual([
      { id: peerId(1), name: 'bob', addresses: ['192.168.1.9:7710'], lastSeen: 1_700_000_000_000 },
    ]);
    expect(second.settings).toEqual({ ...DEFAULT_SETTINGS, cycleMs: 150, name: 'lab' });
  });

  it('does not rewrite a valid file on open', () => {
    const dir = dataDir();
    writeFile(dir, validV1());
    const before = fs.readFileSync(path.join(dir, FILE), 'utf8');
    open(dir);
    expect(fs.readFileSync(path.join(dir, FILE), 'utf8')).toBe(before);
  });

  it('removes temporary files left by a killed writer', () => {
    const dir = dataDir();
    open(dir).close();
    const leftover = path.join(dir, `${FILE}.tmp-1234567890abcdef`);
    fs.writeFileSync(leftover, '{"half": ');
    const { log, lines } = recorder();
    open(dir, log);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(lines).toEqual([{ level: 'info', message: expect.stringContaining('interrupted write') }]);
  });
});

describe('NodeStore writes', () => {
  it('writes state at most once per interval however often it changes', async () => {
    const dir = dataDir();
    const store = open(dir);
    // Every write is an atomic rename onto the file, so the directory watcher sees one rename per write.
    let writes = 0;
    const watcher = fs.watch(dir, (_event, name) => {
      if (name === FILE) writes++;
    });
    try {
      const started = Date.now();
      let cycle = 0;
      while (Date.now() - started < STORE_WRITE_INTERVAL_MS) {
        store.setState({ drift: [cycle, 0], vu: 1, tc: 1, cycle: ++cycle });
        await sleep(5);
      }
      await sleep(STORE_WRITE_INTERVAL_MS + 500);
      expect(cycle).toBeGreaterThan(10);
      expect(writes, 'fs.watch saw no write at all, so it cannot count them here').toBeGreaterThanOrEqual(1);
      // One write at the first change, one per further interval: 2 expected, 3 tolerated for a slow machine.
      expect(writes).toBeLessThanOrEqual(3);
      expect(storeSchema.parse(readFile(dir)).state.cycle).toBe(cycle);
    } finally {
      watcher.close();
    }
  });

  it('writes pending state on close', () => {
    const dir = dataDir();
    const store = open(dir);
    store.setState({ drift: [0, 0], vu: 1, tc: 1, cycle: 1 });
    store.flush();
    store.setState({ drift: [9, 9], vu: 0.25, tc: 1, cycle: 2 });
    expect(storeSchema.parse(readFile(dir)).state.cycle).toBe(1);
    store.close();
    expect(storeSchema.parse(readFile(dir)).state).toEqual({ drift: [9, 9], vu: 0.25, tc: 1, cycle: 2 });
    store.close();
  });

  it('writes settings immediately and refuses bad ones without changing anything', () => {
    const dir = dataDir();
    const store = open(dir);
    expect(store.updateSettings({ beta: 0.2 })).toMatchObject({ beta: 0.2 });
    expect(storeSchema.parse(readFile(dir)).settings.beta).toBe(0.2);
    expect(() => store.updateSettings({ beta: 0.6 })).toThrow(new StoreError('beta must be a number from 0 to 0.5 (got 0.6)'));
    expect(store.settings.beta).toBe(0.2);
    expect(storeSchema.parse(readFile(dir)).settings.beta).toBe(0.2);
  });

  it('refuses a state the file could not hold', () => {
    const store = open(dataDir());
    expect(() => store.setState({ drift: [Number.NaN, 0], vu: 1, tc: 1, cycle: 0 })).toThrow(RangeError);
    expect(() => store.setState({ drift: [0, 0], vu: 2, tc: 1, cycle: 0 })).toThrow(/vu/);
    expect(store.state).toEqual({ drift: [0, 0], vu: 1, tc: 1, cycle: 0 });
  });
});

describe('NodeStore peer book', () => {
  it('keeps the most recent address first, without duplicates, capped', () => {
    const store = open(dataDir());
    const id = peerId(7);
    for (let i = 0; i < MAX_ADDRESSES_PER_PEER + 3; i++) store.rememberPeer(id, `10.0.0.${i}:7710`, 'p', 1000 + i);
    store.rememberPeer(id, '10.0.0.5:7710', 'renamed', 2000);
    store.rememberPeer(id, null, 'renamed', 3000);
    const [entry] = store.peers;
    expect(store.peers).toHaveLength(1);
    expect(entry).toMatchObject({ id, name: 'renamed', lastSeen: 3000 });
    expect(entry!.addresses).toHaveLength(MAX_ADDRESSES_PER_PEER);
    expect(entry!.addresses.slice(0, 2)).toEqual(['10.0.0.5:7710', '10.0.0.10:7710']);
    expect(new Set(entry!.addresses).size).toBe(MAX_ADDRESSES_PER_PEER);
  });

  it('drops the peer seen longest ago when full', () => {
    const store = open(dataDir());
    for (let n = 0; n < MAX_PEER_RECORDS; n++) store.rememberPeer(peerId(n), null, '', 10_000 + ((n * 7919) % MAX_PEER_RECORDS));
    const oldest = store.peers.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
    store.rememberPeer(peerId(MAX_PEER_RECORDS), '[fe80::1]:7710', 'new', 5);
    expect(store.peers).toHaveLength(MAX_PEER_RECORDS);
    expect(store.peers.some((p) => p.id === oldest.id)).toBe(false);
    expect(store.peers[0]!.id).toBe(peerId(MAX_PEER_RECORDS));
  });

  it('refuses records the file could not hold', () => {
    const store = open(dataDir());
    expect(() => store.rememberPeer('not-an-id', null, '', 1)).toThrow(RangeError);
    expect(() => store.rememberPeer(peerId(1), 'no-port', '', 1)).toThrow(RangeError);
    expect(() => store.rememberPeer(peerId(1), null, 'x'.repeat(65), 1)).toThrow(RangeError);
    expect(store.peers).toEqual([]);
  });
});

describe('NodeStore with a damaged file', () => {
  const asideName = /^lvs-node\.json\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/;

  it('sets unparseable JSON aside, starts over and says loudly that the identity is new', () => {
    const dir = dataDir();
    writeFile(dir, '{"schemaVersion": 1, "identity": {');
    const { log, lines } = recorder();
    const store = open(dir, log);

    expect(store.setAside).not.toBeNull();
    expect(path.basename(store.setAside!)).toMatch(asideName);
    expect(fs.readFileSync(store.setAside!, 'utf8')).toBe('{"schemaVersion": 1, "identity": {');
    expect(store.createdIdentity).toBe(true);
    expect(store.settings).toEqual(DEFAULT_SETTINGS);
    expect(storeSchema.parse(readFile(dir)).identity.id).toBe(store.identity.id);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(lines[0]!.message).toContain('not valid JSON');
    expect(lines[0]!.message).toContain(store.setAside);
    expect(lines[1]!.message).toMatch(/IDENTITY COULD NOT BE RECOVERED/);
    expect(lines[1]!.message).toContain(store.setAside);
  });

  it('keeps the identity and every section that still validates', () => {
    const dir = dataDir();
    const data = validV1();
    writeFile(dir, { ...data, settings: { ...data.settings, beta: 0.9 } });
    const { log, lines } = recorder();
    const store = open(dir, log);

    expect(store.setAside).not.toBeNull();
    expect(store.createdIdentity).toBe(false);
    expect(store.identity).toEqual(data.identity);
    expect(store.state).toEqual(data.state);
    expect(store.peers).toEqual(data.peers);
    expect(store.settings).toEqual(DEFAULT_SETTINGS);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toContain('settings.beta');
    expect(lines[0]!.message).toContain('keeping its identity, state, 1 peer record(s)');
    expect(storeSchema.parse(readFile(dir)).identity).toEqual(data.identity);
  });

  it('keeps the valid peer records of a damaged peer book', () => {
    const dir = dataDir();
    const data = validV1();
    writeFile(dir, { ...data, peers: [...data.peers, { id: 'bad' }, data.peers[0]] });
    const store = open(dir);
    expect(store.setAside).not.toBeNull();
    expect(store.peers).toEqual(data.peers);
  });

  it('does not trust an identity whose keys do not match', () => {
    const dir = dataDir();
    const data = validV1();
    const other = createIdentity();
    writeFile(dir, { ...data, identity: { ...data.identity, publicKey: other.publicKey, id: other.id } });
    const { log, lines } = recorder();
    const store = open(dir, log);
    expect(store.createdIdentity).toBe(true);
    expect(store.identity.id).not.toBe(data.identity.id);
    expect(store.identity.id).not.toBe(other.id);
    expect(store.state).toEqual(data.state);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
  });

  it('refuses a file from a newer version and leaves it exactly as it was', () => {
    const dir = dataDir();
    writeFile(dir, { ...validV1(), schemaVersion: STORE_SCHEMA_VERSION + 1, somethingNew: true });
    const file = path.join(dir, FILE);
    const before = { text: fs.readFileSync(file, 'utf8'), mtimeMs: fs.statSync(file).mtimeMs };

    expect(() => open(dir)).toThrow(StoreError);
    expect(() => open(dir)).toThrow(/newer LVS Node \(store schema v2; this version reads up to v1\).*left untouched/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before.text);
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(fs.readdirSync(dir)).toEqual([FILE]);
  });
});

describe('store migrations', () => {
  const identity = createIdentity();
  const v0 = {
    identity,
    drift: [2, 3],
    vu: 0.5,
    tc: 1,
    peers: [],
    settings: { port: 7710, cycle: 120, alpha: 0.05, beta: 0.1, gamma: 0.001, discovery: true, maxPeers: 8, name: '' },
  };

  it('turns a v0 file into a valid v1 store', () => {
    const result = migrate(v0);
    expect(result).toMatchObject({ ok: true, from: 0 });
    const data = storeSchema.parse(result.ok ? result.data : null);
    expect(data.state).toEqual({ drift: [2, 3], vu: 0.5, tc: 1, cycle: 0 });
    expect(data.settings).toEqual({ ...DEFAULT_SETTINGS, cycleMs: 120 });
    expect(data.identity).toEqual(identity);
  });

  it('does not touch its input', () => {
    const copy = structuredClone(v0);
    migrateV0toV1(v0);
    expect(v0).toEqual(copy);
  });

  it('passes a current file through', () => {
    const data = validV1();
    expect(migrate(data)).toEqual({ ok: true, data, from: 1 });
  });

  it('refuses a newer file, and tells it apart from a broken one', () => {
    expect(migrate({ schemaVersion: 2 })).toMatchObject({ ok: false, newer: true, error: expect.stringMatching(/newer/) });
    expect(migrate({ schemaVersion: '1' })).toMatchObject({ ok: false, newer: false });
    expect(migrate({ schemaVersion: -1 })).toMatchObject({ ok: false, newer: false });
    expect(migrate([1, 2])).toMatchObject({ ok: false, newer: false });
    expect(migrate(null)).toMatchObject({ ok: false, newer: false });
  });

  it('migrates a v0 file on open and writes it back as v1', () => {
    const dir = dataDir();
    writeFile(dir, v0);
    const { log, lines } = recorder();
    const store = open(dir, log);
    expect(store.setAside).toBeNull();
    expect(store.createdIdentity).toBe(false);
    expect(store.identity).toEqual(identity);
    expect(store.state.drift).toEqual([2, 3]);
    expect(store.settings.cycleMs).toBe(120);
    expect(lines).toEqual([{ level: 'info', message: expect.stringMatching(/migrated .* from store schema v0 to v1/) }]);
    expect(storeSchema.parse(readFile(dir)).schemaVersion).toBe(1);
  });
});

describe('validateSettingsPatch', () => {
  it('accepts any valid subset', () => {
    expect(validateSettingsPatch({})).toEqual({ ok: true, settings: {} });
    expect(validateSettingsPatch({ port: 0, gamma: 0.5, discovery: false, name: '' })).toEqual({
      ok: true,
      settings: { port: 0, gamma: 0.5, discovery: false, name: '' },
    });
    expect(validateSettingsPatch(DEFAULT_SETTINGS)).toEqual({ ok: true, settings: DEFAULT_SETTINGS });
  });

  it.each([
    [{ port: 65536 }, 'port must be an integer from 0 to 65535 (got 65536)'],
    [{ port: 80.5 }, 'port must be an integer from 0 to 65535 (got 80.5)'],
    [{ port: '7710' }, 'port must be an integer from 0 to 65535 (got "7710")'],
    [{ cycleMs: 49 }, 'cycleMs must be an integer from 50 to 200 (got 49)'],
    [{ cycleMs: 201 }, 'cycleMs must be an integer from 50 to 200 (got 201)'],
    [{ alpha: -0.1 }, 'alpha must be a number from 0 to 1 (got -0.1)'],
    [{ alpha: 1.5 }, 'alpha must be a number from 0 to 1 (got 1.5)'],
    [{ beta: 0.51 }, 'beta must be a number from 0 to 0.5 (got 0.51)'],
    [{ gamma: 0.6 }, 'gamma must be a number from 0 to 0.5 (got 0.6)'],
    [{ discovery: 'yes' }, 'discovery must be true or false (got "yes")'],
    [{ maxPeers: 0 }, 'maxPeers must be an integer from 1 to 256 (got 0)'],
    [{ maxPeers: 257 }, 'maxPeers must be an integer from 1 to 256 (got 257)'],
    [{ name: 'n'.repeat(65) }, 'name must be a string of at most 64 characters (got a string of 65 characters)'],
    [{ port: undefined }, 'port must be an integer from 0 to 65535 (got undefined)'],
    [{ port: 7711, colour: 'red' }, 'unknown setting "colour" (known: port, cycleMs, alpha, beta, gamma, discovery, maxPeers, name)'],
    [null, 'settings must be an object of fields to change'],
    [[1], 'settings must be an object of fields to change'],
  ])('rejects %j', (patch, error) => {
    expect(validateSettingsPatch(patch)).toEqual({ ok: false, error });
  });
});

describe('the JSON Schema conf validates with', () => {
  it('agrees with the zod schema', () => {
    const dir = dataDir();
    const conf = (cwd: string) =>
      new Conf<StoreData>({ cwd, configName: 'lvs-node', ...confSchemas(), accessPropertiesByDotNotation: false });
    const data = validV1();
    writeFile(dir, data);
    expect(conf(dir).store).toEqual(data);
    writeFile(dir, { ...data, settings: { ...data.settings, beta: 0.9 } });
    expect(() => conf(dir)).toThrow(/Config schema violation: `settings\/beta` must be <= 0.5/);
    writeFile(dir, { ...data, extra: 1 });
    expect(() => conf(dir)).toThrow(/must NOT have additional properties/);
  });
});
