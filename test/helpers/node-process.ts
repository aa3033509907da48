/**
 * Runs the real headless node (dist/main/headless/cli.js, built by `tsc -b`
 * before vitest in `npm test`) as a child process on loopback and reads it
 * through its JSON log lines and its status API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { DashboardStatus } from '../../main/bridge/api.js';

export const CLI = resolve(import.meta.dirname, '../../dist/main/headless/cli.js');

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -b\` (npm test does it first)`);
}

export interface LogRecord {
  kind: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  id: string;
  records: LogRecord[];
  stderr: () => string;
  status(): Promise<StatusBody>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

export type StatusBody = DashboardStatus;

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const running = new Set<ChildProcess>();

/** Kills every node a test started; call from afterEach so failures leave nothing behind. */
export function killAll(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

/**
 * Starts a node on loopback with LAN discovery off (--no-discovery): nothing
 * a test starts on the host multicasts on its interfaces (only the LAN
 * harness, inside its own network namespaces, runs discovery).
 */
export async function startNode(args: string[], timeoutMs = 20_000): Promise<NodeProcess> {
  requireBuild();
  const child = spawn(process.execPath, [CLI, '--host', '127.0.0.1', '--no-discovery', '--log-format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const records: LogRecord[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? -1)));
  const listening = new Promise<LogRecord>((resolveListen, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    void exited.then((code) => reject(new Error(`node exited (${code}) before listening: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as LogRecord;
        records.push(record);
        if (record.kind === 'listening') {
          clearTimeout(timer);
          resolveListen(record);
        }
      } catch {
        records.push({ kind: 'text', level: 'info', msg: line });
      }
    });
  });
  const first = await listening;
  const port = first.port as number;
  return {
    child,
    port,
    id: first.id as string,
    records,
    stderr: () => stderr,
    exited,
    status: async () => (await fetch(`http://127.0.0.1:${port}/api/status`)).json() as Promise<StatusBody>,
  };
}

/** Polls `check` until it returns a truthy value or the generous timeout passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Runs the CLI to completion (for flags that exit at once). */
export function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolveRun, reject) => {
    // --no-discovery first: should the flags start a node after all, it does not multicast on the host.
    const child = spawn(process.execPath, [CLI, '--no-discovery', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lvs-node ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
