/**
 * The lvs:// protocol handler (main/electron/protocol.ts), fed real Request
 * objects against a real directory: it serves dist/renderer files only, with
 * the right MIME type and the Content-Security-Policy header, and refuses
 * every way out of that directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_URL,
  CONTENT_SECURITY_POLICY,
  createProtocolHandler,
  isAppUrl,
  resolveRendererFile,
} from '../main/electron/protocol.js';

const SECRET = 'the private key lives here';
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-protocol-'));
const root = path.join(base, 'renderer');
let handler: (request: Request) => Promise<Response>;

beforeAll(() => {
  fs.mkdirSync(path.join(root, 'img'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
  fs.writeFileSync(path.join(root, 'app.js'), 'export {};');
  fs.writeFileSync(path.join(root, 'app.js.map'), '{}');
  fs.writeFileSync(path.join(root, 'style.css'), 'body{}');
  fs.writeFileSync(path.join(root, 'img', 'dot.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  fs.writeFileSync(path.join(root, 'notes.exe'), 'MZ');
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(base, 'lvs-node.json'), SECRET);
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'leak.txt'));
  handler = createProtocolHandler(root);
});

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

async function get(url: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await handler(new Request(url, { method }));
  return { status: response.status, headers: response.headers, body: await response.text() };
}

describe('serving', () => {
  it.each([
    ['lvs://app/', 'text/html; charset=utf-8'],
    ['lvs://app/index.html', 'text/html; charset=utf-8'],
    ['lvs://app/app.js', 'text/javascript; charset=utf-8'],
    ['lvs://app/app.js.map', 'application/json; charset=utf-8'],
    ['lvs://app/style.css', 'text/css; charset=utf-8'],
    ['lvs://app/img/dot.png', 'image/png'],
    ['lvs://app/app.js?v=2#x', 'text/javascript; charset=utf-8'],
  ])('serves %s as %s with the CSP header', async (url, type) => {
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('uses exactly the strict policy', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get('lvs://app/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await get('lvs://app/index.html', 'POST');
    expect(post.status).toBe(405);
  });

  it('refuses other hosts, missing files, directories and unknown file types, still with the CSP header', async () => {
    for (const [url, status] of [
      ['lvs://evil/index.html', 404],
      ['lvs://app/missing.js', 404],
      ['lvs://app/img', 404],
      ['lvs://app/img/', 404],
      ['lvs://app/notes.exe', 404],
    ] as const) {
      const res = await get(url);
      expect(res.status, url).toBe(status);
      expect(res.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
    }
  });
});

describe('path traversal', () => {
  it.each([
    'lvs://app/../secret.txt',
    'lvs://app/%2e%2e/secret.txt',
    'lvs://app/..%2fsecret.txt',
    'lvs://app/img/..%2f..%2fsecret.txt',
    'lvs://app/..%2Flvs-node.json',
    'lvs://app/..%5csecret.txt',
    'lvs://app/%2e%2e%5csecret.txt',
    'lvs://app/secret.txt%00.js',
    `lvs://app/${encodeURIComponent(path.join(base, 'secret.txt'))}`,
    'lvs://app/leak.txt',
    'lvs://app/%E0%A4%A',
  ])('never serves anything outside the renderer dir for %s', async (url) => {
    const res = await get(url);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain(SECRET);
  });

  it('refuses raw ".." segments even where a URL parser would have folded them', () => {
    expect(resolveRendererFile(root, '/../secret.txt')).toMatchObject({ ok: false, status: 403 });
    expect(resolveRendererFile(root, '/img/../../secret.txt')).toMatchObject({ ok: false, status: 403 });
    expect(resolveRendererFile(root, '/..%2f..%2fetc/passwd')).toMatchObject({ ok: false, status: 403 });
    expect(resolveRendererFile(root, '/a\\..\\..\\secret.txt')).toMatchObject({ ok: false, status: 403 });
    expect(resolveRendererFile(root, '/')).toEqual({ ok: true, file: path.join(root, 'index.html') });
    expect(resolveRendererFile(root, '/img/dot.png')).toEqual({ ok: true, file: path.join(root, 'img', 'dot.png') });
  });

  it('refuses a symlink that points out of the renderer dir (403)', async () => {
    const res = await get('lvs://app/leak.txt');
    expect(res.status).toBe(403);
    expect(res.body).not.toContain(SECRET);
  });
});

describe('isAppUrl', () => {
  it('accepts our page only', () => {
    expect(isAppUrl(APP_URL)).toBe(true);
    expect(isAppUrl('lvs://app/')).toBe(true);
    for (const url of ['lvs://other/index.html', 'https://app/index.html', 'file:///index.html', 'lvs://user:pw@app/', '', null, 'not a url']) {
      expect(isAppUrl(url), String(url)).toBe(false);
    }
  });
});
