/**
 * The "join a node" form's rule: a node's address, validated as a node
 * validates addresses (main/protocol/host-port.ts), becomes the URL of that
 * node's own join page. DOM-free.
 */
import { parseHostPort } from '../../main/protocol/host-port.js';

/** The path a node serves its join page on (the page that makes the tab a browser node of it). */
export const JOIN_PATH = '/join';

export type JoinTarget = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly message: string };

/**
 * http://<host:port>/join for a typed address (spaces around it are
 * dropped), or one sentence saying what is wrong. Plain http: a node serves
 * its pages over http, and a top-level link from an https page to it is
 * an ordinary navigation.
 */
export function joinTarget(typed: string): JoinTarget {
  const text = typed.trim();
  if (text === '') return { ok: false, message: "Type a node's address as host:port, for example 192.168.1.20:7710." };
  const parsed = parseHostPort(text);
  if (!parsed.ok) return { ok: false, message: `Not a node address: ${parsed.detail}.` };
  return { ok: true, url: `http://${parsed.value.address}${JOIN_PATH}` };
}
