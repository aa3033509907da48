/**
 * The store file (docs/store.md): one zod schema is the source of truth; the
 * (pure: the settings schema is shared with the bridge and the dashboard)
 * TypeScript types are inferred from it and the JSON Schema that `conf`
 * validates every write with is derived from it, so the two can't disagree.
 * Objects are strict on purpose: JSON Schema output says
 * `additionalProperties: false`, and a zod schema that merely stripped
 * unknown keys would accept files that conf then refuses.
 */
import { z } from 'zod';
import {
  DEFAULT_MAX_PEERS,
  DEFAULT_PORT,
  MAX_ADDRESSES_PER_PEER,
  MAX_COORDINATE,
  MAX_CYCLE_MS,
  MAX_NAME_LENGTH,
  MAX_PEERS_CEILING,
  MAX_PEER_RECORDS,
  MIN_CYCLE_MS,
  MAX_ADDRESS_LENGTH,
  MAX_ICE_SERVERS,
  MAX_ICE_SERVER_URL_LENGTH,
  MAX_UDP_PORT,
  MIN_PINNED_UDP_PORT,
  MAX_ALLOWED_ORIGINS,
  MAX_BLOCKED_PEERS,
  MAX_ORIGIN_LENGTH,
  MAX_STORED_COPIES,
} from '../model/limits.js';
import { nodeId, nodeIdPattern } from '../protocol/messages.js';
import { stateRecordSchema } from '../memory/record.js';

/** v2 added `settings.iceServers`, v3 `settings.udpPorts`, v4 `memory` (see migrations.ts). */
export const STORE_SCHEMA_VERSION = 4;

/** "host:port" or "[v6]:port"; the host part is what we connected to, not resolved here. */
const addressPattern = /^(?:\[[^\]\s]+\]|[^\s:[\]]+):[0-9]{1,5}$/;

/** A host name or IPv4 address (libdatachannel reads no IPv6 literal in an ICE server URL). */
const ICE_HOST = '[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?';
/** 1-65535, spelled out so the JSON Schema conf checks with says the same as zod. */
const ICE_PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

/**
 * An ICE server URL in the form WebRtcTransport (libdatachannel) takes:
 * `stun:host[:port]` (libdatachannel knows no `stuns:`), and
 * `turn:user:password@host[:port]` or `turns:...`, optionally
 * `?transport=udp|tcp|tls` (user and password percent-encoded if they hold
 * `:`, `@`, `/`, `?`, `#` or spaces).
 */
export const iceServerPattern = new RegExp(
  `^(?:stun:${ICE_HOST}(?::${ICE_PORT})?` +
    `|turns?:[^\\s:@/?#]+:[^\\s@/?#]+@${ICE_HOST}(?::${ICE_PORT})?(?:\\?transport=(?:udp|tcp|tls))?)$`,
);

export const ICE_SERVER_FORMS = '"stun:host:port" or "turn:user:password@host:port"';

/** Why `url` is not an ICE server URL the node can use, or null if it is one. */
export function checkIceServer(url: unknown): string | null {
  if (typeof url !== 'string') return `an ICE server must be a string like ${ICE_SERVER_FORMS}`;
  if (url.length > MAX_ICE_SERVER_URL_LENGTH) return `an ICE server URL is at most ${MAX_ICE_SERVER_URL_LENGTH} characters`;
  if (!iceServerPattern.test(url)) return `${JSON.stringify(url.slice(0, 80))} is not ${ICE_SERVER_FORMS} (port 1-65535, TURN needs user and password)`;
  return null;
}

/** A pinned UDP port range for WebRTC, as RtcConfig's portRangeBegin/portRangeEnd take it. */
export interface UdpPortRange {
  begin: number;
  end: number;
}

export const UDP_PORTS_FORM = `"A-B" with ${MIN_PINNED_UDP_PORT} <= A <= B <= ${MAX_UDP_PORT} (e.g. 50000-50100), or "" for any port`;

/**
 * The range a `udpPorts` value pins, null for "" (any port the system
 * gives), undefined if the text is not a valid range.
 */
export function parseUdpPorts(text: string): UdpPortRange | null | undefined {
  if (text === '') return null;
  const match = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(text);
  if (!match) return undefined;
  const begin = Number(match[1]);
  const end = Number(match[2]);
  if (begin < MIN_PINNED_UDP_PORT || end > MAX_UDP_PORT || begin > end) return undefined;
  return { begin, end };
}

/**
 * A web origin as a browser sends it in the Origin header: `http` or
 * `https`, a lower-case host name, IPv4 address or [IPv6] address, and a
 * port unless it is the scheme's default.
 */
const ORIGIN_HOST = '(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\\[[0-9a-f:.]+\\])';
export const originPattern = new RegExp(`^https?://${ORIGIN_HOST}(?::${ICE_PORT})?$`);

/** Why `origin` cannot be an allowed origin (it would never match what a browser sends), or null. */
export function checkOrigin(origin: unknown): string | null {
  if (typeof origin !== 'string') return 'an origin must be a string like "http://host:port"';
  if (origin.length > MAX_ORIGIN_LENGTH) return `an origin is at most ${MAX_ORIGIN_LENGTH} characters`;
  const shown = JSON.stringify(origin.slice(0, 80));
  if (!originPattern.test(origin)) {
    if (originPattern.test(origin.toLowerCase())) return `${shown}: write the origin in lower case, as browsers send it`;
    return `${shown} is not an origin "http://host[:port]" or "https://host[:port]" (no path, no trailing slash)`;
  }
  if (/^http:\/\/.*:80$/.test(origin) || /^https:\/\/.*:443$/.test(origin)) return `${shown}: leave out the default port, as browsers do`;
  return null;
}

function intIn(min: number, max: number) {
  return z.number().int().min(min).max(max).describe(`an integer from ${min} to ${max}`);
}
function numberIn(min: number, max: number) {
  return z.number().min(min).max(max).describe(`a number from ${min} to ${max}`);
}

export const identitySchema = z.strictObject({
  id: z.string().regex(nodeIdPattern),
  publicKey: z.string(),
  privateKey: z.string(),
});

const coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);
const unit = z.number().min(0).max(1);

export const stateSchema = z.strictObject({
  drift: z.tuple([coordinate, coordinate]),
  vu: unit,
  tc: unit,
  cycle: z.number().int().min(0),
});

export const peerBookEntrySchema = z.strictObject({
  id: z.string().regex(nodeIdPattern),
  name: z.string().max(MAX_NAME_LENGTH),
  addresses: z.array(z.string().max(MAX_ADDRESS_LENGTH).regex(addressPattern)).max(MAX_ADDRESSES_PER_PEER),
  lastSeen: z.number().int().min(0),
});

/**
 * The network memory's section (docs/store.md "memory"): the seq of this
 * node's newest record, so the next one is newer, and the copies of other
 * nodes' records this node holds (the shard map), each with the wall-clock
 * time its owner signed it. Records are checked again when read.
 */
export const memorySchema = z.strictObject({
  lastSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  copies: z.array(z.strictObject({ rec: stateRecordSchema, signedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })).max(MAX_STORED_COPIES),
});

export const EMPTY_MEMORY: Readonly<z.infer<typeof memorySchema>> = Object.freeze({ lastSeq: 0, copies: [] });

export const settingsShape = {
  port: intIn(0, 65535),
  cycleMs: intIn(MIN_CYCLE_MS, MAX_CYCLE_MS),
  // One entropy step moves a node by alpha; more than a unit step swamps the pull.
  alpha: numberIn(0, 1),
  // Two nodes' distance is multiplied by (1 - 2*beta) each cycle (docs/drift-model.md §2):
  // above 0.5 the factor turns negative and the pair overshoots, swapping sides
  // every cycle instead of closing in (at beta = 1 forever, above it diverging).
  beta: numberIn(0, 0.5),
  // A node keeps weight 1 - beta - gamma on its own drift; with beta <= 0.5 this
  // bound keeps that weight non-negative, so gravity never flips a node across the origin.
  gamma: numberIn(0, 0.5),
  discovery: z.boolean().describe('true or false'),
  maxPeers: intIn(1, MAX_PEERS_CEILING),
  // Empty means "the host name and the id's first characters" (myhost-ABCD), decided at run time so a renamed machine follows.
  name: z.string().max(MAX_NAME_LENGTH).describe(`a string of at most ${MAX_NAME_LENGTH} characters`),
  // STUN/TURN servers for networks where host candidates do not reach (none on a LAN). Read at start.
  iceServers: z
    .array(z.string().max(MAX_ICE_SERVER_URL_LENGTH).regex(iceServerPattern))
    .max(MAX_ICE_SERVERS)
    .describe(`a list of at most ${MAX_ICE_SERVERS} ICE server URLs, each ${ICE_SERVER_FORMS}`),
  // WebRTC's UDP ports, pinned so a firewall can open just them; "" lets the system pick. Read at start.
  // The regex is what the JSON Schema conf checks with can say; the refinement adds the bounds and order.
  udpPorts: z
    .string()
    .regex(/^(?:|[0-9]{1,5}-[0-9]{1,5})$/)
    .refine((text) => parseUdpPorts(text) !== undefined)
    .describe(UDP_PORTS_FORM),
  // Web pages of these origins may open /signal (docs/security.md). Optional so that store files
  // written before it existed stay valid without a schema migration; absent means none.
  allowedOrigins: z
    .array(z.string().max(MAX_ORIGIN_LENGTH).regex(originPattern))
    .max(MAX_ALLOWED_ORIGINS)
    .optional()
    .describe(`a list of at most ${MAX_ALLOWED_ORIGINS} origins, each "http://host[:port]" or "https://host[:port]"`),
  // Peers the user blocked: never admitted, never dialled (docs/security.md "Blocking a peer"). Optional
  // like allowedOrigins, so older files stay valid; applied at once.
  blockedPeers: z.array(nodeId).max(MAX_BLOCKED_PEERS).optional().describe(`a list of at most ${MAX_BLOCKED_PEERS} node ids`),
};

export const settingsSchema = z.strictObject(settingsShape);

export const storeSchema = z.strictObject({
  schemaVersion: z.literal(STORE_SCHEMA_VERSION),
  identity: identitySchema,
  state: stateSchema,
  peers: z.array(peerBookEntrySchema).max(MAX_PEER_RECORDS),
  settings: settingsSchema,
  memory: memorySchema,
});

export type StoredMemorySection = z.infer<typeof memorySchema>;
export type Settings = z.infer<typeof settingsSchema>;
export type StoredState = z.infer<typeof stateSchema>;
export type PeerBookEntry = z.infer<typeof peerBookEntrySchema>;
export type StoreData = z.infer<typeof storeSchema>;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  port: DEFAULT_PORT,
  cycleMs: 100,
  alpha: 0.05,
  beta: 0.1,
  gamma: 0.001,
  discovery: true,
  maxPeers: DEFAULT_MAX_PEERS,
  name: '',
  iceServers: [],
  udpPorts: '',
});

function shown(value: unknown): string {
  if (typeof value === 'string' && value.length > 40) return `a string of ${value.length} characters`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function isSettingsKey(key: string): key is keyof Settings {
  return Object.prototype.hasOwnProperty.call(settingsShape, key);
}

/**
 * Checks a partial settings update field by field, so the one-line error
 * names the field and its allowed range rather than zod's generic wording.
 */
export function validateSettingsPatch(
  patch: unknown,
): { ok: true; settings: Partial<Settings> } | { ok: false; error: string } {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return { ok: false, error: 'settings must be an object of fields to change' };
  }
  const settings: Partial<Record<keyof Settings, unknown>> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (!isSettingsKey(key)) {
      return { ok: false, error: `unknown setting ${shown(key)} (known: ${Object.keys(settingsShape).join(', ')})` };
    }
    const field = settingsShape[key];
    if (key === 'iceServers' && Array.isArray(value)) {
      // Name the one bad entry rather than the whole list.
      const problem = value.map(checkIceServer).find((p) => p !== null);
      if (problem) return { ok: false, error: `iceServers: ${problem}` };
    }
    if (key === 'allowedOrigins' && Array.isArray(value)) {
      const problem = value.map(checkOrigin).find((p) => p !== null);
      if (problem) return { ok: false, error: `allowedOrigins: ${problem}` };
    }
    if (!field.safeParse(value).success) {
      return { ok: false, error: `${key} must be ${field.description ?? 'valid'} (got ${shown(value)})` };
    }
    settings[key] = value;
  }
  return { ok: true, settings: settings as Partial<Settings> };
}
