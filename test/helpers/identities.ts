/**
 * Real identities for transport tests: the proof of identity needs the key
 * behind every id. `sortedIdentities(n)` returns n fresh identities in
 * ascending id order, for tests of the "lower id wins" rules.
 */
import { nodeHandshakeCrypto } from '../../main/identity/handshake-crypto.js';
import { createIdentity, type Identity } from '../../main/identity/identity.js';
import type { HandshakeCrypto } from '../../main/protocol/handshake.js';

export function sortedIdentities(n: number): Identity[] {
  return Array.from({ length: n }, () => createIdentity()).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const byId = new Map<string, Identity>();

/** n fresh identities in ascending id order, remembered so authFor(id) finds their keys. */
export function testIds(n: number): string[] {
  return sortedIdentities(n).map((identity) => {
    byId.set(identity.id, identity);
    return identity.id;
  });
}

/** The handshake crypto of an id made by testIds (optionally with a network key). */
export function authFor(id: string, networkKey: Uint8Array | null = null): HandshakeCrypto {
  const identity = byId.get(id);
  if (!identity) throw new Error(`no test identity for ${id}`);
  return nodeHandshakeCrypto(identity, networkKey);
}
