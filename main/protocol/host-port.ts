/**
 * "host:port" as a node's address, validated without Node's `net` module so
 * that browser pages (the public demo's join form) accept exactly the
 * addresses a node accepts. Pure: no Node, DOM or Electron import.
 *
 * parseSignalAddress (main/transport/signaling.ts) is built on it, so a
 * native node, a browser node and the demo's join form accept the same
 * addresses with the same messages. The IP literal rules are Node's own: the regular expressions
 * below are those of Node.js 20's `net.isIPv4` / `net.isIPv6`
 * (lib/internal/net.js), so a literal one accepts the other accepts.
 */
import { MAX_ADDRESS_LENGTH } from '../model/limits.js';

/** A validated "host:port". */
export interface HostPort {
  /** Host as given, without IPv6 brackets ("127.0.0.1", "::1", "node.local"). */
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for IP literals, 0 for host names. */
  readonly family: 0 | 4 | 6;
  /** Canonical "host:port" ("[::1]:7710" for IPv6): what goes after "http://" in a URL. */
  readonly address: string;
}

export type HostPortResult = { readonly ok: true; readonly value: HostPort } | { readonly ok: false; readonly detail: string };

const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4_STR = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const IPV4 = new RegExp(`^${V4_STR}$`);
const V6_SEG = '(?:[0-9a-fA-F]{1,4})';
const IPV6 = new RegExp(
  '^(?:' +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4_STR}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4_STR}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4_STR}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4_STR}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4_STR}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4_STR}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4_STR}|(?::${V6_SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);
const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Longest DNS name, without its trailing dot. */
const MAX_HOSTNAME_LENGTH = 253;

/** 4 or 6 when `s` is an IP literal (as Node's net.isIP decides), else 0. */
export function ipFamily(s: string): 0 | 4 | 6 {
  if (IPV4.test(s)) return 4;
  if (IPV6.test(s)) return 6;
  return 0;
}

/**
 * Parses "host:port": IPv4 ("192.168.1.4:7710"), bracketed IPv6
 * ("[fe80::1]:7710"; zone ids are refused: URLs cannot carry them), or a
 * DNS host name ("node.local:7710"). Port 1..65535, decimal. Never throws;
 * a refusal says what is wrong in a few words.
 */
export function parseHostPort(input: unknown): HostPortResult {
  const fail = (detail: string): HostPortResult => ({ ok: false, detail });
  if (typeof input !== 'string') return fail('address must be a string "host:port"');
  if (input.length === 0) return fail('address is empty; expected "host:port"');
  if (input.length > MAX_ADDRESS_LENGTH) return fail('address is too long');
  if (input !== input.trim() || /\s/.test(input)) return fail('address contains whitespace');
  if (input.includes('://') || input.includes('/')) return fail('expected "host:port" without a scheme or path');

  let host: string;
  let portText: string;
  const bracketed = input.startsWith('[');
  if (bracketed) {
    const close = input.indexOf(']');
    if (close < 0) return fail('unterminated "[" in IPv6 address');
    host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (!rest.startsWith(':')) return fail('missing ":port" after "[IPv6]"');
    portText = rest.slice(1);
    if (host.includes('%')) return fail('IPv6 zone ids are not supported');
    if (ipFamily(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0) return fail('missing ":port"');
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (host.includes(':')) return fail('IPv6 addresses must be written "[addr]:port"');
    if (host.length === 0) return fail('missing host before ":port"');
  }

  if (!/^[0-9]{1,5}$/.test(portText)) return fail(`port "${portText}" is not a number 1-65535`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return fail(`port ${port} is out of range 1-65535`);

  let family: 0 | 4 | 6;
  if (bracketed) {
    family = 6;
  } else if (ipFamily(host) === 4) {
    family = 4;
  } else {
    if (/^[0-9.]+$/.test(host)) return fail(`"${host}" is not a valid IPv4 address`);
    const name = host.endsWith('.') ? host.slice(0, -1) : host;
    if (name.length === 0 || name.length > MAX_HOSTNAME_LENGTH || !name.split('.').every((label) => HOSTNAME_LABEL.test(label))) {
      return fail(`"${host}" is not a valid host name`);
    }
    family = 0;
  }
  return { ok: true, value: { host, port, family, address: `${family === 6 ? `[${host}]` : host}:${port}` } };
}
