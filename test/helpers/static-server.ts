/**
 * A plain static file server on 127.0.0.1, as a project page or
 * `python3 -m http.server` would serve a folder: files by path under a
 * prefix (a sub-path such as /lvs-node/demo/), index.html for a folder, 404
 * for anything else, no special headers. It counts what it served, so a
 * test can check that a page asked for nothing outside its folder.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface StaticServer {
  /** http://127.0.0.1:<port><prefix> */
  readonly url: string;
  /** Every request path, in order, with its status. */
  readonly requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/** Serves `root` under `prefix` (starting and ending with "/"). */
export async function serveFolder(root: string, prefix = '/'): Promise<StaticServer> {
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void => {
      requests.push({ path, status });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
      if (!path.startsWith(prefix)) return send(404, 'not found');
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice(prefix.length));
      } catch {
        return send(400, 'bad path');
      }
      let file = normalize(join(root, rel));
      if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return send(404, 'not found');
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
      } catch {
        send(404, 'not found');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps idle connections open; close() alone would wait for them.
        server.closeAllConnections();
      }),
  };
}
