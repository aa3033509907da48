/**
 * Node ids from public keys (docs/protocol.md "Node ids"): the first 16
 * bytes of SHA-256 of the raw Ed25519 key, RFC 4648 base32 without padding,
 * grouped 7-7-7-5 for reading. Pure: the native node (node:crypto) and the
 * browser node (WebCrypto) hash with their own SHA-256 and format here.
 */

/** Bytes of the SHA-256 digest an id keeps. */
export const ID_HASH_BYTES = 16;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The node id of a key whose SHA-256 digest is `sha256` (32 bytes; the first ID_HASH_BYTES count). */
export function nodeIdFromKeyDigest(sha256: Uint8Array): string {
  if (sha256.length < ID_HASH_BYTES) throw new TypeError(`a key digest has at least ${ID_HASH_BYTES} bytes`);
  const digits = base32(sha256.subarray(0, ID_HASH_BYTES));
  return [digits.slice(0, 7), digits.slice(7, 14), digits.slice(14, 21), digits.slice(21)].join('-');
}
