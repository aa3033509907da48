/** The page's side of the --ui-public credential (renderer/access.ts), DOM-free. */
import { describe, expect, it } from 'vitest';
import { bridgeProtocols, checkAccess, encodeSecret, SECRET_STORAGE_KEY, secretStore, takeFragmentToken, type AuthFetch } from '../renderer/access.js';

function answer(status: number, headers: Record<string, string> = {}, body: unknown = {}): AuthFetch {
  return async () => ({ status, headers: { get: (name: string) => headers[name.toLowerCase()] ?? null }, json: async () => body });
}

describe('the credential in the page', () => {
  it('takes the token out of the fragment and keeps the rest', () => {
    expect(takeFragmentToken('#token=abc_-1')).toEqual({ token: 'abc_-1', rest: '' });
    expect(takeFragmentToken('#view=2&token=abc')).toEqual({ token: 'abc', rest: '#view=2' });
    expect(takeFragmentToken('')).toEqual({ token: null, rest: '' });
    expect(takeFragmentToken('#token=')).toEqual({ token: null, rest: '' });
  });

  it('encodes the secret as base64url of its UTF-8 bytes, as the node decodes it', () => {
    for (const secret of ['cugrpYHpbzqEVrf3v7PA79hpP_8Kv3mMrUsSn11p8Kc', 'correct horse battery staple', 'pässwörd ✓ ~~~???']) {
      expect(encodeSecret(secret)).toBe(Buffer.from(secret, 'utf8').toString('base64url'));
    }
    expect(bridgeProtocols(null)).toEqual(['lvs-bridge']);
    expect(bridgeProtocols('s')).toEqual(['lvs-bridge', 'lvs-auth.cw']);
  });

  it('reads the node\'s answer to GET /api/auth', async () => {
    expect(await checkAccess(answer(204), null)).toEqual({ kind: 'open' });
    expect(await checkAccess(answer(401, { 'x-lvs-credential': 'token' }), null)).toEqual({ kind: 'needs', credential: 'token', wrong: false });
    expect(await checkAccess(answer(401, { 'x-lvs-credential': 'password' }), 'guess')).toEqual({ kind: 'needs', credential: 'password', wrong: true });
    expect(await checkAccess(answer(429, { 'retry-after': '6' }, { error: 'too many wrong credentials from this address; try again in 6 s' }), 'guess')).toEqual({
      kind: 'locked',
      retryAfterMs: 6000,
      message: 'too many wrong credentials from this address; try again in 6 s',
    });
    expect(await checkAccess(answer(403, {}, { error: 'origin x may not use this node' }), null)).toEqual({ kind: 'unreachable', error: 'origin x may not use this node' });
    expect(await checkAccess(async () => Promise.reject(new TypeError('Failed to fetch')), null)).toEqual({ kind: 'unreachable', error: 'Failed to fetch' });
  });

  it('sends the secret as a Bearer header', async () => {
    let seen: Record<string, string> = {};
    await checkAccess(async (_url, init) => {
      seen = init.headers;
      return { status: 204, headers: { get: () => null }, json: async () => ({}) };
    }, 'abc');
    expect(seen).toEqual({ authorization: 'Bearer abc' });
  });

  it('keeps the secret in session storage, or in memory when storage is refused', () => {
    const map = new Map<string, string>();
    const store = secretStore({ getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) });
    store.set('abc');
    expect(map.get(SECRET_STORAGE_KEY)).toBe('abc');
    expect(store.get()).toBe('abc');
    store.set(null);
    expect(store.get()).toBeNull();
    const refusing = secretStore({ getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); }, removeItem: () => {} });
    refusing.set('xyz');
    expect(refusing.get()).toBe('xyz');
  });
});
