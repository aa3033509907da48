/**
 * A browser node's identity and state, kept in IndexedDB: an Ed25519 key
 * pair made with WebCrypto (the private key is not extractable: it can sign
 * in this browser profile and nowhere else) and the drift state, saved as
 * the node runs. A reload keeps both.
 *
 * Every open tab is a node of its own. Tabs of one browser profile share
 * IndexedDB, so each takes a numbered slot with an exclusive Web Lock held
 * for the tab's lifetime: the first tab gets slot 0, a second tab open at
 * the same time slot 1, and a reloaded tab gets its slot back once the old
 * page released the lock. Two tabs can never run the same identity.
 */
import type { Settings } from '../../main/bridge/api.js';
import { MAX_COORDINATE } from '../../main/model/limits.js';
import { validateSettingsPatch } from '../../main/store/schema.js';
import type { HandshakeCrypto } from '../../main/protocol/handshake.js';
import { nobleHandshake, nobleIdOf, nobleKeygen, nobleNetworkKey, noblePublicKey } from './noble-handshake.js';
import { deriveNetworkMacKey, generateIdentityKeys, idOfPublicKey, rawPublicKey, webCryptoHandshake } from './webcrypto-handshake.js';

/** Slots (tabs running at once per browser profile); a tab beyond them says so and does not start. */
export const MAX_TAB_SLOTS = 16;
const DB_NAME = 'lvs-node';
const DB_VERSION = 1;
const SLOTS = 'slots';
const LOCK_PREFIX = 'lvs-node-slot-';

export interface TabState {
  drift: [number, number];
  vu: number;
  tc: number;
  cycle: number;
}

export interface TabIdentity {
  slot: number;
  id: string;
  publicKey: Uint8Array;
  /** 'webcrypto': a key WebCrypto will not export (secure contexts); 'noble': key bytes (plain http from the LAN). */
  backend: 'webcrypto' | 'noble';
  /** The handshake's primitives with this identity's key (and the network key, if any). */
  handshake(networkPassphrase: string | null): Promise<HandshakeCrypto>;
  /** The state saved last time, or null for a new identity. */
  state: TabState | null;
  /** The tab's own settings saved last time (name, drift parameters, blocked peers), or null. */
  settings: Partial<Settings> | null;
  /** Saves state and settings (the node calls it as it runs and when the page goes away). */
  save(saved: { state: TabState; settings: Partial<Settings> }): Promise<void>;
}

interface SlotRecord {
  slot: number;
  id: string;
  keys?: CryptoKeyPair;
  secretKey?: Uint8Array;
  state: TabState | null;
  settings?: unknown;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function openDb(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(SLOTS)) req.result.createObjectStore(SLOTS, { keyPath: 'slot' });
  };
  return request(req);
}

/** A saved state is used only if it is one a node could have: anything else starts fresh. */
function plausibleState(x: unknown): TabState | null {
  if (x === null || typeof x !== 'object') return null;
  const { drift, vu, tc, cycle } = x as Record<string, unknown>;
  const finite = (v: unknown, bound: number): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= bound;
  if (!Array.isArray(drift) || drift.length !== 2 || !finite(drift[0], MAX_COORDINATE) || !finite(drift[1], MAX_COORDINATE)) return null;
  if (!finite(vu, 1) || vu < 0 || !finite(tc, 1) || tc < 0) return null;
  if (typeof cycle !== 'number' || !Number.isSafeInteger(cycle) || cycle < 0) return null;
  return { drift: [drift[0], drift[1]], vu, tc, cycle };
}

/** Saved settings pass the same checks as a settings update, or none are used. */
function savedSettings(x: unknown): Partial<Settings> | null {
  if (x === undefined || x === null) return null;
  const checked = validateSettingsPatch(x);
  return checked.ok ? checked.settings : null;
}

/** Without Web Locks, a tab asks the others on this channel whether a slot is theirs. */
const SLOT_CHANNEL = 'lvs-node-slots';
/** How long a tab waits for an answer to "is slot N yours?". */
const SLOT_ANSWER_MS = 200;
let slotChannel: BroadcastChannel | null = null;

/**
 * Web Locks exist only in secure contexts. Elsewhere (a page loaded over
 * plain http from another machine) a tab asks the open tabs of this origin,
 * slot by slot, whether one holds it; two tabs that start within
 * SLOT_ANSWER_MS of each other could both take a slot (then the newer
 * instance wins at their hub, and the other tab is told so in its log).
 */
async function takeSlotByAsking(): Promise<number | null> {
  const channel = (slotChannel = new BroadcastChannel(SLOT_CHANNEL));
  let mine = -1;
  const heard = new Set<number>();
  channel.onmessage = (event: MessageEvent) => {
    const data = event.data as { q?: unknown; taken?: unknown } | null;
    if (typeof data?.q === 'number' && data.q === mine) channel.postMessage({ taken: mine });
    if (typeof data?.taken === 'number') heard.add(data.taken);
  };
  for (let slot = 0; slot < MAX_TAB_SLOTS; slot++) {
    channel.postMessage({ q: slot });
    await new Promise((resolve) => setTimeout(resolve, SLOT_ANSWER_MS));
    if (!heard.has(slot)) {
      mine = slot;
      return slot;
    }
  }
  return null;
}

/** Takes the first free slot's lock and holds it until the page goes away; null when every slot is taken. */
async function takeSlot(): Promise<number | null> {
  if (!('locks' in navigator)) return takeSlotByAsking();
  for (let slot = 0; slot < MAX_TAB_SLOTS; slot++) {
    const got = await new Promise<boolean>((resolve) => {
      void navigator.locks.request(`${LOCK_PREFIX}${slot}`, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Held for the page's lifetime: the promise never settles.
        return lock ? new Promise<void>(() => {}) : undefined;
      });
    });
    if (got) return slot;
  }
  return null;
}

export class NoFreeSlotError extends Error {
  constructor() {
    super(`${MAX_TAB_SLOTS} tabs of this browser are nodes already; close one to join with another`);
    this.name = 'NoFreeSlotError';
  }
}

/** Whether WebCrypto here signs with Ed25519 (secure contexts of current browsers). */
async function webCryptoEd25519(): Promise<boolean> {
  if (!globalThis.crypto?.subtle) return false;
  try {
    await generateIdentityKeys();
    return true;
  } catch {
    return false;
  }
}

/** The record's key and the public key and id it stands for, or null if it holds none we can use. */
async function keyOf(record: SlotRecord | undefined, webcrypto: boolean): Promise<{ publicKey: Uint8Array; id: string } | null> {
  if (!record) return null;
  if (webcrypto && record.keys?.privateKey instanceof CryptoKey && record.keys.publicKey instanceof CryptoKey) {
    const publicKey = await rawPublicKey(record.keys);
    return { publicKey, id: await idOfPublicKey(publicKey) };
  }
  if (record.secretKey instanceof Uint8Array && record.secretKey.length === 32) {
    const publicKey = noblePublicKey(record.secretKey);
    return { publicKey, id: nobleIdOf(publicKey) };
  }
  return null;
}

/** This tab's identity: its slot's saved one, or a new one made and saved now. */
export async function loadTabIdentity(): Promise<TabIdentity> {
  const slot = await takeSlot();
  if (slot === null) throw new NoFreeSlotError();
  const webcrypto = await webCryptoEd25519();
  const db = await openDb();
  let record = (await request(db.transaction(SLOTS, 'readonly').objectStore(SLOTS).get(slot))) as SlotRecord | undefined;
  let key = await keyOf(record, webcrypto);
  // A record whose id does not belong to its key was not written by us: make a new identity.
  if (!key || key.id !== record!.id) {
    if (webcrypto) {
      const keys = await generateIdentityKeys();
      const publicKey = await rawPublicKey(keys);
      key = { publicKey, id: await idOfPublicKey(publicKey) };
      record = { slot, id: key.id, keys, state: null };
    } else {
      const { secretKey, publicKey } = nobleKeygen();
      key = { publicKey, id: nobleIdOf(publicKey) };
      record = { slot, id: key.id, secretKey, state: null };
    }
    await request(db.transaction(SLOTS, 'readwrite').objectStore(SLOTS).put(record));
  }
  const kept = record!;
  const publicKey = key.publicKey;
  return {
    slot,
    id: kept.id,
    publicKey,
    backend: kept.keys ? 'webcrypto' : 'noble',
    handshake: async (passphrase) => {
      if (kept.keys) return webCryptoHandshake(kept.keys, publicKey, passphrase ? await deriveNetworkMacKey(passphrase) : null);
      return nobleHandshake(kept.secretKey!, passphrase ? nobleNetworkKey(passphrase) : null);
    },
    state: plausibleState(kept.state),
    settings: savedSettings(kept.settings),
    save: async ({ state, settings }) => {
      await request(db.transaction(SLOTS, 'readwrite').objectStore(SLOTS).put({ ...kept, state, settings }));
    },
  };
}
