/**
 * Signaling over WebSocket (docs/protocol.md "Signaling"): the "host:port"
 * address parser used by `dial` and socket address formatting. The frames
 * themselves are pure (../protocol/signal-frames.ts) and re-exported here.
 */
import { isIP } from 'node:net';

import { parseHostPort } from '../protocol/host-port.js';
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

/**
 * Parses "host:port": IPv4 ("192.168.1.4:7710"), bracketed IPv6
 * ("[fe80::1]:7710"; IPv6 zone ids are refused: URLs cannot carry them),
 * or a DNS host name ("node.local:7710"). Port 1..65535, decimal. The rules
 * are the pure parseHostPort's (browser pages use it too); this adds the
 * signaling URL. Never throws.
 */
export function parseSignalAddress(input: unknown): AddressParseResult {
  const parsed = parseHostPort(input);
  if (!parsed.ok) return parsed;
  return { ok: true, value: { ...parsed.value, url: `ws://${parsed.value.address}${SIGNAL_PATH}` } };
}

/** "1.2.3.4:5" / "[::1]:5" for a socket's remote end; IPv4-mapped IPv6 shown as IPv4. */
export function formatSocketAddress(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const host = isIP(a) === 6 ? `[${a}]` : a;
  return port === undefined ? host : `${host}:${port}`;
}
