/**
 * Which browser pages may open /signal. Native nodes send no Origin header;
 * a browser always does, so a page of any web site the user visits could
 * otherwise reach every node on the LAN through the user's browser. Allowed:
 * no Origin, the node's own pages, and origins the user listed
 * (`allowedOrigins`, `--allow-origin`).
 */
import { isIP } from 'node:net';

/** The host part of a Host header ("10.0.0.5:7710" -> "10.0.0.5", "[::1]:7710" -> "[::1]"), or null if it has none. */
function hostOf(hostHeader: string): string | null {
  if (hostHeader.startsWith('[')) {
    const close = hostHeader.indexOf(']');
    return close > 0 ? hostHeader.slice(0, close + 1) : null;
  }
  const colon = hostHeader.indexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

/**
 * The node's own origin as its pages would send it, `http://<Host header>`,
 * but only when the Host names this machine by address (an IP literal or
 * localhost). A page under a DNS name could be a DNS-rebinding page that
 * resolved that name to this node: such a Host proves nothing, so
 * `http://mybox.local:7710` must be allowed explicitly.
 */
export function ownOrigin(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const host = hostOf(hostHeader.toLowerCase());
  if (host === null) return null;
  const literal = host.startsWith('[') ? isIP(host.slice(1, -1)) === 6 : host === 'localhost' || isIP(host) === 4;
  return literal ? `http://${hostHeader.toLowerCase()}` : null;
}

/** Why a /signal upgrade with these headers is refused, or null if it may proceed. */
export function signalOriginRefusal(origin: string | undefined, hostHeader: string | undefined, allowed: readonly string[]): string | null {
  if (origin === undefined) return null;
  if (origin === ownOrigin(hostHeader)) return null;
  if (allowed.includes(origin)) return null;
  return `pages of origin ${JSON.stringify(origin.slice(0, 100))} may not open /signal (allow one with --allow-origin)`;
}
