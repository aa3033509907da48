/**
 * The handshake's primitives for a native node (node:crypto, synchronous):
 * Ed25519 with the node's own key, node ids from public keys, and the
 * optional network key (docs/protocol.md "Private networks").
 */
import { createHmac, createPrivateKey, createPublicKey, pbkdf2Sync, sign, verify } from 'node:crypto';
import type { HandshakeCrypto } from '../protocol/handshake.js';
import { idFromPublicKey, type Identity } from './identity.js';

/** PBKDF2 salt and work factor of the network key: the passphrase is typed by people, so it is stretched. */
export const NETWORK_KEY_SALT = 'lvs-node network key v2';
export const NETWORK_KEY_ITERATIONS = 200_000;

/** 32 key bytes from a network passphrase (the same on every node that shares it). */
export function deriveNetworkKey(passphrase: string): Buffer {
  return pbkdf2Sync(passphrase.normalize('NFC'), NETWORK_KEY_SALT, NETWORK_KEY_ITERATIONS, 32, 'sha256');
}

export function nodeHandshakeCrypto(identity: Identity, networkKey: Uint8Array | null = null): HandshakeCrypto {
  const privateKey = createPrivateKey({ key: Buffer.from(identity.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(Buffer.from(identity.publicKey, 'base64'));
  return {
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
    verify: (key, message, signature) => {
      const keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key).toString('base64url') }, format: 'jwk' });
      return verify(null, message, keyObject, signature);
    },
    idOf: (key) => idFromPublicKey(Buffer.from(key).toString('base64')),
    networkMac: networkKey ? (message) => new Uint8Array(createHmac('sha256', networkKey).update(message).digest()) : () => null,
  };
}
