/**
 * Tests and benchmarks leave the checkout as it was: a run writes to out/
 * (ignored by git), and only an explicit `--write` (bench, soak) or
 * `npm run screenshot` updates the committed figures. Checked on the writers
 * themselves (bench/output.mjs, test/helpers/artifacts.ts) and against git;
 * no benchmark is run here.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BENCHMARKS_MD,
  BenchOutput,
  COMMITTED_BENCH_FILES,
  COMMITTED_SOAK_RESULTS,
  GENERATED_END,
  GENERATED_START,
  OUT_DIR,
  SOAK_RESULTS,
  spliceGenerated,
} from '../bench/output.mjs';
import { COMMITTED_SCREENSHOT, ROOT, SCRATCH_SCREENSHOT, screenshotPath, WRITE_SCREENSHOT_ENV } from './helpers/artifacts.js';

function git(...args: string[]) {
  return spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
}
const inGit = git('rev-parse', '--is-inside-work-tree').stdout.trim() === 'true';
if (!inGit) console.warn('committed-files: not a git checkout, the checks against git are skipped');

/** git check-ignore: true when git would not track the path. */
function ignored(path: string): boolean {
  return git('check-ignore', '-q', '--no-index', path).status === 0;
}
function tracked(path: string): boolean {
  return git('ls-files', '--error-unmatch', path).status === 0;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A scratch "checkout" holding a copy of BENCHMARKS.md. */
function scratchRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvs-committed-'));
  temps.push(dir);
  cpSync(join(ROOT, BENCHMARKS_MD), join(dir, BENCHMARKS_MD));
  return dir;
}

const committedBench = Object.values(COMMITTED_BENCH_FILES);

describe.skipIf(!inGit)('git', () => {
  it('ignores out/, where runs write, and tracks every figure --write updates', () => {
    for (const path of [SCRATCH_SCREENSHOT, SOAK_RESULTS, ...Object.keys(COMMITTED_BENCH_FILES).map((name) => `${OUT_DIR}/bench/${name}`)]) {
      expect(ignored(path), `${path} is ignored`).toBe(true);
    }
    for (const path of [COMMITTED_SCREENSHOT, COMMITTED_SOAK_RESULTS, BENCHMARKS_MD, ...committedBench]) {
      expect(tracked(path), `${path} is tracked`).toBe(true);
      expect(ignored(path), `${path} is not ignored`).toBe(false);
    }
  });
});

describe('the dashboard screenshot', () => {
  it('goes to out/ on a test run, and to docs/dashboard.png only for npm run screenshot', () => {
    expect(screenshotPath({})).toBe(join(ROOT, OUT_DIR, 'dashboard.png'));
    expect(screenshotPath({ [WRITE_SCREENSHOT_ENV]: '0' })).toBe(join(ROOT, OUT_DIR, 'dashboard.png'));
    expect(screenshotPath({ [WRITE_SCREENSHOT_ENV]: '1' })).toBe(join(ROOT, COMMITTED_SCREENSHOT));
    // The npm script sets the variable and picks the test that takes the picture, by a name that exists.
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.screenshot as string;
    expect(script).toContain(`${WRITE_SCREENSHOT_ENV}=1 `);
    const name = /-t "([^"]+)"/.exec(script)?.[1];
    expect(name).toBeDefined();
    const browserTest = readFileSync(join(ROOT, 'test/dashboard-browser.test.ts'), 'utf8');
    expect(browserTest).toContain(name);
    expect(browserTest).toContain('page.screenshot({ path: picture })');
    expect(browserTest).toContain('const picture = screenshotPath();');
  });
});

describe('bench output (bench/output.mjs)', () => {
  const texts = Object.fromEntries(Object.keys(COMMITTED_BENCH_FILES).map((name) => [name, `${name} of this run\n`]));
  const resultsMd = 'Run: quick, a test.\n\n| row | measurement |\n| --- | --- |\n| 1 | a row |\n';

  it('without --write puts every output in out/bench/ and touches nothing else', () => {
    const root = scratchRoot();
    const before = readFileSync(join(root, BENCHMARKS_MD), 'utf8');
    const output = new BenchOutput({ root });
    output.checkBenchmarksMd();
    for (const [name, text] of Object.entries(texts)) output.file(name, text);
    output.benchmarksMd(resultsMd);
    const expected = Object.keys(COMMITTED_BENCH_FILES).map((name) => join(OUT_DIR, 'bench', name)).sort();
    expect([...output.written].sort()).toEqual(expected);
    expect(filesUnder(root)).toEqual([BENCHMARKS_MD, ...expected].sort());
    expect(readFileSync(join(root, BENCHMARKS_MD), 'utf8')).toBe(before);
    for (const [name, text] of Object.entries(texts)) expect(readFileSync(join(root, OUT_DIR, 'bench', name), 'utf8')).toBe(text);
  });

  it('with --write also updates the committed files, and BENCHMARKS.md only between its markers', () => {
    const root = scratchRoot();
    const before = readFileSync(join(root, BENCHMARKS_MD), 'utf8');
    const output = new BenchOutput({ root, write: true });
    output.checkBenchmarksMd();
    for (const [name, text] of Object.entries(texts)) output.file(name, text);
    output.benchmarksMd(resultsMd);
    for (const [name, committed] of Object.entries(COMMITTED_BENCH_FILES)) {
      expect(readFileSync(join(root, committed), 'utf8')).toBe(texts[name]);
      expect(readFileSync(join(root, OUT_DIR, 'bench', name), 'utf8')).toBe(texts[name]);
    }
    expect(output.written).toContain(BENCHMARKS_MD);
    const after = readFileSync(join(root, BENCHMARKS_MD), 'utf8');
    const start = before.indexOf(GENERATED_START) + GENERATED_START.length;
    expect(after.slice(0, start)).toBe(before.slice(0, start));
    expect(after.slice(after.indexOf(GENERATED_END))).toBe(before.slice(before.indexOf(GENERATED_END)));
    expect(after.slice(start, after.indexOf(GENERATED_END))).toBe(`\n\n${resultsMd}\n`);
    // Writing the same results again changes nothing: the markers survive a write.
    expect(spliceGenerated(after, resultsMd)).toBe(after);
  });

  it('refuses --write with one line, before writing anything, when BENCHMARKS.md lost its markers', () => {
    const root = scratchRoot();
    const text = readFileSync(join(root, BENCHMARKS_MD), 'utf8');
    for (const broken of [text.replace(GENERATED_START, ''), text.replace(GENERATED_END, ''), `${text}\n${GENERATED_START}\n`, 'no markers at all\n']) {
      expect(() => spliceGenerated(broken, resultsMd)).toThrow(/^BENCHMARKS\.md needs exactly one .* line followed by one .* line$/);
    }
    const swapped = text.replace(GENERATED_START, '\u0000').replace(GENERATED_END, GENERATED_START).replace('\u0000', GENERATED_END);
    expect(() => spliceGenerated(swapped, resultsMd)).toThrow(/needs exactly one/);
    // The bench checks at start, so a broken file costs no run.
    cpSync(join(ROOT, 'package.json'), join(root, BENCHMARKS_MD));
    expect(() => new BenchOutput({ root, write: true }).checkBenchmarksMd()).toThrow(/needs exactly one/);
    expect(() => new BenchOutput({ root }).checkBenchmarksMd()).not.toThrow();
    expect(filesUnder(root)).toEqual([BENCHMARKS_MD]);
  });

  it('the committed BENCHMARKS.md has its generated section, holding bench/results.md', () => {
    const text = readFileSync(join(ROOT, BENCHMARKS_MD), 'utf8');
    expect(spliceGenerated(text, readFileSync(join(ROOT, 'bench/results.md'), 'utf8'))).toBe(text);
  });
});

describe('the bench and soak entry points', () => {
  it('npm run bench says where it writes and what --write does; a wrong flag is one line and exit 2', () => {
    const help = spawnSync(process.execPath, ['bench/run.mjs', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(`${OUT_DIR}/bench/`);
    expect(help.stdout).toContain('--write');
    const wrong = spawnSync(process.execPath, ['bench/run.mjs', '--wrtie'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^bench: .*--wrtie/);
  });

  it('the soak writes out/soak-results.json unless told --write (or --out)', () => {
    const help = spawnSync(process.execPath, ['bench/soak.mjs', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(`default ${SOAK_RESULTS}`);
    expect(help.stdout).toMatch(new RegExp(`--write .*${COMMITTED_SOAK_RESULTS.replace('.', '\\.')}`));
  });
});
