/**
 * The node's one JSON store (docs/store.md), written through `conf` so the
 * headless node and the desktop app (electron-store, built on conf) share
 * the file format. conf itself either throws on a bad file or, with
 * `clearInvalidConfig`, silently empties it; both would lose the identity,
 * so the file is read, migrated and checked here before conf ever sees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Conf, { type Options, type Schema } from 'conf';
import { z } from 'zod';
import { checkIdentity, createIdentity, type Identity } from '../identity/identity.js';
import { DataDirLockError, lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { MAX_ADDRESSES_PER_PEER, MAX_PEER_RECORDS, STORE_WRITE_INTERVAL_MS } from '../model/limits.js';
import { migrate } from './migrations.js';
import {
  DEFAULT_SETTINGS,
  EMPTY_MEMORY,
  STORE_SCHEMA_VERSION,
  memorySchema,
  peerBookEntrySchema,
  settingsSchema,
  settingsShape,
  stateSchema,
  storeSchema,
  validateSettingsPatch,
  type PeerBookEntry,
  type Settings,
  type StoreData,
  type StoredMemorySection,
  type StoredState,
} from './schema.js';

export type StoreLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** A failure the user has to act on, in one line. */
export class StoreError extends Error {
  override name = 'StoreError';
}

const CONFIG_NAME = 'lvs-node';
const FILE_NAME = `${CONFIG_NAME}.json`;
/** The store file's name in its data dir. */
export const STORE_FILE_NAME = FILE_NAME;
/** `atomically` writes `<file>.tmp-<10 digits><6 hex>` then renames it; a killed writer leaves one behind. */
const LEFTOVER_TEMP_FILE = /^lvs-node\.json\.tmp-\d{10}[0-9a-f]{6}$/;

/** Alone, a node agrees with itself and trusts no one less (docs/drift-model.md §6). */
export const INITIAL_STATE: StoredState = { drift: [0, 0], vu: 1, tc: 1, cycle: 0 };

export interface StoreOpenOptions {
  log: StoreLog;
  /** Settings of a fresh store (first start, or a file whose settings were lost). */
  defaults?: Partial<Settings>;
  /**
   * Makes the conf instance that writes the file. The desktop app passes
   * electron-store (a Conf subclass taking the same options), so both write
   * the same lvs-node.json with the same schema and a data dir moves between them.
   */
  createConf?: (options: Options<StoreData>) => Conf<StoreData>;
}

/**
 * mkdir -p, one level at a time: Node 20's `mkdirSync(dir, { recursive: true })`
 * spins forever on a path under /proc (ENOENT it cannot resolve), and a user
 * typo in --data-dir must end in one error line, not a hung process.
 * Returns the directories it made, outermost first; if it fails, it removes them again.
 */
export function makeDirectory(dir: string): string[] {
  const missing: string[] = [];
  let at = dir;
  while (!fs.existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  const made: string[] = [];
  try {
    for (const level of missing) {
      fs.mkdirSync(level, { mode: 0o700 });
      made.push(level);
    }
  } catch (error) {
    removeDirectories(made);
    throw error;
  }
  return made;
}

/** Undoes makeDirectory: removes the directories it made, innermost first, as long as they are empty. */
export function removeDirectories(made: readonly string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // Not empty (someone else put something there meanwhile) or gone: leave it.
    }
  }
}

/** conf takes the root's `properties` apart from the rest of the root schema. */
export function confSchemas(): { schema: Schema<StoreData>; rootSchema: NonNullable<Options<StoreData>['rootSchema']> } {
  const { properties, ...rootSchema } = z.toJSONSchema(storeSchema);
  return {
    schema: properties as Schema<StoreData>,
    rootSchema: rootSchema as NonNullable<Options<StoreData>['rootSchema']>,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): unknown {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

function describeIssues(error: z.ZodError): string {
  const [first, ...others] = error.issues;
  if (!first) return 'invalid';
  const where = first.path.join('.') || '(root)';
  return `${where}: ${first.message}${others.length > 0 ? ` (and ${others.length} more problems)` : ''}`;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** What tells one version of the file from another without reading it. */
interface FileMark {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

function markOf(file: string): FileMark | null {
  try {
    const st = fs.statSync(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  } catch {
    return null;
  }
}

function sameMark(a: FileMark, b: FileMark): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

const SETTINGS_KEYS = Object.keys(settingsShape) as (keyof Settings)[];

/** The settings fields whose values differ between `a` and `b` (lists compared by content). */
export function changedSettings(a: Settings, b: Settings): (keyof Settings)[] {
  return SETTINGS_KEYS.filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}

export type SettingsReload = { ok: true; settings: Settings; changed: (keyof Settings)[] } | { ok: false; error: string };

interface Notice {
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** A store file as read, and what opening it will change on disk (done by commit(), not before). */
interface Loaded {
  data: StoreData;
  createdIdentity: boolean;
  /** Where a damaged file goes aside; it is still in place until commit(). */
  setAside: string | null;
  /** Said at commit(): a start that fails must not report a move or migration it never made. */
  notices: Notice[];
}

function freshStore(settings: Settings): StoreData {
  return {
    schemaVersion: STORE_SCHEMA_VERSION,
    identity: createIdentity(),
    state: { ...INITIAL_STATE },
    peers: [],
    settings,
    memory: { ...EMPTY_MEMORY, copies: [] },
  };
}

function removeLeftoverTempFiles(dir: string, log: StoreLog): void {
  const leftovers = fs.readdirSync(dir).filter((name) => LEFTOVER_TEMP_FILE.test(name));
  for (const name of leftovers) fs.rmSync(path.join(dir, name), { force: true });
  if (leftovers.length > 0) {
    log('info', `removed ${leftovers.length} temporary file(s) left in ${dir} by an interrupted write`);
  }
}

/**
 * Moves a bad file aside and keeps every section of it that still checks
 * out on its own: losing a peer book is a nuisance, losing the identity
 * changes who this node is, so that one is reported loudly.
 */
function salvage(file: string, candidate: unknown, problem: string, freshSettings: Settings): Loaded {
  const sections = isObject(candidate) ? candidate : {};
  const identity = checkIdentity(sections['identity']);
  const state = stateSchema.safeParse(sections['state']);
  const settings = settingsSchema.safeParse(sections['settings']);
  const memory = memorySchema.safeParse(sections['memory']);
  const seen = new Set<string>();
  const peers: PeerBookEntry[] = [];
  for (const entry of Array.isArray(sections['peers']) ? sections['peers'] : []) {
    const parsed = peerBookEntrySchema.safeParse(entry);
    if (parsed.success && !seen.has(parsed.data.id) && peers.length < MAX_PEER_RECORDS) {
      seen.add(parsed.data.id);
      peers.push(parsed.data);
    }
  }

  const aside = `${file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
  const kept = [
    identity ? 'identity' : null,
    state.success ? 'state' : null,
    peers.length > 0 ? `${peers.length} peer record(s)` : null,
    settings.success ? 'settings' : null,
    memory.success && memory.data.copies.length > 0 ? `${memory.data.copies.length} held record cop${memory.data.copies.length === 1 ? 'y' : 'ies'}` : null,
  ].filter((s) => s !== null);
  const notices: Notice[] = [
    {
      level: 'warn',
      message:
        `store ${file} was unreadable (${problem}); moved it to ${aside} and started from defaults` +
        (kept.length > 0 ? `, keeping its ${kept.join(', ')}` : ''),
    },
  ];
  const data: StoreData = {
    schemaVersion: STORE_SCHEMA_VERSION,
    identity: identity ?? createIdentity(),
    state: state.success ? state.data : { ...INITIAL_STATE },
    peers,
    settings: settings.success ? settings.data : freshSettings,
    // Our seq and the copies belong to the identity: a new identity starts with none.
    memory: identity && memory.success ? memory.data : { ...EMPTY_MEMORY, copies: [] },
  };
  if (!identity) {
    notices.push({
      level: 'error',
      message:
        `THE NODE IDENTITY COULD NOT BE RECOVERED: this node now has the NEW id ${data.identity.id}; ` +
        `the old file is kept at ${aside}`,
    });
  }
  return { data, createdIdentity: !identity, setAside: aside, notices };
}

/** Reads, migrates and checks the file; changes nothing on disk. */
function load(file: string, freshSettings: Settings): Loaded {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { data: freshStore(freshSettings), createdIdentity: true, setAside: null, notices: [] };
    throw new StoreError(`cannot read ${file}: ${messageOf(error)}`);
  }

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return salvage(file, undefined, `not valid JSON: ${messageOf(error)}`, freshSettings);
  }

  const migrated = migrate(raw);
  if (!migrated.ok) {
    if (migrated.newer) throw new StoreError(`${file}: ${migrated.error}; the file was left untouched`);
    return salvage(file, raw, migrated.error, freshSettings);
  }
  const parsed = storeSchema.safeParse(migrated.data);
  if (!parsed.success) return salvage(file, migrated.data, describeIssues(parsed.error), freshSettings);
  if (!checkIdentity(parsed.data.identity)) {
    return salvage(file, migrated.data, 'its identity keys do not match each other or its id', freshSettings);
  }
  const notices: Notice[] =
    migrated.from < STORE_SCHEMA_VERSION ? [{ level: 'info', message: `migrated ${file} from store schema v${migrated.from} to v${STORE_SCHEMA_VERSION}` }] : [];
  return { data: parsed.data, createdIdentity: false, setAside: null, notices };
}

/** How a prepared store reaches the disk at commit(), and what abandon() undoes. */
interface Pending {
  dir: string;
  /** Directories prepare() made for the data dir (outermost first), removed again by abandon(). */
  madeDirectories: string[];
  loaded: Loaded;
  createConf: (options: Options<StoreData>) => Conf<StoreData>;
}

/**
 * A node's store. `NodeStore.prepare` reads the data dir and takes its
 * lock without writing anything, so a start that fails later (a port in
 * use) can `abandon()` it and leave the disk as it was; `commit()` then
 * writes the file. `NodeStore.open` does both at once.
 */
export class NodeStore {
  readonly path: string;
  readonly identity: Identity;
  readonly createdIdentity: boolean;
  readonly setAside: string | null;

  /** Null until commit(): nothing is written before. */
  #conf: Conf<StoreData> | null = null;
  #pending: Pending | null;
  readonly #lock: DataDirLock;
  readonly #log: StoreLog;
  #state: StoredState;
  #settings: Settings;
  /** Replaced, never mutated, so the array handed out by `peers` stays as it was. */
  #peers: readonly PeerBookEntry[];
  #memory: StoredMemorySection;
  #dirty = false;
  #timer: NodeJS.Timeout | null = null;
  #lastWriteAt = -Infinity;
  #closed = false;
  /** The data dir lock is given up: another node may own the dir now, so nothing is written any more. */
  #released = false;
  #failing = false;
  /** The file as this store last wrote (or opened) it: anything else there was written by someone else. */
  #mark: FileMark | null = null;
  /**
   * Valid settings someone wrote into the file while the node ran: not
   * applied (that is what reloadSettings, on SIGHUP, is for), but written
   * back with every write so the edit is not lost before the reload or the
   * next start.
   */
  #pendingSettings: Settings | null = null;

  private constructor(pending: Pending, lock: DataDirLock, log: StoreLog) {
    const { loaded } = pending;
    this.#pending = pending;
    this.#lock = lock;
    this.#log = log;
    this.path = path.join(pending.dir, FILE_NAME);
    this.identity = Object.freeze(loaded.data.identity);
    this.createdIdentity = loaded.createdIdentity;
    this.setAside = loaded.setAside;
    this.#state = loaded.data.state;
    this.#settings = loaded.data.settings;
    this.#peers = loaded.data.peers;
    this.#memory = loaded.data.memory;
  }

  /**
   * Reads the data dir and takes its lock (DataDirLockError names the pid
   * of a running node holding it), changing nothing else on disk: the dir
   * is made if missing (abandon() removes it again) and the lock file
   * created. Settings, state and peers can be changed in memory; commit()
   * writes them. `defaults` are the settings of a store that has none: a
   * first start, or a file whose settings section was lost.
   */
  static prepare(dataDir: string, options: StoreOpenOptions): NodeStore {
    const dir = path.resolve(dataDir);
    const checkedDefaults = validateSettingsPatch(options.defaults ?? {});
    if (!checkedDefaults.ok) throw new StoreError(`invalid default settings: ${checkedDefaults.error}`);
    let madeDirectories: string[];
    try {
      madeDirectories = makeDirectory(dir);
    } catch (error) {
      throw new StoreError(`cannot use data directory ${dir}: ${messageOf(error)}`);
    }
    let lock: DataDirLock;
    try {
      lock = lockDataDir(dir, (message) => options.log('info', message));
    } catch (error) {
      removeDirectories(madeDirectories);
      if (error instanceof DataDirLockError) throw error;
      throw new StoreError(`cannot use data directory ${dir}: ${messageOf(error)}`);
    }
    let loaded: Loaded;
    try {
      loaded = load(path.join(dir, FILE_NAME), { ...DEFAULT_SETTINGS, ...checkedDefaults.settings });
    } catch (error) {
      lock.release();
      removeDirectories(madeDirectories);
      throw error;
    }
    const createConf = options.createConf ?? ((confOptions: Options<StoreData>) => new Conf<StoreData>(confOptions));
    return new NodeStore({ dir, madeDirectories, loaded, createConf }, lock, options.log);
  }

  /** prepare() and commit() in one: the store is on disk when this returns. */
  static open(dataDir: string, options: StoreOpenOptions): NodeStore {
    const store = NodeStore.prepare(dataDir, options);
    try {
      store.commit();
    } catch (error) {
      store.abandon();
      throw error;
    }
    return store;
  }

  /**
   * Writes the prepared store: cleans up temporary files of an interrupted
   * write, moves a damaged file aside, says what was migrated or salvaged,
   * and writes the file (with the changes made since prepare()) if it is not
   * already what the store holds. Idempotent.
   */
  commit(): void {
    const pending = this.#pending;
    if (!pending) return;
    if (this.#closed) throw new StoreError(`${this.path}: the store was closed before it was written`);
    const { dir, loaded } = pending;
    try {
      removeLeftoverTempFiles(dir, this.#log);
    } catch (error) {
      throw new StoreError(`cannot use data directory ${dir}: ${messageOf(error)}`);
    }
    if (loaded.setAside) {
      try {
        fs.renameSync(this.path, loaded.setAside);
      } catch (error) {
        throw new StoreError(`${this.path} is unreadable and could not be moved aside: ${messageOf(error)}`);
      }
    }
    for (const notice of loaded.notices) this.#log(notice.level, notice.message);

    // By now the file is absent, valid, or an old layout whose migration is in
    // memory: conf writes `defaults` (our data) in the first and last case,
    // and clearInvalidConfig is what lets it replace the old layout instead of throwing.
    try {
      this.#conf = pending.createConf({
        cwd: dir,
        configName: CONFIG_NAME,
        configFileMode: 0o600,
        ...confSchemas(),
        defaults: this.#snapshot(),
        clearInvalidConfig: true,
        accessPropertiesByDotNotation: false,
      });
    } catch (error) {
      throw new StoreError(`cannot write ${this.path}: ${messageOf(error)}`);
    }
    this.#pending = null;
    this.#mark = markOf(this.path);
    // Changes made before commit (settings from the command line) that conf kept out in favour of the file.
    if (this.#dirty) this.flush();
  }

  /**
   * Gives up a store that was prepared but not committed: releases the lock
   * and removes the directories prepare() made, so a failed start leaves the
   * disk as it found it. Nothing is written.
   */
  abandon(): void {
    if (!this.#pending) return;
    this.#closed = true;
    this.#released = true;
    this.#cancelTimer();
    this.#lock.release();
    removeDirectories(this.#pending.madeDirectories);
    this.#pending = null;
  }

  get state(): StoredState {
    const s = this.#state;
    return { ...s, drift: [s.drift[0], s.drift[1]] };
  }

  /** Throws RangeError for a state the file could not hold (the next start would reject it). */
  setState(state: StoredState): void {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) throw new RangeError(`invalid node state: ${describeIssues(parsed.error)}`);
    this.#state = parsed.data;
    this.#markDirty();
  }

  /** The network memory's section: our last record seq and the copies we hold. */
  get memory(): StoredMemorySection {
    return this.#memory;
  }

  /** Throws RangeError for a section the file could not hold (more than MAX_STORED_COPIES copies, a malformed record). */
  setMemory(memory: StoredMemorySection): void {
    const parsed = memorySchema.safeParse(memory);
    if (!parsed.success) throw new RangeError(`invalid network memory section: ${describeIssues(parsed.error)}`);
    this.#memory = parsed.data;
    this.#markDirty();
  }

  get settings(): Settings {
    return { ...this.#settings, iceServers: [...this.#settings.iceServers] };
  }

  updateSettings(patch: Partial<Settings>): Settings {
    const checked = validateSettingsPatch(patch);
    if (!checked.ok) throw new StoreError(checked.error);
    const previous = this.#settings;
    const previousPending = this.#pendingSettings;
    this.#settings = { ...previous, ...checked.settings };
    // An edit of the file still waiting for a reload keeps waiting, with this change in it too.
    if (this.#pendingSettings) this.#pendingSettings = { ...this.#pendingSettings, ...checked.settings };
    this.#dirty = true;
    try {
      this.flush();
    } catch (error) {
      this.#settings = previous;
      this.#pendingSettings = previousPending;
      throw error;
    }
    return this.settings;
  }

  /**
   * Reads the settings section of the file as it is on disk now (a user or
   * a tool edited it) and, if it is valid, makes it the store's settings;
   * the identity, state and peer book in memory stay as they are. An
   * invalid file changes nothing: the error is one line, and the edited
   * file is copied aside (the node's next write replaces it).
   */
  reloadSettings(): SettingsReload {
    const read = this.#readSettingsOnDisk();
    if (!read.ok) {
      const aside = this.#keepEditedCopy();
      this.#mark = markOf(this.path);
      return { ok: false, error: `${this.path}: ${read.error}${aside ? ` (the edited file is kept as ${aside})` : ''}` };
    }
    const changed = changedSettings(this.#settings, read.settings);
    this.#settings = read.settings;
    this.#pendingSettings = null;
    this.#mark = markOf(this.path);
    return { ok: true, settings: this.settings, changed };
  }

  get peers(): readonly PeerBookEntry[] {
    return this.#peers;
  }

  /** Throws RangeError for a record the file could not hold. */
  rememberPeer(id: string, address: string | null, name: string, now: number): void {
    const known = this.#peers.find((p) => p.id === id)?.addresses ?? [];
    const addresses =
      address === null ? known : [address, ...known.filter((a) => a !== address)].slice(0, MAX_ADDRESSES_PER_PEER);
    const parsed = peerBookEntrySchema.safeParse({ id, name, addresses, lastSeen: now });
    if (!parsed.success) throw new RangeError(`invalid peer record: ${describeIssues(parsed.error)}`);
    const peers = [parsed.data, ...this.#peers.filter((p) => p.id !== id)];
    if (peers.length > MAX_PEER_RECORDS) {
      // The peer just seen stays even if its clock says otherwise.
      let oldest = 1;
      for (let i = 2; i < peers.length; i++) {
        if (peers[i]!.lastSeen < peers[oldest]!.lastSeen) oldest = i;
      }
      peers.splice(oldest, 1);
    }
    this.#peers = peers;
    this.#markDirty();
  }

  /** Throws StoreError if the write fails; the change stays pending, retried in the background until close(). */
  flush(): void {
    this.#cancelTimer();
    if (this.#dirty && this.#conf && !this.#released) this.#writeNow();
  }

  /**
   * Writes what is pending and releases the data dir lock. After close,
   * changes are still kept in memory but never written: another node may
   * own the dir by then. A store never committed is abandoned instead.
   */
  close(): void {
    if (this.#pending) return this.abandon();
    if (this.#released) return;
    this.#closed = true;
    try {
      this.flush();
    } finally {
      this.#released = true;
      this.#lock.release();
    }
  }

  #markDirty(): void {
    this.#dirty = true;
    this.#scheduleWrite();
  }

  #scheduleWrite(): void {
    // Before commit() nothing is written; commit() writes what has changed.
    if (this.#timer !== null || this.#closed || this.#conf === null) return;
    const wait = Math.max(0, this.#lastWriteAt + STORE_WRITE_INTERVAL_MS - performance.now());
    this.#timer = setTimeout(() => this.#writeInBackground(), wait);
    // A pending write must not keep the process alive; shutdown calls close().
    this.#timer.unref();
  }

  #cancelTimer(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  #writeInBackground(): void {
    this.#timer = null;
    if (!this.#dirty || this.#released) return;
    try {
      this.#writeNow();
    } catch (error) {
      // Once per outage: a full disk would otherwise log every second.
      if (!this.#failing) this.#log('error', `${messageOf(error)}; retrying every ${STORE_WRITE_INTERVAL_MS} ms`);
      this.#failing = true;
      return;
    }
    if (this.#failing) this.#log('info', `writing ${this.path} works again`);
    this.#failing = false;
  }

  #writeNow(): void {
    this.#lastWriteAt = performance.now();
    this.#noticeEdit();
    try {
      this.#conf!.store = this.#snapshot();
    } catch (error) {
      this.#scheduleWrite();
      throw new StoreError(`cannot write ${this.path}: ${messageOf(error)}`);
    }
    this.#mark = markOf(this.path);
    this.#dirty = false;
  }

  /** What the file holds: the store in memory, with settings edited on disk and not yet reloaded. */
  #snapshot(): StoreData {
    return {
      schemaVersion: STORE_SCHEMA_VERSION,
      identity: this.identity,
      state: this.#state,
      peers: [...this.#peers],
      settings: this.#pendingSettings ?? this.#settings,
      memory: this.#memory,
    };
  }

  /**
   * Before each write: was the file changed by someone else since we last
   * wrote it? Valid edited settings are kept (pending until reloadSettings);
   * an invalid edit is copied aside so the text is not lost when we write.
   */
  #noticeEdit(): void {
    const mark = markOf(this.path);
    if (!mark || !this.#mark || sameMark(mark, this.#mark)) return;
    this.#mark = mark;
    const read = this.#readSettingsOnDisk();
    if (read.ok) {
      const pending = changedSettings(this.#settings, read.settings).length > 0 ? read.settings : null;
      const news = pending !== null && (this.#pendingSettings === null || changedSettings(this.#pendingSettings, pending).length > 0);
      this.#pendingSettings = pending;
      if (news) {
        this.#log(
          'info',
          `${this.path} was edited (${changedSettings(this.#settings, pending).join(', ')}): the new settings apply on SIGHUP ` +
            `(systemctl --user reload lvs-node) or at the next start, and stay in the file until then`,
        );
      }
      return;
    }
    const aside = this.#keepEditedCopy();
    this.#log('warn', `${this.path} was edited but is not valid (${read.error}); the running settings stay${aside ? `; the edited file is kept as ${aside}` : ''}`);
  }

  #keepEditedCopy(): string | null {
    const aside = `${this.path}.edited-${new Date().toISOString().replaceAll(':', '-')}`;
    try {
      fs.copyFileSync(this.path, aside);
      fs.chmodSync(aside, 0o600);
      return aside;
    } catch {
      return null;
    }
  }

  /** The settings section of the file on disk, checked like a settings update (one-line errors, without the path). */
  #readSettingsOnDisk(): { ok: true; settings: Settings } | { ok: false; error: string } {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(this.path, 'utf8'));
    } catch (error) {
      return { ok: false, error: `cannot be read as JSON: ${messageOf(error).replace(/\s*\n\s*/g, ' ')}` };
    }
    const migrated = migrate(raw);
    if (!migrated.ok) return { ok: false, error: migrated.error };
    const section = isObject(migrated.data) ? migrated.data['settings'] : undefined;
    const checked = validateSettingsPatch(section);
    if (!checked.ok) return { ok: false, error: `settings: ${checked.error}` };
    const parsed = settingsSchema.safeParse(section);
    if (!parsed.success) return { ok: false, error: `settings.${describeIssues(parsed.error)}` };
    return { ok: true, settings: parsed.data };
  }
}
