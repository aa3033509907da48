/**
 * The page is loaded through our own `lvs://app/` scheme rather than file://:
 * it gets a real origin (so the CSP's 'self' means something and ES modules
 * load), and the handler below is the only thing that decides which bytes the
 * renderer can see: files under dist/renderer, nothing else, never a path
 * that escapes it, always with the Content-Security-Policy header.
 *
 * The handler is plain Node (Request in, Response out); windows.ts registers it.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export const SCHEME = 'lvs';
export const APP_HOST = 'app';
/** Node's URL gives non-special schemes the origin "null", so origins are compared as protocol + host. */
export const APP_ORIGIN = `${SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** True when `url` is a page of ours: the lvs scheme on the app host. */
export function isAppUrl(url: string | null | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

export type Resolved = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Maps a URL path ("/index.html", "/app.js") to a file under `root`.
 * Chromium already folds "." and ".." segments, but the handler does not
 * rely on it: encoded separators, NUL bytes, backslashes and anything that
 * resolves outside `root` are refused here.
 */
export function resolveRendererFile(root: string, urlPath: string): Resolved {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 403, reason: 'forbidden character in path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 403, reason: 'path traversal' };
  const relative = segments.length === 0 ? 'index.html' : segments.join('/');
  const base = path.resolve(root);
  const file = path.resolve(base, relative);
  const rel = path.relative(base, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { ok: false, status: 403, reason: 'path traversal' };
  return { ok: true, file };
}

function securityHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
  };
}

function refuse(status: number, reason: string): Response {
  return new Response(`${status} ${reason}\n`, { status, headers: securityHeaders('text/plain; charset=utf-8') });
}

/** True when `file` (after following symlinks) is still inside `root`. */
async function staysInside(root: string, file: string): Promise<boolean> {
  const [realRoot, realFile] = await Promise.all([fsp.realpath(root), fsp.realpath(file)]);
  const rel = path.relative(realRoot, realFile);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The protocol.handle handler for `lvs:`: serves files from `root` (dist/renderer) only. */
export function createProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'method not allowed');
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400, 'bad URL');
    }
    if (url.protocol !== `${SCHEME}:` || url.host !== APP_HOST) return refuse(404, 'unknown host');
    const resolved = resolveRendererFile(root, url.pathname);
    if (!resolved.ok) return refuse(resolved.status, resolved.reason);
    const type = MIME_TYPES[path.extname(resolved.file).toLowerCase()];
    if (!type) return refuse(404, 'not found');
    try {
      if (!(await staysInside(root, resolved.file))) return refuse(403, 'path traversal');
      const stat = await fsp.stat(resolved.file);
      if (!stat.isFile()) return refuse(404, 'not found');
      const body = request.method === 'HEAD' ? null : await fsp.readFile(resolved.file);
      return new Response(body, { status: 200, headers: { ...securityHeaders(type), 'content-length': String(stat.size) } });
    } catch {
      return refuse(404, 'not found');
    }
  };
}
