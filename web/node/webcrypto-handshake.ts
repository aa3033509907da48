/**
 * The handshake's primitives for a browser node (WebCrypto, asynchronous):
 * Ed25519 with the tab's own key, node ids from public keys, and the
 * optional network key, stretched exactly as the native node stretches it
 * (main/identity/handshake-crypto.ts), so both prove the same transcript.
 */
import type { HandshakeCrypto } from '../../main/protocol/handshake.js';
import { nodeIdFromKeyDigest } from '../../main/protocol/node-id.js';

/** Same salt and work factor as the native node's deriveNetworkKey (docs/protocol.md "Private networks"). */
export const NETWORK_KEY_SALT = 'lvs-node network key v2';
export const NETWORK_KEY_ITERATIONS = 200_000;

const ED25519 = { name: 'Ed25519' } as const;

function bytes(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

/** A copy backed by a plain ArrayBuffer (WebCrypto refuses views of shared memory). */
function plain(view: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(view.length);
  copy.set(view);
  return copy;
}

export async function idOfPublicKey(raw: Uint8Array): Promise<string> {
  return nodeIdFromKeyDigest(bytes(await crypto.subtle.digest('SHA-256', plain(raw))));
}

/** An HMAC-SHA-256 key from a network passphrase (the same bytes as deriveNetworkKey on a native node). */
export async function deriveNetworkMacKey(passphrase: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: new TextEncoder().encode(NETWORK_KEY_SALT), iterations: NETWORK_KEY_ITERATIONS },
    material,
    256,
  );
  return crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** A fresh Ed25519 key pair whose private key never leaves WebCrypto (not extractable). */
export function generateIdentityKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ED25519, false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function rawPublicKey(keys: CryptoKeyPair): Promise<Uint8Array> {
  return bytes(await crypto.subtle.exportKey('raw', keys.publicKey));
}

export function webCryptoHandshake(keys: CryptoKeyPair, publicKey: Uint8Array, networkKey: CryptoKey | null): HandshakeCrypto {
  return {
    publicKey,
    sign: async (message) => bytes(await crypto.subtle.sign(ED25519, keys.privateKey, plain(message))),
    verify: async (key, message, signature) => {
      try {
        const imported = await crypto.subtle.importKey('raw', plain(key), ED25519, false, ['verify']);
        return await crypto.subtle.verify(ED25519, imported, plain(signature), plain(message));
      } catch {
        return false; // a key that is not a point on the curve proves nothing
      }
    },
    idOf: idOfPublicKey,
    networkMac: networkKey ? async (message) => bytes(await crypto.subtle.sign('HMAC', networkKey, plain(message))) : () => null,
  };
}
