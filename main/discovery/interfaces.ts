/**
 * Which network interfaces discovery serves, and which advertised addresses
 * it believes. Every interface that is up and has an IPv4 address is served
 * (Ethernet, Wi-Fi, and also VPN and virtual adapters: a machine's "default"
 * interface is often not the one its peers are on). Loopback is never
 * served. A node bound to one address serves only the interface holding it.
 */
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { DISCOVERY_MAX_INTERFACES } from '../model/limits.js';

export interface ServedInterface {
  name: string;
  /** Address the mDNS socket joins the group on and sends from. */
  primary: string;
  /** IPv4 addresses with their netmasks (for "is this sender on my link?"). */
  ipv4: { address: string; netmask: string }[];
  /** Global / unique-local IPv6 addresses (link-local ones need a zone id, which dial addresses cannot carry). */
  ipv6: { address: string; netmask: string }[];
  /** The addresses advertised on this interface (those the node listens on). */
  advertised: { ipv4: string[]; ipv6: string[] };
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The interfaces to serve, from os.networkInterfaces() (which lists only
 * interfaces that are up and running). `bindAddress` restricts them to the
 * one holding that address; `ipv6` adds the IPv6 addresses (a node listening
 * on 0.0.0.0 cannot be reached over IPv6, so it does not advertise them).
 */
export function servedInterfaces(options: { bindAddress?: string | null; ipv6?: boolean } = {}, table: InterfaceTable = networkInterfaces()): ServedInterface[] {
  const out: ServedInterface[] = [];
  for (const [name, entries] of Object.entries(table)) {
    if (!entries || out.length >= DISCOVERY_MAX_INTERFACES) continue;
    const v4 = entries.filter((e) => e.family === 'IPv4' && !e.internal);
    if (v4.length === 0) continue;
    const bind = options.bindAddress ?? null;
    if (bind && !entries.some((e) => e.address === bind)) continue;
    const ipv4 = v4.map((e) => ({ address: e.address, netmask: e.netmask }));
    const ipv6 = entries
      .filter((e) => e.family === 'IPv6' && !e.internal && isDialableIpv6(e.address))
      .map((e) => ({ address: e.address, netmask: e.netmask }));
    const bindFamily = bind ? isIP(bind) : 0;
    const advertised = {
      ipv4: bindFamily === 6 ? [] : ipv4.map((a) => a.address).filter((a) => !bind || a === bind),
      ipv6: bindFamily === 4 || (!bind && !options.ipv6) ? [] : ipv6.map((a) => a.address).filter((a) => !bind || a === bind),
    };
    if (advertised.ipv4.length + advertised.ipv6.length === 0) continue;
    out.push({ name, primary: v4[0]!.address, ipv4, ipv6, advertised });
  }
  return out;
}

/** A key that changes when an interface's addresses change. */
export function interfaceKey(i: ServedInterface): string {
  return `${i.name}|${i.ipv4.map((a) => `${a.address}/${a.netmask}`).join(',')}|${i.ipv6.map((a) => `${a.address}/${a.netmask}`).join(',')}|${i.advertised.ipv4.join(',')}|${i.advertised.ipv6.join(',')}`;
}

function bytes(address: string): number[] | null {
  const family = isIP(address);
  if (family === 4) return address.split('.').map(Number);
  if (family !== 6) return null;
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    tail = v4;
    text = `${text.slice(0, lastColon)}:0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const groups = rest !== undefined ? [...h, ...Array(8 - h.length - r.length).fill('0'), ...r] : h;
  const out: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    out.push((n >> 8) & 0xff, n & 0xff);
  }
  if (tail.length === 4) out.splice(12, 4, ...tail);
  return out.length === 16 ? out : null;
}

/** True if `address` lies in the subnet of `own`/`netmask` (same family). */
export function sameSubnet(address: string, own: string, netmask: string): boolean {
  const a = bytes(address);
  const b = bytes(own);
  const m = bytes(netmask);
  if (!a || !b || !m || a.length !== b.length || m.length !== a.length) return false;
  return a.every((x, i) => (x & m[i]!) === (b[i]! & m[i]!));
}

/** True if `address` is on one of `iface`'s links (or is one of its own addresses). */
export function onLink(iface: ServedInterface, address: string): boolean {
  const list = isIP(address) === 6 ? iface.ipv6 : iface.ipv4;
  return list.some((own) => sameSubnet(address, own.address, own.netmask));
}

/** IPv6 addresses a "[addr]:port" dial can reach: not link-local (needs a zone id), loopback, multicast or unspecified. */
export function isDialableIpv6(address: string): boolean {
  const b = bytes(address);
  if (!b || isIP(address) !== 6) return false;
  if (b.every((x) => x === 0)) return false; // ::
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return false; // ::1
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // fe80::/10
  if (b[0] === 0xff) return false; // multicast
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return false; // IPv4-mapped
  return true;
}

/** IPv4 addresses worth dialling: not unspecified, loopback, multicast or broadcast. */
export function isDialableIpv4(address: string): boolean {
  const b = bytes(address);
  if (!b || isIP(address) !== 4) return false;
  if (b[0] === 0 || b[0] === 127 || b[0]! >= 224) return false;
  return true;
}

/**
 * The "ip:port" addresses to believe from an advertisement heard on `iface`
 * from `source`: only addresses on that interface's links (or the sender's
 * own source address), so a packet on the LAN cannot send the node dialling
 * somewhere else. IPv4 first, the sender's source address at the front.
 */
export function believableAddresses(iface: ServedInterface | null, source: string, port: number, ipv4: readonly string[], ipv6: readonly string[]): string[] {
  const v4 = ipv4.filter((a) => isDialableIpv4(a) && (a === source || (iface !== null && onLink(iface, a))));
  v4.sort((a, b) => (a === source ? -1 : b === source ? 1 : 0));
  const v6 = ipv6.filter((a) => isDialableIpv6(a) && (a === source || (iface !== null && onLink(iface, a))));
  return [...v4.map((a) => `${a}:${port}`), ...v6.map((a) => `[${a}]:${port}`)];
}
