/**
 * DNS-SD (RFC 6763) records of one LVS node and the reading of other nodes'
 * records out of mDNS packets. No sockets here: the packets come in and go
 * out through ./mdns-discovery.ts, so everything below is tested as plain
 * functions. Nothing throws on untrusted input.
 *
 * A node with id ID listening on PORT advertises, per interface:
 *   PTR  _lvs._tcp.local                 → ID._lvs._tcp.local
 *   SRV  ID._lvs._tcp.local              → lvs-<id lower case>.local:PORT
 *   TXT  ID._lvs._tcp.local              → id=ID v=<protocol version> inst=<instance id>
 *   A    lvs-<id lower case>.local       → the interface's IPv4 addresses
 *   AAAA lvs-<id lower case>.local       → its global IPv6 addresses (only when the node listens on ::)
 *   PTR  _services._dns-sd._udp.local    → _lvs._tcp.local (service enumeration)
 */
import type { Answer, Packet, Question, SrvAnswer, StringAnswer, TxtAnswer } from 'dns-packet';
import { isIP } from 'node:net';
import { DISCOVERY_LEGACY_TTL_S, DISCOVERY_RECORD_TTL_S, MDNS_SERVICE_TYPE } from '../model/limits.js';
import { nodeIdPattern } from '../protocol/messages.js';
import { instanceIdPattern } from '../transport/signaling.js';

export const SERVICE_NAME = `${MDNS_SERVICE_TYPE}.local`;
export const SERVICES_META_NAME = '_services._dns-sd._udp.local';
const SERVICE_SUFFIX = `.${SERVICE_NAME}`;

/** What one node advertises on one interface. */
export interface Advertisement {
  id: string;
  /** Protocol version (TXT `v`). */
  version: number;
  /** Random per-start instance id (TXT `inst`). */
  instance: string;
  port: number;
  ipv4: string[];
  ipv6: string[];
}

export function instanceName(id: string): string {
  return `${id}${SERVICE_SUFFIX}`;
}

export function hostName(id: string): string {
  return `lvs-${id.toLowerCase()}.local`;
}

/** DNS names compare case-insensitively; a trailing dot is the same name. */
export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export interface AdvertisementRecords {
  ptr: StringAnswer;
  srv: SrvAnswer;
  txt: TxtAnswer;
  addresses: StringAnswer[];
  meta: StringAnswer;
}

/** The records of `ad`, all with `ttl` (0 for a goodbye). Unique records carry the cache-flush bit. */
export function advertisementRecords(ad: Advertisement, ttl: number = DISCOVERY_RECORD_TTL_S): AdvertisementRecords {
  const name = instanceName(ad.id);
  const host = hostName(ad.id);
  return {
    ptr: { name: SERVICE_NAME, type: 'PTR', ttl, data: name },
    srv: { name, type: 'SRV', ttl, flush: true, data: { port: ad.port, target: host, priority: 0, weight: 0 } },
    txt: { name, type: 'TXT', ttl, flush: true, data: [`id=${ad.id}`, `v=${ad.version}`, `inst=${ad.instance}`] },
    addresses: [
      ...ad.ipv4.map((a): StringAnswer => ({ name: host, type: 'A', ttl, flush: true, data: a })),
      ...ad.ipv6.map((a): StringAnswer => ({ name: host, type: 'AAAA', ttl, flush: true, data: a })),
    ],
    meta: { name: SERVICES_META_NAME, type: 'PTR', ttl, data: SERVICE_NAME },
  };
}

/** An unsolicited announcement (or, with ttl 0, the goodbye) of `ad`: every record in the answer section. */
export function announcementPacket(ad: Advertisement, ttl: number = DISCOVERY_RECORD_TTL_S): Packet {
  const r = advertisementRecords(ad, ttl);
  return { type: 'response', answers: [r.ptr, r.srv, r.txt, ...r.addresses] };
}

/** The browse query; `known` are PTR records already held with more than half their TTL left (known-answer suppression). */
export function browseQuery(known: readonly string[] = []): Packet {
  return {
    type: 'query',
    questions: [{ name: SERVICE_NAME, type: 'PTR', class: 'IN' }],
    answers: known.map((name): StringAnswer => ({ name: SERVICE_NAME, type: 'PTR', ttl: DISCOVERY_RECORD_TTL_S, data: name })),
  };
}

export interface QueryAnswer {
  answers: Answer[];
  additionals: Answer[];
  /** True if only shared (PTR) records are asked for: a multicast answer then waits a random 20-120 ms. */
  shared: boolean;
}

/**
 * What `ad` answers to an mDNS query, or null if nothing is asked of it.
 * Known answers the querier listed (with at least half the TTL left) are
 * not repeated.
 */
export function answerQuery(ad: Advertisement, query: Packet, legacy = false): QueryAnswer | null {
  const ttl = legacy ? DISCOVERY_LEGACY_TTL_S : DISCOVERY_RECORD_TTL_S;
  const r = advertisementRecords(ad, ttl);
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  let shared = true;
  const knows = (record: StringAnswer): boolean =>
    (query.answers ?? []).some(
      (k) => k.type === record.type && sameName(k.name, record.name) && typeof k.data === 'string' && sameName(k.data, record.data) &&
        typeof (k as StringAnswer).ttl === 'number' && (k as StringAnswer).ttl! >= DISCOVERY_RECORD_TTL_S / 2,
    );
  const add = (list: Answer[], record: Answer): void => {
    if (!answers.includes(record) && !additionals.includes(record)) list.push(record);
  };
  for (const q of query.questions ?? []) {
    if (!isInternetClass(q)) continue;
    const asks = (type: string): boolean => q.type === type || (q.type as string) === 'ANY';
    if (sameName(q.name, SERVICE_NAME) && asks('PTR')) {
      if (knows(r.ptr)) continue;
      add(answers, r.ptr);
      add(additionals, r.srv);
      add(additionals, r.txt);
      for (const a of r.addresses) add(additionals, a);
    } else if (sameName(q.name, SERVICES_META_NAME) && asks('PTR')) {
      if (!knows(r.meta)) add(answers, r.meta);
    } else if (sameName(q.name, r.srv.name) && (asks('SRV') || asks('TXT'))) {
      shared = false;
      if (asks('SRV')) add(answers, r.srv);
      if (asks('TXT')) add(answers, r.txt);
      for (const a of r.addresses) add(additionals, a);
    } else if (sameName(q.name, hostName(ad.id)) && (asks('A') || asks('AAAA'))) {
      shared = false;
      for (const a of r.addresses) if (asks(a.type)) add(answers, a);
    }
  }
  // Records already in the answer section are not repeated as additionals.
  const extra = additionals.filter((a) => !answers.includes(a));
  if (answers.length === 0) return null;
  if (legacy) {
    for (const a of [...answers, ...extra]) if ('flush' in a) delete (a as { flush?: boolean }).flush;
  }
  return { answers, additionals: extra, shared };
}

function isInternetClass(q: Question): boolean {
  // dns-packet strips the QU bit; anything but IN or ANY is not for us.
  return q.class === undefined || q.class === 'IN' || q.class === 'ANY';
}

/** One node's service as read from one packet. */
export type Sighting =
  | { kind: 'goodbye'; name: string; id: string | null }
  | { kind: 'service'; name: string; id: string; version: number; instance: string; port: number; ipv4: string[]; ipv6: string[] }
  | { kind: 'incomplete'; name: string; host: string | null }
  | { kind: 'invalid'; name: string; detail: string };

/** Reads the LVS services out of a response packet: goodbyes, complete services, and those that need a resolve query. */
export function readSightings(packet: Packet, limit = 32): Sighting[] {
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
  const names = new Map<string, string>();
  const goodbyes = new Set<string>();
  for (const rr of records) {
    if (typeof rr.name !== 'string') continue;
    if (rr.type === 'PTR' && sameName(rr.name, SERVICE_NAME) && typeof rr.data === 'string' && isServiceInstance(rr.data)) {
      names.set(normalizeName(rr.data), rr.data);
      if (rr.ttl === 0) goodbyes.add(normalizeName(rr.data));
    } else if ((rr.type === 'SRV' || rr.type === 'TXT') && isServiceInstance(rr.name)) {
      if (!names.has(normalizeName(rr.name))) names.set(normalizeName(rr.name), rr.name);
      if (rr.ttl === 0) goodbyes.add(normalizeName(rr.name));
    }
    if (names.size >= limit) break;
  }
  const out: Sighting[] = [];
  for (const [key, name] of names) {
    const srv = records.find((rr): rr is SrvAnswer => rr.type === 'SRV' && sameName(rr.name, key));
    const txt = records.find((rr): rr is TxtAnswer => rr.type === 'TXT' && sameName(rr.name, key));
    const txtFields = txt ? readTxt(txt.data) : null;
    if (goodbyes.has(key)) {
      const id = txtFields?.get('id') ?? idFromInstanceName(name);
      out.push({ kind: 'goodbye', name, id: id && nodeIdPattern.test(id) ? id : null });
      continue;
    }
    if (!srv || !txtFields) {
      out.push({ kind: 'incomplete', name, host: srv && typeof srv.data?.target === 'string' ? srv.data.target : null });
      continue;
    }
    const id = txtFields.get('id') ?? '';
    const instance = txtFields.get('inst') ?? '';
    const versionText = txtFields.get('v') ?? '';
    if (!nodeIdPattern.test(id)) {
      out.push({ kind: 'invalid', name, detail: `TXT id ${JSON.stringify(id.slice(0, 40))} is not a node id` });
      continue;
    }
    if (!instanceIdPattern.test(instance)) {
      out.push({ kind: 'invalid', name, detail: `TXT inst of ${id} is not an instance id` });
      continue;
    }
    if (!/^[0-9]{1,6}$/.test(versionText)) {
      out.push({ kind: 'invalid', name, detail: `TXT v of ${id} is not a version number` });
      continue;
    }
    const port = srv.data?.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      out.push({ kind: 'invalid', name, detail: `SRV port of ${id} is not 1-65535` });
      continue;
    }
    const target = typeof srv.data.target === 'string' ? srv.data.target : '';
    const ipv4: string[] = [];
    const ipv6: string[] = [];
    for (const rr of records) {
      if ((rr.type !== 'A' && rr.type !== 'AAAA') || !sameName(rr.name, target) || typeof rr.data !== 'string' || rr.ttl === 0) continue;
      if (rr.type === 'A' && isIP(rr.data) === 4 && !ipv4.includes(rr.data) && ipv4.length < 16) ipv4.push(rr.data);
      if (rr.type === 'AAAA' && isIP(rr.data) === 6 && !ipv6.includes(rr.data) && ipv6.length < 16) ipv6.push(rr.data);
    }
    if (ipv4.length === 0 && ipv6.length === 0) {
      out.push({ kind: 'incomplete', name, host: target || null });
      continue;
    }
    out.push({ kind: 'service', name, id, version: Number(versionText), instance, port, ipv4, ipv6 });
  }
  return out;
}

/** Questions that resolve an incomplete sighting: SRV and TXT of the instance, A of its host. */
export function resolveQuery(sighting: { name: string; host: string | null }): Packet {
  const questions: Question[] = [
    { name: sighting.name, type: 'SRV', class: 'IN' },
    { name: sighting.name, type: 'TXT', class: 'IN' },
  ];
  if (sighting.host) questions.push({ name: sighting.host, type: 'A', class: 'IN' });
  return { type: 'query', questions };
}

function isServiceInstance(name: string): boolean {
  const n = normalizeName(name);
  return n.endsWith(SERVICE_SUFFIX) && n.length > SERVICE_SUFFIX.length && n.length <= 255;
}

function idFromInstanceName(name: string): string {
  return name.slice(0, name.length - SERVICE_SUFFIX.length).toUpperCase();
}

/** TXT strings "key=value" into a map (first of a key wins, RFC 6763 §6.4); null if there are none. */
export function readTxt(data: unknown): Map<string, string> | null {
  const parts = Array.isArray(data) ? data : [data];
  const fields = new Map<string, string>();
  for (const part of parts.slice(0, 32)) {
    const text = typeof part === 'string' ? part : Buffer.isBuffer(part) ? part.toString('utf8') : null;
    if (text === null || text.length > 255) continue;
    const eq = text.indexOf('=');
    if (eq <= 0) continue;
    const key = text.slice(0, eq).toLowerCase();
    if (!fields.has(key)) fields.set(key, text.slice(eq + 1));
  }
  return fields.size > 0 ? fields : null;
}
