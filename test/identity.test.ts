import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkIdentity, createIdentity, idFromPublicKey } from '../main/identity/identity.js';
import { nodeIdPattern } from '../main/protocol/messages.js';

/** RFC 8032 test 1 public key; its id was computed with Python's hashlib and base64.b32encode. */
const RFC8032_PUBLIC_KEY = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
const RFC8032_ID = 'EH7DDX5-BKSRGCY-TL7BKAI-36SE4';

function flipByte(b64: string, index: number): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

describe('idFromPublicKey', () => {
  it('is base32 of the first 16 bytes of SHA-256 of the raw key, grouped 7-7-7-5', () => {
    expect(idFromPublicKey(RFC8032_PUBLIC_KEY.toString('base64'))).toBe(RFC8032_ID);
    expect(RFC8032_ID).toMatch(nodeIdPattern);
  });

  it('depends only on the public key', () => {
    const identity = createIdentity();
    expect(idFromPublicKey(identity.publicKey)).toBe(identity.id);
    expect(idFromPublicKey(identity.publicKey)).toBe(idFromPublicKey(identity.publicKey));
    expect(idFromPublicKey(flipByte(identity.publicKey, 0))).not.toBe(identity.id);
  });

  it('refuses anything but base64 of 32 bytes', () => {
    expect(() => idFromPublicKey('')).toThrow(TypeError);
    expect(() => idFromPublicKey(RFC8032_PUBLIC_KEY.subarray(0, 31).toString('base64'))).toThrow(TypeError);
    expect(() => idFromPublicKey('not base64 at all!')).toThrow(TypeError);
  });
});

describe('createIdentity', () => {
  it('makes a fresh Ed25519 key pair with a readable id', () => {
    const a = createIdentity();
    const b = createIdentity();
    expect(a.id).toMatch(nodeIdPattern);
    expect(Buffer.from(a.publicKey, 'base64')).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(checkIdentity(a)).toEqual(a);
  });
});

describe('checkIdentity', () => {
  const good = createIdentity();
  const other = createIdentity();

  it('returns exactly the three fields of a sound identity', () => {
    expect(checkIdentity({ ...good, extra: 'dropped' })).toEqual(good);
  });

  it('rejects a public key that is not the private key’s, even with a matching id', () => {
    expect(checkIdentity({ ...good, publicKey: other.publicKey, id: other.id })).toBeNull();
    const tampered = flipByte(good.publicKey, 5);
    expect(checkIdentity({ ...good, publicKey: tampered, id: idFromPublicKey(tampered) })).toBeNull();
  });

  it('rejects a tampered private key', () => {
    const der = Buffer.from(good.privateKey, 'base64');
    expect(checkIdentity({ ...good, privateKey: flipByte(good.privateKey, der.length - 1) })).toBeNull();
    expect(checkIdentity({ ...good, privateKey: other.privateKey })).toBeNull();
  });

  it('rejects an id that does not come from the public key', () => {
    expect(checkIdentity({ ...good, id: other.id })).toBeNull();
    expect(checkIdentity({ ...good, id: good.id.toLowerCase() })).toBeNull();
  });

  it('rejects a private key of another algorithm', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'der', type: 'pkcs8' })
      .toString('base64');
    expect(checkIdentity({ ...good, privateKey: rsa })).toBeNull();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', good.id],
    ['an array', [good.id, good.publicKey, good.privateKey]],
    ['an empty object', {}],
    ['a missing private key', { id: good.id, publicKey: good.publicKey }],
    ['a numeric id', { ...good, id: 7 }],
    ['non-canonical base64', { ...good, publicKey: ` ${good.publicKey}` }],
    ['a short public key', { ...good, publicKey: good.publicKey.slice(0, 20) }],
    ['a private key that is not DER', { ...good, privateKey: Buffer.from('hello').toString('base64') }],
    ['an empty private key', { ...good, privateKey: '' }],
  ])('rejects %s', (_label, value) => {
    expect(checkIdentity(value)).toBeNull();
  });
});
