import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Conf from 'conf';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkIdentity, createIdentity } from '../main/identity/identity.js';
import { MAX_ADDRESSES_PER_PEER, MAX_PEER_RECORDS, STORE_WRITE_INTERVAL_MS } from '../main/model/limits.js';
import { nodeIdPattern } from '../main/protocol/messages.js';
import { migrate, migrateV0toV1, migrateV1toV2, migrateV2toV3, migrateV3toV4 } from '../main/store/migrations.js';
import {
  DEFAULT_SETTINGS,
  STORE_SCHEMA_VERSION,
  storeSchema,
  validateSettingsPatch,
  type Settings,
  type StoreData,
} from '../main/store/schema.js';
import { DataDirLockError, LOCK_FILE_NAME } from '../main/store/data-dir-lock.js';
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

/** A valid store file of the current schema version. */
function validStore(): StoreData {
  return {
    schemaVersion: STORE_SCHEMA_VERSION,
    identity: createIdentity(),
    state: { drift: [3, -4], vu: 0.7, tc: 0.9, cycle: 1234 },
    peers: [{ id: 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAA', name: 'a', addresses: ['10.0.0.2:7710'], lastSeen: 1000 }],
    settings: { ...DEFAULT_SETTINGS, port: 7720 },
    memory: { lastSeq: 0, copies: [] },
  };
}

/** A valid file as schema v1 had it: no `settings.iceServers` (nor the later `udpPorts`). */
function validV1(): Record<string, unknown> {
  const { memory: _v4, ...store } = validStore();
  const { iceServers: _none, udpPorts: _later, ...settings } = store.settings;
  return { ...store, schemaVersion: 1, settings };
}

/** A valid file as schema v2 had it: no `settings.udpPorts`. */
function validV2(): Record<string, unknown> {
  const { memory: _v4, ...store } = validStore();
  const { udpPorts: _none, ...settings } = store.settings;
  return { ...store, schemaVersion: 2, settings };
}

/** A valid file as schema v3 had it: no `memory` section. */
function validV3(): Record<string, unknown> {
  const { memory: _v4, ...store } = validStore();
  return { ...store, schemaVersion: 3 };
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
    writeFile(dir, validStore());
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
      // The last change lands with the next interval's write.
      await vi.waitFor(() => expect(storeSchema.parse(readFile(dir)).state.cycle).toBe(cycle), { timeout: 30_000, interval: 50 });
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

/** Edits the settings section of the file the way a user or a tool would (read, change, write in place). */
function editSettings(dir: string, change: (settings: Record<string, unknown>) => void): void {
  const data = readFile(dir) as Record<string, Record<string, unknown>>;
  change(data['settings']!);
  fs.writeFileSync(path.join(dir, FILE), JSON.stringify(data, null, 2));
}

describe('NodeStore settings edited on disk (reloadSettings, SIGHUP)', () => {
  it('reloads valid edited settings and says which fields changed', () => {
    const dir = dataDir();
    const store = open(dir);
    editSettings(dir, (s) => {
      s['maxPeers'] = 3;
      s['name'] = 'edited';
      s['iceServers'] = ['stun:stun.example.org:3478'];
    });
    expect(store.settings.maxPeers).toBe(DEFAULT_SETTINGS.maxPeers);
    const result = store.reloadSettings();
    expect(result).toEqual({
      ok: true,
      settings: { ...DEFAULT_SETTINGS, maxPeers: 3, name: 'edited', iceServers: ['stun:stun.example.org:3478'] },
      changed: ['maxPeers', 'name', 'iceServers'],
    });
    expect(store.settings.maxPeers).toBe(3);
    expect(store.reloadSettings()).toMatchObject({ ok: true, changed: [] });
  });

  it('keeps an edit made between its own writes until the reload, and across a restart', () => {
    const dir = dataDir();
    const { log, lines } = recorder();
    const store = open(dir, log);
    editSettings(dir, (s) => (s['cycleMs'] = 180));
    // The node writes its state while the user has not reloaded yet: the edit must survive that write.
    store.setState({ drift: [1, 2], vu: 0.5, tc: 1, cycle: 7 });
    store.flush();
    const written = storeSchema.parse(readFile(dir));
    expect(written.state.cycle).toBe(7);
    expect(written.settings.cycleMs).toBe(180);
    expect(store.settings.cycleMs).toBe(DEFAULT_SETTINGS.cycleMs);
    expect(lines).toEqual([{ level: 'info', message: expect.stringMatching(/was edited \(cycleMs\).*SIGHUP/) }]);
    // A change from the UI meanwhile is applied and joins the edit in the file.
    store.updateSettings({ name: 'ui' });
    expect(storeSchema.parse(readFile(dir)).settings).toMatchObject({ cycleMs: 180, name: 'ui' });
    expect(store.reloadSettings()).toMatchObject({ ok: true, changed: ['cycleMs'] });
    expect(store.settings).toMatchObject({ cycleMs: 180, name: 'ui' });
    store.close();
    expect(open(dir).settings).toMatchObject({ cycleMs: 180, name: 'ui' });
  });

  it('refuses an invalid edit in one line, keeps the running settings and a copy of the edited file', () => {
    const dir = dataDir();
    const store = open(dir);
    store.updateSettings({ maxPeers: 5 });
    editSettings(dir, (s) => {
      s['beta'] = 0.9;
      s['maxPeers'] = 2;
    });
    const edited = fs.readFileSync(path.join(dir, FILE), 'utf8');
    const result = store.reloadSettings();
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/settings: beta must be a number from 0 to 0.5 \(got 0.9\)/) });
    expect(result.ok ? '' : result.error).not.toContain('\n');
    expect(store.settings).toMatchObject({ maxPeers: 5, beta: DEFAULT_SETTINGS.beta });
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith(`${FILE}.edited-`));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, aside[0]!), 'utf8')).toBe(edited);
    expect(result.ok ? '' : result.error).toContain(aside[0]);
    // The node's next write puts a valid file back.
    store.setState({ drift: [0, 0], vu: 1, tc: 1, cycle: 1 });
    store.flush();
    expect(storeSchema.parse(readFile(dir)).settings).toMatchObject({ maxPeers: 5, beta: DEFAULT_SETTINGS.beta });
  });

  it('an invalid edit found by its own next write is copied aside with one warning, and a valid file written', () => {
    const dir = dataDir();
    const { log, lines } = recorder();
    const store = open(dir, log);
    editSettings(dir, (s) => (s['port'] = 'seven'));
    store.setState({ drift: [0, 0], vu: 1, tc: 1, cycle: 3 });
    store.flush();
    expect(lines).toEqual([{ level: 'warn', message: expect.stringMatching(/was edited but is not valid \(settings: port must be an integer .*\); the running settings stay; the edited file is kept as .*\.edited-/) }]);
    expect(storeSchema.parse(readFile(dir)).settings).toEqual(DEFAULT_SETTINGS);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.edited-'))).toHaveLength(1);
    // Reported once, not at every write.
    store.setState({ drift: [0, 0], vu: 1, tc: 1, cycle: 4 });
    store.flush();
    expect(lines).toHaveLength(1);
  });

  it.each([
    ['not JSON', '{"settings": ', /cannot be read as JSON/],
    ['no settings', '{"schemaVersion": 2}', /settings: settings must be an object/],
    ['a missing field', null, /settings\.maxPeers/],
    ['an unknown field', 'unknown', /settings: unknown setting "colour"/],
  ])('refuses a file with %s', (_what, text, error) => {
    const dir = dataDir();
    const store = open(dir);
    if (text === null) editSettings(dir, (s) => delete s['maxPeers']);
    else if (text === 'unknown') editSettings(dir, (s) => (s['colour'] = 'red'));
    else fs.writeFileSync(path.join(dir, FILE), text);
    expect(store.reloadSettings()).toMatchObject({ ok: false, error: expect.stringMatching(error) });
    expect(store.settings).toEqual(DEFAULT_SETTINGS);
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

describe('NodeStore.prepare, commit and abandon (a failed start changes nothing)', () => {
  function prepare(dir: string, log: StoreLog = () => {}): NodeStore {
    const store = NodeStore.prepare(dir, { log });
    openStores.push(store);
    return store;
  }

  it('a prepared store holds the lock and writes nothing; abandon removes the directories it made', () => {
    const base = path.dirname(dataDir());
    const dir = path.join(base, 'a', 'b', 'data');
    const store = prepare(dir);
    store.updateSettings({ name: 'never' });
    store.setState({ drift: [1, 1], vu: 1, tc: 1, cycle: 5 });
    store.flush();
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE_NAME]);
    expect(() => NodeStore.prepare(dir, { log: () => {} })).toThrow(DataDirLockError);
    store.abandon();
    expect(fs.readdirSync(base)).toEqual([]);
    // Once abandoned, a store never writes, even when asked to.
    store.close();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('abandon leaves an existing file and directory exactly as they were', () => {
    const dir = dataDir();
    writeFile(dir, validStore());
    const file = path.join(dir, FILE);
    const before = { text: fs.readFileSync(file, 'utf8'), mtimeMs: fs.statSync(file).mtimeMs };
    const store = prepare(dir);
    store.updateSettings({ port: 9999 });
    store.abandon();
    expect(fs.readFileSync(file, 'utf8')).toBe(before.text);
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(fs.readdirSync(dir)).toEqual([FILE]);
  });

  it('leaves a damaged file in place and says nothing until commit, which moves it aside', () => {
    const dir = dataDir();
    writeFile(dir, '{"broken": ');
    const { log, lines } = recorder();
    const store = prepare(dir, log);
    expect(store.setAside).not.toBeNull();
    expect(fs.readFileSync(path.join(dir, FILE), 'utf8')).toBe('{"broken": ');
    expect(lines).toEqual([]);
    store.commit();
    expect(fs.readFileSync(store.setAside!, 'utf8')).toBe('{"broken": ');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(storeSchema.parse(readFile(dir)).identity.id).toBe(store.identity.id);
  });

  it('commit writes what changed since prepare, in one go', () => {
    const dir = dataDir();
    writeFile(dir, validStore());
    const store = prepare(dir);
    store.updateSettings({ name: 'cli', maxPeers: 4 });
    store.commit();
    expect(storeSchema.parse(readFile(dir)).settings).toMatchObject({ name: 'cli', maxPeers: 4, port: 7720 });
  });

  it('close releases the lock; a closed store writes nothing more', () => {
    const dir = dataDir();
    const store = open(dir);
    store.setState({ drift: [2, 2], vu: 1, tc: 1, cycle: 2 });
    store.close();
    expect(fs.readdirSync(dir)).toEqual([FILE]);
    const written = fs.readFileSync(path.join(dir, FILE), 'utf8');
    store.setState({ drift: [3, 3], vu: 1, tc: 1, cycle: 3 });
    store.flush();
    store.close();
    expect(fs.readFileSync(path.join(dir, FILE), 'utf8')).toBe(written);
    open(dir).close();
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
    const data = validStore();
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
    const data = validStore();
    writeFile(dir, { ...data, peers: [...data.peers, { id: 'bad' }, data.peers[0]] });
    const store = open(dir);
    expect(store.setAside).not.toBeNull();
    expect(store.peers).toEqual(data.peers);
  });

  it('does not trust an identity whose keys do not match', () => {
    const dir = dataDir();
    const data = validStore();
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
    writeFile(dir, { ...validStore(), schemaVersion: STORE_SCHEMA_VERSION + 1, somethingNew: true });
    const file = path.join(dir, FILE);
    const before = { text: fs.readFileSync(file, 'utf8'), mtimeMs: fs.statSync(file).mtimeMs };

    expect(() => open(dir)).toThrow(StoreError);
    expect(() => open(dir)).toThrow(
      new RegExp(`newer LVS Node \\(store schema v${STORE_SCHEMA_VERSION + 1}; this version reads up to v${STORE_SCHEMA_VERSION}\\).*left untouched`),
    );
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

  it('turns a v0 file into a valid store of the current version', () => {
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
    const data = validStore();
    expect(migrate(data)).toEqual({ ok: true, data, from: STORE_SCHEMA_VERSION });
  });

  it('v1 to v2 adds an empty iceServers setting and touches nothing else', () => {
    const v1 = validV1();
    const copy = structuredClone(v1);
    const v2 = migrateV1toV2(v1);
    expect(v1).toEqual(copy);
    expect(v2).toEqual({ ...v1, schemaVersion: 2, settings: { ...(v1['settings'] as object), iceServers: [] } });
    expect(storeSchema.parse(migrateV3toV4(migrateV2toV3(v2))).settings.iceServers).toEqual([]);
    // A settings section it cannot reshape is left for the schema (and the salvage) to judge.
    expect(migrateV1toV2({ schemaVersion: 1, settings: 'junk' })).toEqual({ schemaVersion: 2, settings: 'junk' });
    expect(migrate(v1)).toEqual({ ok: true, data: migrateV3toV4(migrateV2toV3(v2)), from: 1 });
  });

  it('v2 to v3 adds an empty udpPorts setting (any port) and touches nothing else', () => {
    const v2 = validV2();
    const copy = structuredClone(v2);
    const v3 = migrateV2toV3(v2);
    expect(v2).toEqual(copy);
    expect(v3).toEqual({ ...v2, schemaVersion: 3, settings: { ...(v2['settings'] as object), udpPorts: '' } });
    expect(storeSchema.parse(migrateV3toV4(v3)).settings.udpPorts).toBe('');
    expect(migrateV2toV3({ schemaVersion: 2, settings: 'junk' })).toEqual({ schemaVersion: 3, settings: 'junk' });
    expect(migrate(v2)).toEqual({ ok: true, data: migrateV3toV4(v3), from: 2 });
  });

  it('v3 to v4 adds an empty network memory section and touches nothing else', () => {
    const v3 = validV3();
    const copy = structuredClone(v3);
    const v4 = migrateV3toV4(v3);
    expect(v3).toEqual(copy);
    expect(v4).toEqual({ ...v3, schemaVersion: 4, memory: { lastSeq: 0, copies: [] } });
    expect(storeSchema.parse(v4).memory).toEqual({ lastSeq: 0, copies: [] });
    expect(migrate(v3)).toEqual({ ok: true, data: v4, from: 3 });
  });

  it('opens a v1 file, keeps everything in it and writes it back as the current version', () => {
    const dir = dataDir();
    const v1 = validV1();
    writeFile(dir, v1);
    const { log, lines } = recorder();
    const store = open(dir, log);
    expect(store.setAside).toBeNull();
    expect(store.createdIdentity).toBe(false);
    expect(store.identity).toEqual(v1['identity']);
    expect(store.state).toEqual(v1['state']);
    expect(store.peers).toEqual(v1['peers']);
    expect(store.settings).toEqual({ ...(v1['settings'] as object), iceServers: [], udpPorts: '' });
    expect(lines).toEqual([{ level: 'info', message: expect.stringMatching(new RegExp(`migrated .* from store schema v1 to v${STORE_SCHEMA_VERSION}`)) }]);
    const written = storeSchema.parse(readFile(dir));
    expect(written.schemaVersion).toBe(STORE_SCHEMA_VERSION);
    expect(written.settings.iceServers).toEqual([]);
    expect(written.settings.udpPorts).toBe('');
  });

  it('refuses a newer file, and tells it apart from a broken one', () => {
    expect(migrate({ schemaVersion: STORE_SCHEMA_VERSION + 1 })).toMatchObject({ ok: false, newer: true, error: expect.stringMatching(/newer/) });
    expect(migrate({ schemaVersion: '1' })).toMatchObject({ ok: false, newer: false });
    expect(migrate({ schemaVersion: -1 })).toMatchObject({ ok: false, newer: false });
    expect(migrate([1, 2])).toMatchObject({ ok: false, newer: false });
    expect(migrate(null)).toMatchObject({ ok: false, newer: false });
  });

  it('migrates a v0 file on open and writes it back as the current version', () => {
    const dir = dataDir();
    writeFile(dir, v0);
    const { log, lines } = recorder();
    const store = open(dir, log);
    expect(store.setAside).toBeNull();
    expect(store.createdIdentity).toBe(false);
    expect(store.identity).toEqual(identity);
    expect(store.state.drift).toEqual([2, 3]);
    expect(store.settings.cycleMs).toBe(120);
    expect(lines).toEqual([{ level: 'info', message: expect.stringMatching(new RegExp(`migrated .* from store schema v0 to v${STORE_SCHEMA_VERSION}`)) }]);
    expect(storeSchema.parse(readFile(dir)).schemaVersion).toBe(STORE_SCHEMA_VERSION);
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
    const iceServers = [
      'stun:stun.example.org:3478',
      'stun:192.168.1.1',
      'turn:alice:s3cret@turn.example.org:3478',
      'turns:alice:pa%40ss@turn.example.org:5349?transport=tcp',
    ];
    expect(validateSettingsPatch({ iceServers })).toEqual({ ok: true, settings: { iceServers } });
    expect(validateSettingsPatch({ iceServers: [] })).toEqual({ ok: true, settings: { iceServers: [] } });
    for (const udpPorts of ['', '50000-50100', '1024-1024', '65535-65535']) {
      expect(validateSettingsPatch({ udpPorts })).toEqual({ ok: true, settings: { udpPorts } });
    }
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
    [{ port: 7711, colour: 'red' }, 'unknown setting "colour" (known: port, cycleMs, alpha, beta, gamma, discovery, maxPeers, name, iceServers, udpPorts, allowedOrigins, blockedPeers)'],
    ...['50100-50000', '80-90', '60000-70000', '50000', '50000-', ' 50000-50100', '5e4-6e4', 50000].map((udpPorts): [unknown, string] => [
      { udpPorts },
      `udpPorts must be "A-B" with 1024 <= A <= B <= 65535 (e.g. 50000-50100), or "" for any port (got ${JSON.stringify(udpPorts)})`,
    ]),
    [{ iceServers: 'stun:a.example:3478' }, 'iceServers must be a list of at most 4 ICE server URLs, each "stun:host:port" or "turn:user:password@host:port" (got "stun:a.example:3478")'],
    [{ iceServers: ['stun:a:1', 'stun:b:1', 'stun:c:1', 'stun:d:1', 'stun:e:1'] }, expect.stringMatching(/^iceServers must be a list of at most 4/)],
    [{ iceServers: ['stun:a.example:3478', 'http://b.example'] }, 'iceServers: "http://b.example" is not "stun:host:port" or "turn:user:password@host:port" (port 1-65535, TURN needs user and password)'],
    [{ iceServers: ['turn:b.example:3478'] }, expect.stringMatching(/^iceServers: "turn:b.example:3478" is not .*TURN needs user and password/)],
    [{ iceServers: ['stun:a.example:70000'] }, expect.stringMatching(/^iceServers: "stun:a.example:70000" is not/)],
    [{ iceServers: ['turn:u:p@[::1]:3478'] }, expect.stringMatching(/is not/)],
    [{ iceServers: [7] }, 'iceServers: an ICE server must be a string like "stun:host:port" or "turn:user:password@host:port"'],
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
    const data = validStore();
    writeFile(dir, data);
    expect(conf(dir).store).toEqual(data);
    writeFile(dir, { ...data, settings: { ...data.settings, beta: 0.9 } });
    expect(() => conf(dir)).toThrow(/Config schema violation: `settings\/beta` must be <= 0.5/);
    writeFile(dir, { ...data, extra: 1 });
    expect(() => conf(dir)).toThrow(/must NOT have additional properties/);
    writeFile(dir, { ...data, settings: { ...data.settings, iceServers: ['turn:host.example:3478'] } });
    expect(() => conf(dir)).toThrow(/settings\/iceServers\/0` must match pattern/);
    writeFile(dir, { ...data, settings: { ...data.settings, iceServers: ['stun:host.example:65536'] } });
    expect(() => conf(dir)).toThrow(/settings\/iceServers\/0` must match pattern/);
    const ice = ['stun:stun.example.org:3478', 'turns:user:pa%40ss@turn.example.org:5349?transport=tcp'];
    writeFile(dir, { ...data, settings: { ...data.settings, iceServers: ice } });
    expect(conf(dir).store.settings.iceServers).toEqual(ice);
  });
});
