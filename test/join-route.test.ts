/**
 * The /join page over the node's HTTP server (docs/security.md "Browser
 * nodes and the relay"): its four files are served to anyone, with or
 * without --ui-public, and no spelling of a path reaches anything else
 * without the dashboard's rules. A real server on loopback over real files
 * in a temporary directory. A client on the LAN is one whose Host header
 * is not a loopback name: the server refuses it exactly as it refuses a
 * LAN address (the DNS-rebinding rule), so the test needs no second host.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningHttpServer } from '../main/server/http-server.js';
import { loadUiCredential } from '../main/server/ui-credential.js';

const FILES: Record<string, string> = {
  'index.html': '<!doctype html><title>dashboard</title>',
  'app.js': 'console.log("dashboard")',
  'app.js.map': '{"dashboard":true}',
  'style.css': 'body{}',
  'join.html': '<!doctype html><title>join</title>',
  'join.js': 'console.log("join")',
  'join.js.map': '{"join":true}',
  'join-clock.js': 'console.log("clock")',
};
const STATUS = { secret: 'the node status' };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-join-route-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(options: { uiPublic: boolean; built?: boolean }): Promise<RunningHttpServer> {
  const root = tempDir();
  for (const [name, body] of Object.entries(FILES)) writeFileSync(join(root, name), body);
  const data = tempDir();
  const running = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    uiPublic: options.uiPublic,
    rendererDir: options.built === false ? null : root,
    getStatus: () => STATUS,
    onSignalUpgrade: (_req, socket) => socket.destroy(),
    onBridgeUpgrade: (_req, socket) => socket.destroy(),
    ...(options.uiPublic ? { uiCredential: loadUiCredential(data, null) } : {}),
  });
  cleanups.push(() => running.close());
  return running;
}

interface Answer {
  status: number;
  body: string;
}

/** One request; `lan` sends the Host a LAN client would (the node's LAN address). */
function http(port: number, path: string, method = 'GET', lan = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = lan ? { host: `192.168.1.20:${port}` } : {};
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request line exactly as written (targets node:http would not send). */
function raw(port: number, target: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('connect', () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: 192.168.1.20:${port}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('/join without --ui-public', () => {
  it('serves the join page and what it loads to a LAN client, with or without a query', async () => {
    const s = await server({ uiPublic: false });
    expect(await http(s.port, '/join')).toEqual({ status: 200, body: FILES['join.html'] });
    expect(await http(s.port, '/join?from=dashboard')).toEqual({ status: 200, body: FILES['join.html'] });
    expect(await http(s.port, '/join.js?x')).toEqual({ status: 200, body: FILES['join.js'] });
    expect(await http(s.port, '/join-clock.js')).toEqual({ status: 200, body: FILES['join-clock.js'] });
    expect(await http(s.port, '/style.css')).toEqual({ status: 200, body: FILES['style.css'] });
    expect(await http(s.port, '/join', 'HEAD')).toEqual({ status: 200, body: '' });
  });

  it('serves nothing else to a LAN client, however the path is spelt', async () => {
    const s = await server({ uiPublic: false });
    const targets = [
      '/', '/index.html', '/app.js', '/app.js.map', '/join.html', '/join.js.map', '/api/status', '/api/status?join',
      '/join/', '/join/../api/status', '/join/..%2Fapi%2Fstatus', '/%6Aoin', '/%6Aoin.js', '/JOIN', '//join', '/join.js/', '/join;x', '/join%00',
    ];
    for (const target of targets) {
      const answer = await http(s.port, target);
      expect({ target, status: answer.status }).toEqual({ target, status: 403 });
      expect(answer.body).not.toContain(STATUS.secret);
    }
    for (const target of ['/join#x', 'http://127.0.0.1/join', 'http://127.0.0.1/api/status', '*']) {
      const answer = await raw(s.port, target);
      // A target node:http cannot parse is a 400; one it parses is refused like any other path.
      expect({ target, refused: [400, 403].includes(answer.status) }).toEqual({ target, refused: true });
      expect(answer.body).not.toContain(STATUS.secret);
    }
  });

  it('answers only GET and HEAD on the join files', async () => {
    const s = await server({ uiPublic: false });
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const lan = await http(s.port, '/join', method);
      expect({ method, status: lan.status }).toEqual({ method, status: 403 });
      const local = await http(s.port, '/join', method, false);
      expect({ method, status: local.status }).toEqual({ method, status: 405 });
      expect(local.body).not.toContain('join');
    }
  });

  it('says the page is not built when there is no dashboard build, and still nothing else', async () => {
    const s = await server({ uiPublic: false, built: false });
    const answer = await http(s.port, '/join');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/join page is not built/);
    expect((await http(s.port, '/api/status')).status).toBe(403);
  });

  it('gives a loopback client the dashboard as before', async () => {
    const s = await server({ uiPublic: false });
    expect(await http(s.port, '/', 'GET', false)).toEqual({ status: 200, body: FILES['index.html'] });
    expect(JSON.parse((await http(s.port, '/api/status', 'GET', false)).body)).toEqual(STATUS);
  });
});

describe('/join with --ui-public', () => {
  it('serves the join page without the credential, and the status API still needs it however the path is spelt', async () => {
    const s = await server({ uiPublic: true });
    expect(await http(s.port, '/join')).toEqual({ status: 200, body: FILES['join.html'] });
    expect(await http(s.port, '/join.js')).toEqual({ status: 200, body: FILES['join.js'] });
    for (const target of ['/api/status', '/api/status?x', '/join/../api/status', '/%61pi/status', '/api//status', '/api/status/']) {
      const answer = await http(s.port, target);
      expect([401, 404]).toContain(answer.status);
      expect(answer.body).not.toContain(STATUS.secret);
    }
    const raw1 = await raw(s.port, 'http://127.0.0.1/api/status');
    expect(raw1.body).not.toContain(STATUS.secret);
  });
});
