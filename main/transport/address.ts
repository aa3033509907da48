/**
 * Peer addresses as users type them: "host:port", "[v6]:port". Parsed once,
 * with one clear message when they are wrong.
 */
import { isIP } from 'node:net';

export interface PeerAddress {
  host: string;
  port: number;
  /** Canonical text form: host:port, IPv6 in brackets. */
  text: string;
}

const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parsePeerAddress(input: string): { ok: true; address: PeerAddress } | { ok: false; error: string } {
  const text = input.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]+):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) return { ok: false, error: `"${input}" is not host:port (for IPv6 use [addr]:port)` };
  const host = match[1]!;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: `"${input}": port must be 1-65535` };
  if (bracketed && isIP(host) !== 6) return { ok: false, error: `"${input}": ${host} is not an IPv6 address` };
  if (!bracketed && isIP(host) !== 4 && !hostnamePattern.test(host)) {
    return { ok: false, error: `"${input}": ${host} is not an IPv4 address or host name` };
  }
  return { ok: true, address: { host, port, text: bracketed ? `[${host}]:${port}` : `${host}:${port}` } };
}
