/**
 * One data dir, one node (main/store/data-dir-lock.ts), with real node
 * processes: a second node is refused with the holder's pid, a holder
 * killed with SIGKILL is taken over, a clean stop releases the lock. And a
 * start that fails (a port in use, an address this machine does not have)
 * changes nothing on disk.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockError, LOCK_FILE_NAME, lockDataDir, parseHolder, processStartTime, type LockHolder } from '../main/store/data-dir-lock.js';
import { DATA_DIR_LOCK_UNWRITTEN_GRACE_MS } from '../main/model/limits.js';
import { killAll, runCli, startNode, tempDir, waitFor } from './helpers/node-process.js';

const FILE = 'lvs-node.json';
const LINUX = process.platform === 'linux';

const dirs: { remove(): void }[] = [];
const servers: Server[] = [];
const cleanups: (() => void)[] = [];

function root(): string {
  const d = tempDir('lvs-lock-');
  dirs.push(d);
  return d.path;
}

afterEach(() => {
  killAll();
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const server of servers.splice(0)) server.close();
  for (const d of dirs.splice(0)) d.remove();
});

function holderOf(dir: string): LockHolder | null {
  try {
    return parseHolder(fs.readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8'));
  } catch {
    return null;
  }
}

/** A file's bytes and times, to tell that nobody wrote it. */
function fingerprint(file: string): { text: string; mtimeMs: number; ino: number } {
  const st = fs.statSync(file);
  return { text: fs.readFileSync(file, 'utf8'), mtimeMs: st.mtimeMs, ino: st.ino };
}

/** Every file under `dir` with its bytes, to compare a whole tree before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      out[path.relative(dir, file)] = fs.readFileSync(file, 'base64');
    }
  }
  return out;
}

async function portInUse(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as { port: number }).port;
}

describe('a data dir held by a running node', () => {
  it('refuses a second node with one line naming the holder pid, exit 2; the first runs on, its file untouched', async () => {
    const dataDir = path.join(root(), 'data');
    // --await-peers 1: no cycle runs alone, so the holder has no reason to write its file while we watch it.
    const first = await startNode(['--port', '0', '--data-dir', dataDir, '--await-peers', '1']);
    const file = path.join(dataDir, FILE);
    const before = fingerprint(file);
    expect(holderOf(dataDir)?.pid).toBe(first.child.pid);

    const second = await runCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--name', 'intruder', '--cycle-ms', '150']);
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(`lvs-node: the data dir ${dataDir} is in use by another node (pid ${first.child.pid}); stop it first or use --data-dir\n`);

    expect(first.child.exitCode).toBeNull();
    const status = await first.status();
    expect(status.id).toBe(first.id);
    expect(fingerprint(file)).toEqual(before);
    expect(holderOf(dataDir)?.pid).toBe(first.child.pid);
    expect(fs.readdirSync(dataDir).sort()).toEqual([FILE, LOCK_FILE_NAME]);
  }, 60_000);

  it('is taken over by the next node when the holder was killed with SIGKILL', async () => {
    const dataDir = path.join(root(), 'data');
    const first = await startNode(['--port', '0', '--data-dir', dataDir]);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // kill -9 runs no exit code: the lock file is still there, naming the dead pid.
    expect(holderOf(dataDir)?.pid).toBe(first.child.pid);

    const next = await startNode(['--port', '0', '--data-dir', dataDir]);
    expect(next.id).toBe(first.id);
    expect(holderOf(dataDir)?.pid).toBe(next.child.pid);
    expect(next.records.some((r) => r.kind === 'store' && r.msg.includes(`left by pid ${first.child.pid}, which is no longer running`))).toBe(true);
  }, 60_000);

  it('is released by a clean stop (SIGINT, exit 0)', async () => {
    const dataDir = path.join(root(), 'data');
    const node = await startNode(['--port', '0', '--data-dir', dataDir]);
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE_NAME))).toBe(true);
    node.child.kill('SIGINT');
    expect(await node.exited).toBe(0);
    expect(fs.readdirSync(dataDir)).toEqual([FILE]);
    const again = await startNode(['--port', '0', '--data-dir', dataDir]);
    expect(again.id).toBe(node.id);
    expect(again.records.some((r) => r.kind === 'store' && r.msg.includes('took over'))).toBe(false);
  }, 60_000);

  it.each([
    ['a new data dir', false],
    ['a data dir whose holder died', true],
  ])('lets exactly one of four nodes started at once on %s run; the others name its pid', async (_what, stale) => {
    const dataDir = path.join(root(), 'data');
    if (stale) {
      // The pid of a process that has exited: what a node killed with SIGKILL leaves in its lock file.
      const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      await new Promise((resolve) => gone.once('exit', resolve));
      fs.mkdirSync(dataDir);
      fs.writeFileSync(path.join(dataDir, LOCK_FILE_NAME), `${JSON.stringify({ pid: gone.pid, startTime: null, bootId: null, since: new Date().toISOString(), nonce: '0123456789abcdef' })}\n`);
    }
    const starts = await Promise.allSettled([0, 1, 2, 3].map(() => startNode(['--port', '0', '--data-dir', dataDir])));
    const running = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(running).toHaveLength(1);
    const winner = running[0]!;
    expect(holderOf(dataDir)?.pid).toBe(winner.child.pid);
    for (const s of starts) {
      if (s.status === 'rejected') expect(String(s.reason)).toContain(`node exited (2) before listening: lvs-node: the data dir ${dataDir} is in use by another node (pid ${winner.child.pid})`);
    }
  }, 60_000);

  it.runIf(LINUX)('tells a reused pid from the holder by its start time in /proc', async () => {
    // A live process that is not the holder: a lock naming it with another start time is stale.
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => sleeper.kill('SIGKILL'));
    const pid = sleeper.pid!;
    const startTime = await waitFor('the sleeper in /proc', () => {
      const t = processStartTime(pid);
      return t !== null && t !== 'gone' ? t : null;
    });
    const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const lock = (start: string) => `${JSON.stringify({ pid, startTime: start, bootId, since: new Date().toISOString(), nonce: '0123456789abcdef' })}\n`;

    const held = path.join(root(), 'held');
    fs.mkdirSync(held);
    fs.writeFileSync(path.join(held, LOCK_FILE_NAME), lock(startTime));
    const refused = await runCli(['--host', '127.0.0.1', '--port', '0', '--data-dir', held]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`in use by another node (pid ${pid})`);
    expect(fs.readdirSync(held)).toEqual([LOCK_FILE_NAME]);

    const reused = path.join(root(), 'reused');
    fs.mkdirSync(reused);
    fs.writeFileSync(path.join(reused, LOCK_FILE_NAME), lock(String(BigInt(startTime) + 1n)));
    const node = await startNode(['--port', '0', '--data-dir', reused]);
    expect(holderOf(reused)?.pid).toBe(node.child.pid);
  }, 60_000);
});

describe('lockDataDir', () => {
  it('refuses a second lock in the same process, releases only its own file, and takes over an abandoned unreadable one', () => {
    const dir = root();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockError);
    expect(() => lockDataDir(dir)).toThrow(`(pid ${process.pid})`);
    lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);

    // A release never deletes a lock that is not its own any more.
    const mine = lockDataDir(dir);
    fs.writeFileSync(mine.path, 'someone else');
    mine.release();
    expect(fs.readFileSync(mine.path, 'utf8')).toBe('someone else');

    // That unreadable file is a start caught between creating and writing it, until it is old.
    const old = (Date.now() - DATA_DIR_LOCK_UNWRITTEN_GRACE_MS - 5000) / 1000;
    fs.utimesSync(mine.path, old, old);
    const messages: string[] = [];
    const taken = lockDataDir(dir, (m) => messages.push(m));
    expect(holderOf(dir)?.pid).toBe(process.pid);
    expect(messages).toEqual([expect.stringContaining('took over an unreadable lock file')]);
    taken.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('reads only lock files of its own shape', () => {
    const good = { pid: 42, startTime: '123', bootId: 'b', since: '2025-01-01T00:00:00.000Z', nonce: '0123456789abcdef' };
    expect(parseHolder(JSON.stringify(good))).toEqual(good);
    for (const bad of [{ ...good, pid: 0 }, { ...good, pid: -1 }, { ...good, pid: 1.5 }, { ...good, pid: 2 ** 23 }, { ...good, startTime: 'x' }, { ...good, nonce: 'short' }]) {
      expect(parseHolder(JSON.stringify(bad))).toBeNull();
    }
    expect(parseHolder('')).toBeNull();
    expect(parseHolder('x'.repeat(5000))).toBeNull();
  });
});

describe('a start that fails changes nothing on disk', () => {
  const cases = [
    ['a port in use', async () => ['--host', '127.0.0.1', '--port', String(await portInUse())], /port \d+ is already in use/],
    // TEST-NET-1 (RFC 5737): no machine has it, so listening fails locally and no packet is sent.
    ['--host 192.0.2.1', async () => ['--host', '192.0.2.1', '--port', '0'], /cannot listen on 192\.0\.2\.1: no such address on this machine/],
  ] as const;

  it('192.0.2.1 is not an address of this machine (what the --host case relies on)', () => {
    const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
    expect(addresses).not.toContain('192.0.2.1');
  });

  it.each(cases)('%s: no data dir, no identity, no settings are made', async (_what, args, message) => {
    const base = root();
    const dataDir = path.join(base, 'new', 'nested', 'data');
    const { code, stdout, stderr } = await runCli([...(await args()), '--data-dir', dataDir, '--name', 'never-saved']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(fs.readdirSync(base)).toEqual([]);
  }, 30_000);

  it.each(cases)('%s: an existing data dir is byte-identical afterwards', async (_what, args, message) => {
    const dataDir = path.join(root(), 'data');
    const node = await startNode(['--port', '0', '--data-dir', dataDir, '--name', 'kept']);
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    const before = snapshot(dataDir);
    const file = fingerprint(path.join(dataDir, FILE));

    const { code, stderr } = await runCli([...(await args()), '--data-dir', dataDir, '--name', 'changed', '--cycle-ms', '150', '--max-peers', '3']);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(snapshot(dataDir)).toEqual(before);
    expect(fingerprint(path.join(dataDir, FILE))).toEqual(file);
  }, 60_000);
});
