/**
 * Store file migrations: pure functions from one layout to the next. They
 * reshape and never validate (the schema does that afterwards), so a
 * half-broken old file still migrates as far as it can and the store can
 * salvage its good sections.
 *
 * Version 0 is the layout before `schemaVersion` existed: drift, vu and tc
 * lay at the top level, there was no cycle counter, and the cycle period
 * setting was called `settings.cycle`.
 *
 * Version 2 added `settings.iceServers` (STUN/TURN servers, none by default).
 *
 * Version 3 added `settings.udpPorts` (a pinned WebRTC UDP port range, "" = any).
 *
 * Version 4 added `memory` (the network memory: this node's last record seq
 * and the copies of other nodes' records it holds; empty before).
 */
import { STORE_SCHEMA_VERSION } from './schema.js';

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export function migrateV0toV1(v0: Json): Json {
  const { drift, vu, tc, settings, ...rest } = v0;
  const v1: Json = { ...rest, schemaVersion: 1, state: { drift, vu, tc, cycle: 0 } };
  if (isObject(settings)) {
    const { cycle, ...others } = settings;
    v1['settings'] = cycle === undefined ? others : { ...others, cycleMs: cycle };
  } else if (settings !== undefined) {
    v1['settings'] = settings;
  }
  return v1;
}

/** Adds the empty `iceServers` setting (host candidates only, as every v1 node ran). */
export function migrateV1toV2(v1: Json): Json {
  const { settings } = v1;
  const v2: Json = { ...v1, schemaVersion: 2 };
  if (isObject(settings) && !('iceServers' in settings)) v2['settings'] = { ...settings, iceServers: [] };
  return v2;
}

/** Adds the empty `udpPorts` setting (any UDP port, as every v2 node ran). */
export function migrateV2toV3(v2: Json): Json {
  const { settings } = v2;
  const v3: Json = { ...v2, schemaVersion: 3 };
  if (isObject(settings) && !('udpPorts' in settings)) v3['settings'] = { ...settings, udpPorts: '' };
  return v3;
}

/** Adds the empty `memory` section (no record signed yet, no copies held). */
export function migrateV3toV4(v3: Json): Json {
  return 'memory' in v3 ? { ...v3, schemaVersion: 4 } : { ...v3, schemaVersion: 4, memory: { lastSeq: 0, copies: [] } };
}

/** steps[n] turns version n into version n + 1. */
const steps: ReadonlyArray<(data: Json) => Json> = [migrateV0toV1, migrateV1toV2, migrateV2toV3, migrateV3toV4];

export type MigrateResult =
  | { ok: true; data: unknown; from: number }
  /** `newer`: the file is intact but from a later version; it must be left alone, not set aside. */
  | { ok: false; error: string; newer: boolean };

export function migrate(raw: unknown): MigrateResult {
  if (!isObject(raw)) return { ok: false, error: 'the store is not a JSON object', newer: false };
  const version = raw['schemaVersion'] ?? 0;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    return { ok: false, error: `schemaVersion must be a non-negative integer (got ${JSON.stringify(version)})`, newer: false };
  }
  if (version > STORE_SCHEMA_VERSION) {
    return {
      ok: false,
      error:
        `the store was written by a newer LVS Node (store schema v${version}; this version reads up to ` +
        `v${STORE_SCHEMA_VERSION}); upgrade LVS Node or point it at another data directory`,
      newer: true,
    };
  }
  let data = raw;
  for (let v = version; v < STORE_SCHEMA_VERSION; v++) {
    const step = steps[v];
    if (!step) throw new Error(`no store migration from schema v${v}`);
    data = step(data);
  }
  return { ok: true, data, from: version };
}
