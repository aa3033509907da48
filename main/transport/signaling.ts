/**
 * Signaling over WebSocket (docs/protocol.md "Signaling"): the "host:port"
 * address parser used by `dial` and socket address formatting. The frames
 * themselves are pure (../protocol/signal-frames.ts) and re-exported here.
 */
import { isIP } from 'node:net';

import { SIGNAL_PATH } from '../protocol/signal-frames.js';

export * from '../protocol/signal-frames.js';
/** A validated dial address. */
export interface SignalAddress {
  /** Host as given, without IPv6 brackets ("127.0.0.1", "::1", "node.local"). */
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for IP literals, 0 for host names. */
  readonly family: 0 | 4 | 6;
  /** Canonical "host:port" ("[::1]:7710" for IPv6). */
  readonly address: string;
  /** ws://host:port/signal */
  readonly url: string;
}

export type AddressParseResult =
  | { readonly ok: true; readonly value: SignalAddress }
  | { readonly ok: false; readonly detail: string };

const hostnameLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses "host:port": IPv4 ("192.168.1.4:7710"), bracketed IPv6
 * ("[fe80::1]:7710"; IPv6 zone ids are refused: URLs cannot carry them),
 * or a DNS host name ("node.local:7710"). Port 1..65535, decimal. Never throws.
 */
export function parseSignalAddress(input: unknown): AddressParseResult {
  const fail = (detail: string): AddressParseResult => ({ ok: false, detail });
  if (typeof input !== 'string') return fail('address must be a string "host:port"');
  if (input.length === 0) return fail('address is empty; expected "host:port"');
  if (input.length > 300) return fail('address is too long');
  if (input !== input.trim() || /\s/.test(input)) return fail('address contains whitespace');
  if (input.includes('://') || input.includes('/')) return fail('expected "host:port" without a scheme or path');

  let host: string;
  let portText: string;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return fail('unterminated "[" in IPv6 address');
    host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (!rest.startsWith(':')) return fail('missing ":port" after "[IPv6]"');
    portText = rest.slice(1);
    if (host.includes('%')) return fail('IPv6 zone ids are not supported');
    if (isIP(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
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
  if (input.startsWith('[')) {
    family = 6;
  } else if (isIP(host) === 4) {
    family = 4;
  } else {
    if (/^[0-9.]+$/.test(host)) return fail(`"${host}" is not a valid IPv4 address`);
    const name = host.endsWith('.') ? host.slice(0, -1) : host;
    if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => hostnameLabel.test(label))) {
      return fail(`"${host}" is not a valid host name`);
    }
    family = 0;
  }

  const hostForUrl = family === 6 ? `[${host}]` : host;
  return {
    ok: true,
    value: {
      host,
      port,
      family,
      address: `${hostForUrl}:${port}`,
      url: `ws://${hostForUrl}:${port}${SIGNAL_PATH}`,
    },
  };
}

/** "1.2.3.4:5" / "[::1]:5" for a socket's remote end; IPv4-mapped IPv6 shown as IPv4. */
export function formatSocketAddress(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const host = isIP(a) === 6 ? `[${a}]` : a;
  return port === undefined ? host : `${host}:${port}`;
}
