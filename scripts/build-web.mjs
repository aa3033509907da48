#!/usr/bin/env node
// Builds the public demo (docs/web-demo.md) as plain files: index.html, one
// bundled ES module (demo.js: the page, the drift model and the simulator)
// and style.css, linked by relative URLs only, so the folder works from any
// static host and any sub-path. `npm run build:web` type-checks first (tsc -b).
//
//   node scripts/build-web.mjs [--out DIR]     default: out/web
//
// A relative DIR is taken from where npm (or node) was started. The folder
// must be absent, empty or an earlier build: other files in it are never
// overwritten or removed. Nothing is written unless the bundle built.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'web/demo');
const DEFAULT_OUT = join(ROOT, 'out/web');
/** Every file a build writes; a folder holding only these is an earlier build. */
const WEB_FILES = ['index.html', 'demo.js', 'style.css'];
const USAGE = 'usage: node scripts/build-web.mjs [--out DIR]   (npm run build:web -- --out DIR)';

class UserError extends Error {}

function parseArgs(argv) {
  let out = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    let value;
    if (arg === '--out') {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UserError('--out needs a folder');
    } else if (arg.startsWith('--out=')) {
      value = arg.slice('--out='.length);
    } else {
      throw new UserError(`unknown argument "${arg}"; ${USAGE}`);
    }
    if (value === '') throw new UserError('--out needs a folder');
    if (out !== null) throw new UserError('--out given twice');
    out = value;
  }
  const base = process.env.INIT_CWD ?? process.cwd();
  return { help: false, out: out === null ? DEFAULT_OUT : resolve(base, out) };
}

function checkOutDir(out) {
  // The checkout itself, or a folder that contains it.
  if (!relative(out, ROOT).startsWith('..')) {
    throw new UserError(`refusing to write into ${out}: it holds the repository`);
  }
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UserError(`${out} exists and is not a folder`);
  const others = readdirSync(out).filter((name) => !WEB_FILES.includes(name));
  if (others.length > 0) {
    const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? `, and ${others.length - 3} more` : '');
    throw new UserError(`refusing to write into ${out}: it holds other files (${shown}); give an empty or new folder with --out`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  checkOutDir(args.out);
  const result = await build({
    entryPoints: [join(SOURCE, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years (ES2022: class fields, top-level await); no polyfills needed.
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map([
    ['index.html', readFileSync(join(SOURCE, 'index.html'))],
    ['demo.js', Buffer.from(result.outputFiles[0].contents)],
    ['style.css', readFileSync(join(SOURCE, 'style.css'))],
  ]);
  mkdirSync(args.out, { recursive: true });
  for (const [name, contents] of files) writeFileSync(join(args.out, name), contents);
  const sizes = [...files].map(([name, contents]) => `${name} ${(contents.length / 1024).toFixed(1)} KiB`).join(', ');
  const shown = relative(process.env.INIT_CWD ?? process.cwd(), args.out);
  console.log(`web demo: ${shown === '' ? '.' : shown.startsWith('..') ? args.out : shown} (${sizes})`);
}

main().catch((err) => {
  if (err instanceof UserError) {
    console.error(`build-web: ${err.message}`);
    process.exit(2);
  }
  // esbuild's errors carry the file and line of each problem; print those, not a stack.
  const messages = Array.isArray(err?.errors) && err.errors.length > 0
    ? err.errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('; ')
    : String(err?.message ?? err);
  console.error(`build-web: the bundle did not build: ${messages}`);
  process.exit(1);
});
