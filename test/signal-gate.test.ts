/**
 * The signaling gate and the HTTP limits against real sockets and real
 * nodes (child processes on loopback, real WebRTC). Every test runs on
 * 127.0.0.1, so the abusive client binds its sockets to another loopback
 * address (the whole 127/8 is loopback on Linux): the gate keys on the
 * address, and the honest peer dialling from 127.0.0.1 is another address.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  MAX_CONNECTIONS_PER_ADDRESS,
  MAX_SIGNAL_SESSIONS_PER_ADDRESS,
  SIGNAL_SESSION_BURST_PER_ADDRESS,
} from '../main/model/limits.js';
import { AddressTable, addressKey } from '../main/server/address-table.js';
import { ownOrigin, signalOriginRefusal } from '../main/server/origin-policy.js';
import { ThrottledLog } from '../main/server/throttled-log.js';
import { TokenBucket } from '../main/model/token-bucket.js';
import { checkOrigin, validateSettingsPatch } from '../main/store/schema.js';
import { killAll, startNode, tempDir, waitFor, type NodeProcess } from './helpers/node-process.js';

const FLOOD = 500;
const dirs: { remove(): void }[] = [];
function dataDir(): string {
  const d = tempDir('lvs-gate-');
  dirs.push(d);
  return d.path;
}
const held: { destroy(): void }[] = [];

afterEach(() => {
  for (const s of held.splice(0)) s.destroy();
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

function linked(node: NodeProcess, peerId: string): Promise<boolean> {
  return node.status().then((s) => s.peers.some((p) => p.id === peerId && p.connected));
}

/** Raw TCP sockets from `from` that never send a byte; counts the ones the node closes. */
function idleSockets(port: number, from: string, n: number): { closed: () => number; sockets: Socket[] } {
  let closed = 0;
  const sockets = Array.from({ length: n }, () => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    s.on('error', () => {});
    s.on('close', () => closed++);
    s.resume(); // read, so the node's answer and close reach us
    held.push(s);
    return s;
  });
  return { closed: () => closed, sockets };
}

interface Attempt {
  ws: WebSocket;
  outcome: Promise<Outcome>;
}
interface Outcome {
  opened: boolean;
  status: number | null;
  /** The reason the node names in X-Lvs-Refused, and its Retry-After. */
  refused: string | null;
  retryAfter: string | null;
}

/** A WebSocket upgrade on /signal that, once open, sends nothing (an idle signaling session). */
function signalAttempt(port: number, from: string, headers: Record<string, string> = {}, onOpen?: () => void, onClose?: () => void): Attempt {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/signal`, { localAddress: from, headers, handshakeTimeout: 60_000 });
  held.push({ destroy: () => ws.terminate() });
  const outcome = new Promise<Outcome>((resolve) => {
    ws.once('open', () => {
      onOpen?.();
      ws.once('close', () => onClose?.());
      resolve({ opened: true, status: null, refused: null, retryAfter: null });
    });
    ws.once('unexpected-response', (req, res) => {
      const refused = res.headers['x-lvs-refused'];
      const retryAfter = res.headers['retry-after'];
      resolve({ opened: false, status: res.statusCode ?? null, refused: typeof refused === 'string' ? refused : null, retryAfter: retryAfter ?? null });
      req.destroy();
    });
    ws.once('error', () => resolve({ opened: false, status: null, refused: null, retryAfter: null }));
  });
  return { ws, outcome };
}

/** Sends a request head a line at a time and never finishes it; resolves with what the node answered when it closed the socket. */
function slowloris(port: number, from: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    held.push(s);
    let answer = '';
    let timer: ReturnType<typeof setInterval> | undefined;
    s.on('connect', () => {
      s.write(`GET /signal HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      let n = 0;
      timer = setInterval(() => s.write(`X-Slow-${n++}: a\r\n`), 500);
    });
    s.on('data', (d) => (answer += d.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
  });
}

describe('signaling gate with real sockets', () => {
  it(`${FLOOD} idle TCP sockets from one address: at most ${MAX_CONNECTIONS_PER_ADDRESS} are kept, an honest peer still links, the rest time out`, async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'target']);
    const flood = idleSockets(a.port, '127.0.0.2', FLOOD);
    await waitFor('the node to close the sockets beyond the per-address cap', () => flood.closed() >= FLOOD - MAX_CONNECTIONS_PER_ADDRESS);
    expect(FLOOD - flood.closed()).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_ADDRESS);
    const refused = (await a.status()).signaling?.refused ?? {};
    expect(refused['address-connections']).toBeGreaterThanOrEqual(FLOOD - MAX_CONNECTIONS_PER_ADDRESS);

    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'honest', '--peer', `127.0.0.1:${a.port}`]);
    await waitFor('the honest peer to link', () => linked(a, b.id));

    // The ones kept never send a request: the headers timeout closes them.
    await waitFor('every idle socket to be closed by the node', () => flood.closed() === FLOOD, 60_000);
    expect((await a.status()).signaling?.refused['request-timeout']).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it(`${FLOOD} idle signaling sessions from one address: at most ${MAX_SIGNAL_SESSIONS_PER_ADDRESS} open at once, the rest refused; an honest peer still links`, async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'target']);
    let open = 0;
    let mostOpen = 0;
    const attempts = Array.from({ length: FLOOD }, () =>
      signalAttempt(
        a.port,
        '127.0.0.2',
        {},
        () => (mostOpen = Math.max(mostOpen, ++open)),
        () => open--,
      ),
    );
    const outcomes = await Promise.all(attempts.map((x) => x.outcome));
    const opened = outcomes.filter((o) => o.opened).length;
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(mostOpen).toBeLessThanOrEqual(MAX_SIGNAL_SESSIONS_PER_ADDRESS);
    expect(outcomes.filter((o) => !o.opened).length).toBeGreaterThanOrEqual(FLOOD - MAX_CONNECTIONS_PER_ADDRESS);
    const tooMany = outcomes.filter((o) => o.status === 429);
    expect(tooMany.length).toBeGreaterThanOrEqual(1);
    expect(tooMany.every((o) => o.refused === 'address-sessions' || o.refused === 'address-rate')).toBe(true);
    const refused = (await a.status()).signaling?.refused ?? {};
    expect(refused['address-sessions']).toBeGreaterThanOrEqual(1);

    // The idle sessions are still held while the honest peer dials.
    const b = await startNode(['--port', '0', '--data-dir', dataDir(), '--name', 'honest', '--peer', `127.0.0.1:${a.port}`]);
    await waitFor('the honest peer to link', () => linked(a, b.id));
  }, 120_000);

  it('limits new sessions per address per second: after the burst, HTTP 429 with Retry-After', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    let admitted = 0;
    let limited: Outcome | null = null;
    // One session at a time (closed before the next), so only the rate can refuse; a slow machine only takes more tries.
    for (let i = 0; i < 300 && !limited; i++) {
      let closed!: () => void;
      const gone = new Promise<void>((r) => (closed = r));
      const attempt = signalAttempt(a.port, '127.0.0.3', {}, undefined, () => closed());
      const outcome = await attempt.outcome;
      if (outcome.opened) {
        admitted++;
        attempt.ws.close();
        await gone;
      } else if (outcome.status === 429 && outcome.refused === 'address-rate') {
        limited = outcome;
      } else if (outcome.refused !== 'address-sessions') {
        throw new Error(`unexpected refusal ${JSON.stringify(outcome)}`);
      }
    }
    expect(limited).not.toBeNull();
    expect(Number(limited!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeGreaterThanOrEqual(SIGNAL_SESSION_BURST_PER_ADDRESS);
    expect((await a.status()).signaling?.refused['address-rate']).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('cuts a slowloris that never finishes its headers (HTTP 408), and refuses an oversized head (431)', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    const answer = await slowloris(a.port, '127.0.0.4');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await a.status()).signaling?.refused['request-timeout']).toBeGreaterThanOrEqual(1);

    const big = await fetch(`http://127.0.0.1:${a.port}/api/status`, { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expect(big.status).toBe(431);
    expect((await a.status()).signaling?.refused['headers-too-large']).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses /signal to pages of a foreign origin (403, counted), allows its own pages and the origins the user allowed', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir(), '--allow-origin', 'http://friend.example:8080']);
    const host = `127.0.0.1:${a.port}`;
    const foreign = await signalAttempt(a.port, '127.0.0.1', { origin: 'http://evil.example' }).outcome;
    expect(foreign).toMatchObject({ opened: false, status: 403, refused: 'origin' });
    // A DNS name in Host proves nothing (a rebinding page sends exactly this), so its origin is not "own".
    const rebound = await signalAttempt(a.port, '127.0.0.1', { origin: 'http://rebind.example:80', host: 'rebind.example:80' }).outcome;
    expect(rebound).toMatchObject({ opened: false, status: 403 });
    const own = signalAttempt(a.port, '127.0.0.1', { origin: `http://${host}` });
    expect((await own.outcome).opened).toBe(true);
    const friend = signalAttempt(a.port, '127.0.0.1', { origin: 'http://friend.example:8080' });
    expect((await friend.outcome).opened).toBe(true);
    const native = signalAttempt(a.port, '127.0.0.1');
    expect((await native.outcome).opened).toBe(true);
    expect((await a.status()).signaling?.refused.origin).toBe(2);
    // Logged once per origin per minute, however often it comes back.
    for (let i = 0; i < 5; i++) await signalAttempt(a.port, '127.0.0.1', { origin: 'http://evil.example' }).outcome;
    await waitFor('the refusal log line', () => a.records.some((r) => r.msg.includes('"http://evil.example"')));
    expect(a.records.filter((r) => r.msg.includes('"http://evil.example"'))).toHaveLength(1);
  }, 60_000);

  it('forgets the addresses it tracked once their sockets are gone', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dataDir()]);
    const froms = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    const attempts = froms.map((from) => signalAttempt(a.port, from));
    const outcomes = await Promise.all(attempts.map((x) => x.outcome));
    expect(outcomes.every((o) => o.opened)).toBe(true);
    expect((await a.status()).signaling?.tracked).toBeGreaterThanOrEqual(20);
    for (const x of attempts) x.ws.terminate();
    await waitFor('the table to forget the idle addresses', async () => (await a.status()).signaling?.tracked === 1, 60_000);
  }, 90_000);
});

describe('gate parts', () => {
  it('token bucket: a burst, then the refill rate', () => {
    const b = new TokenBucket(5, 20, 0);
    let taken = 0;
    while (b.take(0)) taken++;
    expect(taken).toBe(20);
    expect(b.msUntilToken(0)).toBe(200);
    expect(b.take(199)).toBe(false);
    expect(b.take(200)).toBe(true);
    expect(b.isFull(200 + 20 * 200)).toBe(true);
  });

  it('address table: capped, forgets only idle entries, refuses a new address when every entry is busy', () => {
    const busy = new Set<string>();
    const table = new AddressTable<{ key: string }>(3, () => ({ key: '' }), (e) => !busy.has(e.key));
    for (const k of ['a', 'b', 'c']) table.get(k, 0)!.key = k;
    busy.add('a');
    busy.add('c');
    table.get('d', 0)!.key = 'd'; // 'b' was idle: forgotten
    expect(table.peek('b')).toBeUndefined();
    expect(table.size).toBe(3);
    busy.add('d');
    expect(table.get('e', 0)).toBeNull();
    expect(table.peek('a')).toBeDefined();
    busy.clear();
    table.sweep(0);
    expect(table.size).toBe(0);
  });

  it('address keys: IPv4-mapped IPv6 is the IPv4 address', () => {
    expect(addressKey('::ffff:192.168.1.5')).toBe('192.168.1.5');
    expect(addressKey('FE80::1')).toBe('fe80::1');
    expect(addressKey(undefined)).toBeNull();
  });

  it('origin rule: own pages by IP literal or localhost, never by a DNS name; allowed list; no Origin is a native node', () => {
    expect(ownOrigin('192.168.1.5:7710')).toBe('http://192.168.1.5:7710');
    expect(ownOrigin('[::1]:7710')).toBe('http://[::1]:7710');
    expect(ownOrigin('localhost:7710')).toBe('http://localhost:7710');
    expect(ownOrigin('mybox.local:7710')).toBeNull();
    expect(signalOriginRefusal(undefined, '10.0.0.1:7710', [])).toBeNull();
    expect(signalOriginRefusal('http://10.0.0.1:7710', '10.0.0.1:7710', [])).toBeNull();
    expect(signalOriginRefusal('http://10.0.0.1:7711', '10.0.0.1:7710', [])).toMatch(/may not open \/signal/);
    expect(signalOriginRefusal('null', '10.0.0.1:7710', [])).toMatch(/may not open/);
    expect(signalOriginRefusal('http://mybox.local:7710', 'mybox.local:7710', ['http://mybox.local:7710'])).toBeNull();
  });

  it.each([
    ['http://mybox.local:7710', null],
    ['https://[fe80::1]:8443', null],
    ['http://Mybox.local:7710', /lower case/],
    ['http://mybox.local:80', /default port/],
    ['https://mybox.local:443', /default port/],
    ['http://mybox.local:7710/', /no path/],
    ['ftp://mybox.local', /is not an origin/],
    ['mybox.local:7710', /is not an origin/],
  ])('checkOrigin(%j)', (origin, problem) => {
    const result = checkOrigin(origin);
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });

  it('allowedOrigins setting: names the bad entry, caps the list', () => {
    expect(validateSettingsPatch({ allowedOrigins: ['http://a.example:1'] })).toEqual({ ok: true, settings: { allowedOrigins: ['http://a.example:1'] } });
    expect(validateSettingsPatch({ allowedOrigins: ['http://a.example:1', 'nope'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^allowedOrigins: "nope"/) });
    expect(validateSettingsPatch({ allowedOrigins: Array.from({ length: 17 }, (_, i) => `http://a${i}.example`) })).toMatchObject({ ok: false, error: /allowedOrigins must be a list of at most 16/ });
  });

  it('throttled log: once per key per interval, and a bounded number of keys', () => {
    const lines: string[] = [];
    const log = new ThrottledLog(60_000, 2, (m) => lines.push(m));
    expect(log.maybe('a', 'a1', 0)).toBe(true);
    expect(log.maybe('a', 'a2', 1000)).toBe(false);
    expect(log.maybe('b', 'b1', 1000)).toBe(true);
    expect(log.maybe('c', 'c1', 1000)).toBe(false);
    expect(log.maybe('c', 'c2', 61_000)).toBe(true);
    expect(log.maybe('a', 'a3', 61_000)).toBe(true);
    expect(lines).toEqual(['a1', 'b1', 'c2', 'a3']);
    expect(log.suppressed).toBe(2);
  });
});
