/**
 * --ui-public: the status API and the dashboard's bridge of a real node (in
 * this process: real transport, real HTTP, real files) answer only to the
 * node's credential, change nothing without it, and lock out an address
 * that keeps guessing; a start without a usable credential is one line,
 * exit 2, and leaves nothing on disk.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { BRIDGE_AUTH_PROTOCOL_PREFIX, BRIDGE_PROTOCOL, type BridgeServerFrame } from '../main/bridge/api.js';
import { parseCli, UsageError } from '../main/headless/cli-args.js';
import { runNode, type RunningNode } from '../main/headless/run-node.js';
import { UI_AUTH_FAILURE_BURST } from '../main/model/limits.js';
import { UI_TOKEN_FILE } from '../main/server/ui-credential.js';
import { killAll, runCli, startNode, tempDir } from './helpers/node-process.js';

const dirs: { path: string; remove(): void }[] = [];
function dir(): string {
  const d = tempDir('lvs-ui-access-');
  dirs.push(d);
  return d.path;
}
const nodes: RunningNode[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

async function start(dataDir: string, extra: string[] = []): Promise<{ node: RunningNode; lines: string[] }> {
  const cmd = parseCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--no-discovery', '--log-format', 'json', '--ui-public', ...extra]);
  if (cmd.kind !== 'run') throw new Error('expected run');
  const lines: string[] = [];
  const node = await runNode(cmd.options, (line) => lines.push(line));
  nodes.push(node);
  return { node, lines };
}

function get(port: number, path: string, headers: Record<string, string> = {}, localAddress = '127.0.0.1'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function protocolOf(secret: string): string {
  return `${BRIDGE_AUTH_PROTOCOL_PREFIX}${Buffer.from(secret, 'utf8').toString('base64url')}`;
}

/** Opens /bridge offering `protocols`; resolves with the open socket or the HTTP status that refused it. */
function bridge(port: number, protocols: string[], localAddress = '127.0.0.1'): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/bridge`, protocols, { localAddress });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, frame: { id: number; channel: string; args: unknown[] }): Promise<Extract<BridgeServerFrame, { id: number }>> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as BridgeServerFrame;
      if ('id' in msg && msg.id === frame.id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}

function token(dataDir: string): string {
  return readFileSync(join(dataDir, UI_TOKEN_FILE), 'utf8').trim();
}

describe('--ui-public with the generated access token', () => {
  it('refuses the status API and the bridge without the token or with a wrong one, and changes nothing', async () => {
    const d = dir();
    const { node } = await start(d);
    const port = node.http.port;
    const missing = await get(port, '/api/status');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(missing.body).not.toContain(node.node.id);
    expect((await get(port, '/api/status', { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await get(port, '/api/auth')).status).toBe(401);

    node.store.flush();
    const before = readFileSync(node.store.path, 'utf8');
    expect(await bridge(port, [BRIDGE_PROTOCOL])).toBe(401);
    expect(await bridge(port, [BRIDGE_PROTOCOL, protocolOf('guess')])).toBe(401);
    expect(node.service.rejected.size).toBe(0);
    expect(node.node.status().paused).toBe(false);
    node.store.flush();
    expect(JSON.parse(readFileSync(node.store.path, 'utf8')).settings).toEqual(JSON.parse(before).settings);
    expect(node.status().uiAccess).toMatchObject({ credential: 'token', refused: { missing: 3, wrong: 2 } });
    // The dashboard's files hold no secret: the page loads, so it can ask for the token.
    expect((await get(port, '/')).status).toBe(200);
  });

  it('answers the status API and the bridge with the token, and never echoes the credential as the subprotocol', async () => {
    const d = dir();
    const { node } = await start(d);
    const port = node.http.port;
    const secret = token(d);
    expect(statSync(join(d, UI_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    const status = await get(port, '/api/status', { authorization: `Bearer ${secret}` });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ id: node.node.id, uiAccess: { credential: 'token' } });
    expect((await get(port, '/api/auth', { authorization: `Bearer ${secret}` })).status).toBe(204);

    const ws = await bridge(port, [BRIDGE_PROTOCOL, protocolOf(secret)]);
    if (typeof ws === 'number') throw new Error(`bridge refused: HTTP ${ws}`);
    expect(ws.protocol).toBe(BRIDGE_PROTOCOL);
    expect((await call(ws, { id: 1, channel: 'lvs:set-paused', args: [true] })).result).toEqual({ ok: true, value: { paused: true } });
    expect(node.node.status().paused).toBe(true);
    ws.close();
  });

  it('shows a new token once in the start log, keeps it across restarts, and says where it is', async () => {
    const d = dir();
    const first = await start(d);
    const listening = first.lines.map((l) => JSON.parse(l) as { kind: string; msg: string }).find((r) => r.kind === 'listening')!;
    const secret = token(d);
    expect(listening.msg).toContain(`/#token=${secret} `);
    await first.node.stop();
    nodes.splice(nodes.indexOf(first.node), 1);

    const again = await start(d);
    const line = again.lines.map((l) => JSON.parse(l) as { kind: string; msg: string }).find((r) => r.kind === 'listening')!;
    expect(line.msg).not.toContain(secret);
    expect(line.msg).toContain(`access token in ${join(d, UI_TOKEN_FILE)}`);
    expect(token(d)).toBe(secret);
    expect((await get(again.node.http.port, '/api/auth', { authorization: `Bearer ${secret}` })).status).toBe(204);
  });

  it(`locks out an address after ${UI_AUTH_FAILURE_BURST} wrong tokens (even the right one is refused), not the others`, async () => {
    const d = dir();
    const { node } = await start(d);
    const port = node.http.port;
    const secret = token(d);
    for (let i = 0; i < UI_AUTH_FAILURE_BURST; i++) expect((await get(port, '/api/auth', { authorization: `Bearer guess-${i}` }, '127.0.0.6')).status).toBe(401);
    const locked = await get(port, '/api/auth', { authorization: `Bearer ${secret}` }, '127.0.0.6');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await bridge(port, [BRIDGE_PROTOCOL, protocolOf(secret)], '127.0.0.6')).toBe(429);
    expect((await get(port, '/api/auth', { authorization: `Bearer ${secret}` }, '127.0.0.7')).status).toBe(204);
    expect(node.status().uiAccess?.refused['locked-out']).toBe(2);
  });
});

describe('--ui-public with --ui-password-file', () => {
  it('asks for the password instead, and makes no token', async () => {
    const d = dir();
    const file = join(dir(), 'password');
    writeFileSync(file, 'correct horse battery staple\n', { mode: 0o600 });
    const { node, lines } = await start(d, ['--ui-password-file', file]);
    const port = node.http.port;
    expect(existsSync(join(d, UI_TOKEN_FILE))).toBe(false);
    expect(lines.join('\n')).not.toContain('correct horse');
    expect((await get(port, '/api/auth')).headers['x-lvs-credential']).toBe('password');
    expect((await get(port, '/api/status', { authorization: 'Bearer correct horse battery staple' })).status).toBe(200);
    expect((await get(port, '/api/status', { authorization: 'Bearer correct horse battery stapler' })).status).toBe(401);
    const ws = await bridge(port, [BRIDGE_PROTOCOL, protocolOf('correct horse battery staple')]);
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).close();
  });
});

describe('a --ui-public start without a usable credential', () => {
  function passwordFile(content: string, mode = 0o600): string {
    const file = join(dir(), 'password');
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    return file;
  }

  it.each([
    ['a password file that does not exist', () => ['--ui-password-file', '/nonexistent/lvs-password'], /--ui-password-file \/nonexistent\/lvs-password does not exist/],
    ['a password file others can read', () => ['--ui-password-file', passwordFile('long enough password\n', 0o644)], /can be read by other users \(mode 644\): run chmod 600/],
    ['a password too short', () => ['--ui-password-file', passwordFile('short\n')], /has 5 characters; it needs 12 to 256/],
    ['a password of two lines', () => ['--ui-password-file', passwordFile('long enough password\nsecond line\n')], /one line of printable ASCII/],
  ])('refuses %s: one line, exit 2, nothing on disk', async (_name, args, message) => {
    const dataDir = join(dir(), 'fresh');
    const { code, stderr } = await runCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--ui-public', ...args()]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(existsSync(dataDir)).toBe(false);
  });

  it.each([
    ['others can read it', 'x'.repeat(43), 0o640, /can be read by other users \(mode 640\)/],
    ['it holds something else', 'not a token', 0o600, /does not hold an access token written by lvs-node; delete it/],
  ])('refuses a ui-token file when %s, and leaves the data dir as it was', async (_name, content, mode, message) => {
    const d = dir();
    const file = join(d, UI_TOKEN_FILE);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    const { code, stderr } = await runCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', d, '--ui-public']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(existsSync(join(d, 'lvs-node.json'))).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('makes no token when the start fails later (a port in use)', async () => {
    const a = await startNode(['--port', '0', '--data-dir', dir()]);
    const d = join(dir(), 'fresh');
    const { code } = await runCli(['--host', '127.0.0.1', '--port', String(a.port), '--data-dir', d, '--ui-public']);
    expect(code).toBe(2);
    expect(existsSync(join(d, UI_TOKEN_FILE))).toBe(false);
  });

  it('--ui-password-file without --ui-public is a usage error', () => {
    expect(() => parseCli(['--ui-password-file', '/tmp/x'])).toThrow(UsageError);
    expect(() => parseCli(['--ui-password-file', '/tmp/x'])).toThrow(/needs --ui-public/);
  });
});

describe('without --ui-public', () => {
  it('loopback clients need no credential (unchanged)', async () => {
    const cmd = parseCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir(), '--no-discovery']);
    if (cmd.kind !== 'run') throw new Error('expected run');
    const node = await runNode(cmd.options, () => {});
    nodes.push(node);
    expect((await get(node.http.port, '/api/auth')).status).toBe(204);
    expect((await get(node.http.port, '/api/status')).status).toBe(200);
    expect(node.status().uiAccess).toMatchObject({ credential: 'none' });
    const ws = await bridge(node.http.port, [BRIDGE_PROTOCOL]);
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).close();
  });
});
