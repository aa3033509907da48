/**
 * The --ui-public check on the status API and the dashboard's bridge: the
 * request must carry the credential, as `Authorization: Bearer <secret>` or
 * (a browser's WebSocket cannot set headers) as the bridge subprotocol
 * `lvs-auth.<base64url(secret)>`. An address that presents wrong
 * credentials UI_AUTH_FAILURE_BURST times is refused outright, right or
 * wrong, until its bucket refills at one attempt per UI_AUTH_FAILURE_REFILL_MS.
 */
import type { IncomingMessage } from 'node:http';
import { BRIDGE_AUTH_PROTOCOL_PREFIX, type UiAccessRefusal, type UiAccessStatus } from '../bridge/api.js';
import { ADDRESS_TABLE_SWEEP_MS, MAX_TRACKED_UI_AUTH_ADDRESSES, UI_AUTH_FAILURE_BURST, UI_AUTH_FAILURE_REFILL_MS } from '../model/limits.js';
import { AddressTable, addressKey } from './address-table.js';
import { TokenBucket } from '../model/token-bucket.js';
import type { UiCredential } from './ui-credential.js';

export interface UiAuthRefusal {
  status: 401 | 429;
  reason: UiAccessRefusal;
  error: string;
  headers: Record<string, string>;
}

/** The secret a request presents, or null: the Bearer header first, then the bridge subprotocol. */
export function presentedSecret(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7);
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const offered of protocols.split(',')) {
      const p = offered.trim();
      if (p.startsWith(BRIDGE_AUTH_PROTOCOL_PREFIX)) return Buffer.from(p.slice(BRIDGE_AUTH_PROTOCOL_PREFIX.length), 'base64url').toString('utf8');
    }
  }
  return null;
}

export class UiAuth {
  private readonly refused = new Map<UiAccessRefusal, number>();
  private readonly failures = new AddressTable<TokenBucket>(
    MAX_TRACKED_UI_AUTH_ADDRESSES,
    (now) => new TokenBucket(1000 / UI_AUTH_FAILURE_REFILL_MS, UI_AUTH_FAILURE_BURST, now),
    (bucket, now) => bucket.isFull(now),
  );
  private readonly sweepTimer: ReturnType<typeof setInterval> | null;

  /** `credential` null: no credential asked (loopback-only UI). */
  constructor(
    private readonly credential: UiCredential | null,
    private readonly now: () => number = Date.now,
  ) {
    this.sweepTimer = credential ? setInterval(() => this.failures.sweep(this.now()), ADDRESS_TABLE_SWEEP_MS) : null;
    this.sweepTimer?.unref();
  }

  /** Why this request may not use the UI, or null if it may. */
  check(req: IncomingMessage): UiAuthRefusal | null {
    if (!this.credential) return null;
    const kind = this.credential.kind;
    const challenge = { 'WWW-Authenticate': `Bearer realm="lvs-node", charset="UTF-8"`, 'X-Lvs-Credential': kind };
    const key = addressKey(req.socket.remoteAddress) ?? 'unknown';
    const now = this.now();
    const bucket = this.failures.peek(key);
    if (bucket && bucket.msUntilToken(now) > 0) {
      const seconds = Math.max(1, Math.ceil(bucket.msUntilToken(now) / 1000));
      return this.refuse('locked-out', 429, `too many wrong credentials from this address; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
    const secret = presentedSecret(req);
    if (secret === null) return this.refuse('missing', 401, `this node's dashboard needs its ${kind === 'token' ? 'access token' : 'password'}`, challenge);
    if (this.credential.matches(secret)) return null;
    // A full table of busy buckets: the attempt is still refused, only not remembered.
    this.failures.get(key, now)?.take(now);
    return this.refuse('wrong', 401, `wrong ${kind === 'token' ? 'access token' : 'password'}`, challenge);
  }

  status(): UiAccessStatus {
    return { credential: this.credential?.kind ?? 'none', refused: Object.fromEntries(this.refused), tracked: this.failures.size };
  }

  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  private refuse(reason: UiAccessRefusal, status: 401 | 429, error: string, headers: Record<string, string>): UiAuthRefusal {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    return { status, reason, error, headers };
  }
}
