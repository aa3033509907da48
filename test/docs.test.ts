/**
 * The documentation stands on its own: every link in README.md,
 * BENCHMARKS.md and docs/*.md points at a file of this repository (and at a
 * heading that exists, for a #fragment), nothing refers to files outside
 * it, every `npm run <script>` names a script package.json has, and the
 * docs read as docs (no scratch paths or notes about who ran what when).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DOCS = ['README.md', 'BENCHMARKS.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

function read(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

/** The text outside fenced code blocks (headings live there). */
function outsideFences(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** The text outside code blocks and inline code (links live there). */
function prose(text: string): string {
  return outsideFences(text).replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of outsideFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('the docs', () => {
  it.each(DOCS)('%s: every link resolves inside the repository', (file) => {
    const text = read(file);
    const problems: string[] = [];
    for (const link of links(text)) {
      if (/^(https?|mailto):/.test(link)) continue;
      const [target, fragment] = link.split('#') as [string, string | undefined];
      const path = target === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), decodeURIComponent(target));
      if (relative(ROOT, path).startsWith('..')) {
        problems.push(`${link}: outside the repository`);
        continue;
      }
      if (!existsSync(path)) {
        problems.push(`${link}: no such file`);
        continue;
      }
      if (fragment && path.endsWith('.md') && !anchors(readFileSync(path, 'utf8')).has(fragment)) {
        problems.push(`${link}: no heading #${fragment} in ${relative(ROOT, path)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(DOCS)('%s: every `npm run` names a script of package.json', (file) => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = [...read(file).matchAll(/npm run (?:-s )?([a-z][\w-]*(?::[\w-]+)*)/g)].map((m) => m[1]!);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it.each(DOCS)('%s: reads as documentation, not as a lab notebook', (file) => {
    const text = read(file);
    for (const phrase of [/\/tmp\//, /not committed/i, /throwaway/i, /this session/i, /\.\.\/shared\b/]) {
      expect(text, `${file} contains ${phrase}`).not.toMatch(phrase);
    }
  });

  it('the checks can fail: a dead link, a foreign path and a missing heading are caught', () => {
    expect(links('see [x](../shared/DESIGN.md) and [y](docs/nope.md#a) `[z](in/code.md)`')).toEqual(['../shared/DESIGN.md', 'docs/nope.md#a']);
    expect(anchors('# A title\n## 5. Convergence on a graph\n## ICE servers (STUN/TURN)\n### `identity`\n## A title\n```\n# not a heading\n```')).toEqual(
      new Set(['a-title', '5-convergence-on-a-graph', 'ice-servers-stunturn', 'identity', 'a-title-1']),
    );
  });
});

describe('the repository', () => {
  it('depends on no file outside it (the original design notes were carried into docs/)', () => {
    const skip = new Set(['node_modules', 'dist', 'release', '.git', 'scratch']);
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        // This file names the forbidden paths to look for them.
        if (skip.has(name) || path === import.meta.filename) continue;
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(md|ts|mts|mjs|js|json|ya?ml|html|css|service|sh)$/.test(name) || name === 'run') {
          if (/\.\.\/shared\/|shared\/DESIGN\.md|shared\/seed\//.test(readFileSync(path, 'utf8'))) offenders.push(relative(ROOT, path));
        }
      }
    };
    walk(ROOT);
    expect(offenders).toEqual([]);
  });
});
