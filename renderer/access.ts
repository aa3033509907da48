/**
 * The page's side of the --ui-public credential, without the DOM: take a
 * token handed over in the URL fragment (`#token=...`, which no server and
 * no log ever sees), ask the node whether a credential is needed and
 * whether ours is right (GET /api/auth), and offer it on the bridge as a
 * WebSocket subprotocol.
 */
import { AUTH_CHECK_PATH, BRIDGE_AUTH_PROTOCOL_PREFIX, BRIDGE_PROTOCOL, TOKEN_FRAGMENT_KEY } from '../main/bridge/api.js';

/** The token in a `#token=...` fragment (other fragment fields are kept), or null. */
export function takeFragmentToken(hash: string): { token: string | null; rest: string } {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get(TOKEN_FRAGMENT_KEY);
  params.delete(TOKEN_FRAGMENT_KEY);
  const rest = params.toString();
  return { token: token === null || token === '' ? null : token, rest: rest === '' ? '' : `#${rest}` };
}

/** base64url of the secret's UTF-8 bytes: a subprotocol may hold only token characters. */
export function encodeSecret(secret: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(secret)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The subprotocols a page offers on /bridge. */
export function bridgeProtocols(secret: string | null): string[] {
  return secret === null ? [BRIDGE_PROTOCOL] : [BRIDGE_PROTOCOL, `${BRIDGE_AUTH_PROTOCOL_PREFIX}${encodeSecret(secret)}`];
}

export type AccessState =
  | { kind: 'open' }
  /** The node wants a credential; `wrong`: the one we sent is not it. */
  | { kind: 'needs'; credential: 'token' | 'password'; wrong: boolean }
  /** Too many wrong attempts from this address; the node takes none before `retryAfterMs`. */
  | { kind: 'locked'; retryAfterMs: number; message: string }
  /** No answer we understand: the bridge's own banner and retries take over. */
  | { kind: 'unreachable'; error: string };

export interface AuthResponse {
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}
export type AuthFetch = (url: string, init: { headers: Record<string, string>; cache: 'no-store' }) => Promise<AuthResponse>;

async function errorOf(res: AuthResponse): Promise<string | null> {
  try {
    const body = (await res.json()) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : null;
  } catch {
    return null;
  }
}

/** Asks the node whether `secret` (or none) lets this page in. Never throws. */
export async function checkAccess(fetchFn: AuthFetch, secret: string | null): Promise<AccessState> {
  let res: AuthResponse;
  try {
    res = await fetchFn(AUTH_CHECK_PATH, { headers: secret === null ? {} : { authorization: `Bearer ${secret}` }, cache: 'no-store' });
  } catch (err) {
    // fetch refuses a header value outside Latin-1: no credential of ours looks like that.
    if (secret !== null && err instanceof TypeError && /header|ByteString|ISO-8859-1/i.test(err.message)) return { kind: 'needs', credential: 'password', wrong: true };
    return { kind: 'unreachable', error: err instanceof Error ? err.message : String(err) };
  }
  if (res.status === 204 || res.status === 200) return { kind: 'open' };
  if (res.status === 401) return { kind: 'needs', credential: res.headers.get('x-lvs-credential') === 'password' ? 'password' : 'token', wrong: secret !== null };
  if (res.status === 429) {
    const seconds = Number(res.headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
    return { kind: 'locked', retryAfterMs, message: (await errorOf(res)) ?? 'too many wrong attempts from this address' };
  }
  return { kind: 'unreachable', error: (await errorOf(res)) ?? `the node answered HTTP ${res.status}` };
}

/** Where the page keeps the credential: this tab's session storage (gone when the tab closes), else memory. */
export interface SecretStore {
  get(): string | null;
  set(secret: string | null): void;
}

export const SECRET_STORAGE_KEY = 'lvs-ui-credential';

export function secretStore(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null): SecretStore {
  let memory: string | null = null;
  return {
    get() {
      try {
        return storage?.getItem(SECRET_STORAGE_KEY) ?? memory;
      } catch {
        return memory;
      }
    },
    set(secret) {
      memory = secret;
      try {
        if (secret === null) storage?.removeItem(SECRET_STORAGE_KEY);
        else storage?.setItem(SECRET_STORAGE_KEY, secret);
      } catch {
        // Storage disabled: memory holds it for this page's life.
      }
    },
  };
}
