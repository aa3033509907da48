/**
 * The handshake's primitives where WebCrypto is not available: a page
 * loaded over plain http from another machine (http://192.168.1.20:7710/join)
 * is not a secure context, and browsers offer crypto.subtle only in secure
 * contexts. The audited @noble libraries compute the very same Ed25519,
 * SHA-256, HMAC and PBKDF2; only the private key is then bytes in IndexedDB
 * (as it is bytes in a native node's store file) instead of a key WebCrypto
 * will not export.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { HandshakeCrypto } from '../../main/protocol/handshake.js';
import { nodeIdFromKeyDigest } from '../../main/protocol/node-id.js';
import { NETWORK_KEY_ITERATIONS, NETWORK_KEY_SALT } from './webcrypto-handshake.js';

export function nobleIdOf(publicKey: Uint8Array): string {
  return nodeIdFromKeyDigest(sha256(publicKey));
}

export function nobleKeygen(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function noblePublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/** The network key's 32 bytes, as deriveNetworkKey makes them on a native node. */
export function nobleNetworkKey(passphrase: string): Uint8Array {
  return pbkdf2(sha256, new TextEncoder().encode(passphrase.normalize('NFC')), new TextEncoder().encode(NETWORK_KEY_SALT), { c: NETWORK_KEY_ITERATIONS, dkLen: 32 });
}

export function nobleHandshake(secretKey: Uint8Array, networkKey: Uint8Array | null): HandshakeCrypto {
  return {
    publicKey: ed25519.getPublicKey(secretKey),
    sign: (message) => ed25519.sign(message, secretKey),
    verify: (key, message, signature) => {
      try {
        return ed25519.verify(signature, message, key);
      } catch {
        return false; // not a point on the curve: proves nothing
      }
    },
    idOf: nobleIdOf,
    networkMac: networkKey ? (message) => hmac(sha256, networkKey, message) : () => null,
  };
}
