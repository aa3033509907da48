/**
 * SIGHUP on the real headless CLI (a child process): the settings are read
 * again from lvs-node.json, what applies live is applied (seen through
 * /api/status), one log line says what changed and what waits for a
 * restart, an invalid file changes nothing, and the node's own writes never
 * lose an edit that waits for its SIGHUP.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGNAL_ECHO_MS } from '../main/model/limits.js';
import { killAll, startNode, tempDir, waitFor, type LogRecord, type NodeProcess } from './helpers/node-process.js';

const dirs: { remove(): void }[] = [];
afterEach(() => {
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

function storeFile(dir: string): string {
  return join(dir, 'lvs-node.json');
}

/** Changes settings fields only, the way a user with an editor would. */
function editSettings(dir: string, change: Record<string, unknown>): void {
  const data = JSON.parse(readFileSync(storeFile(dir), 'utf8')) as { settings: Record<string, unknown> };
  Object.assign(data.settings, change);
  writeFileSync(storeFile(dir), JSON.stringify(data, null, '\t'));
}

async function nextReload(node: NodeProcess, seen: number): Promise<LogRecord> {
  return waitFor('a reload log line', () => node.records.filter((r) => r.kind === 'reload')[seen]);
}

/** Resolves once the file has been written again after `since` (the node writes about once a second while it cycles). */
async function nextWrite(dir: string, since: number): Promise<void> {
  await waitFor('the node to write its file again', () => statSync(storeFile(dir)).mtimeMs > since);
}

/**
 * Edits the settings right after one of the node's writes. The node writes at most once per
 * STORE_WRITE_INTERVAL_MS, so the edit cannot land while the node is writing (an edit made
 * between the node's check for edits and its rename would be lost, as with any editor).
 */
async function editBetweenWrites(dir: string, change: Record<string, unknown>): Promise<void> {
  await nextWrite(dir, statSync(storeFile(dir)).mtimeMs);
  editSettings(dir, change);
}

describe('SIGHUP reloads the settings', () => {
  it('applies edited live settings, names those that need a restart, and keeps running', async () => {
    const dir = tempDir('lvs-hup-');
    dirs.push(dir);
    const node = await startNode(['--port', '0', '--data-dir', dir.path, '--name', 'before']);
    await waitFor('cycles', async () => (await node.status()).cycle >= 5);

    await editBetweenWrites(dir.path, { cycleMs: 150, alpha: 0.07, maxPeers: 3, name: 'after', port: 7799, iceServers: ['stun:stun.example.org:3478'] });
    // The node writes its state about once a second meanwhile: the edit must still be there for the SIGHUP,
    // after the write that noticed it and after the one after that.
    await waitFor('the node to notice the edit', () => node.records.some((r) => r.kind === 'store' && /was edited \(.*cycleMs.*\).*SIGHUP/.test(r.msg)));
    await nextWrite(dir.path, statSync(storeFile(dir.path)).mtimeMs);
    expect(JSON.parse(readFileSync(storeFile(dir.path), 'utf8')).settings).toMatchObject({ cycleMs: 150, maxPeers: 3, port: 7799 });
    expect((await node.status()).config.cycleMs).toBe(100);

    node.child.kill('SIGHUP');
    const reload = await nextReload(node, 0);
    expect(reload).toMatchObject({
      level: 'info',
      changed: ['port', 'cycleMs', 'alpha', 'maxPeers', 'name', 'iceServers'],
      applied: ['cycleMs', 'alpha', 'maxPeers', 'name'],
      restartRequired: ['port', 'iceServers'],
    });
    expect(reload.msg).toMatch(/^settings reloaded from .*lvs-node\.json: applied cycleMs, alpha, maxPeers, name; port, iceServers saved, applied at the next start \(restart needed\)$/);
    const status = await node.status();
    expect(status.config).toMatchObject({ cycleMs: 150, alpha: 0.07, maxPeers: 3 });
    expect(status.name).toBe('after');
    expect(node.child.exitCode).toBeNull();

    // Nothing new: one line saying so. (A signal within SIGNAL_ECHO_MS of the last one is taken for an echo.)
    await sleep(SIGNAL_ECHO_MS + 100);
    expect(node.records.filter((r) => r.kind === 'reload')).toHaveLength(1);
    node.child.kill('SIGHUP');
    expect((await nextReload(node, 1)).msg).toMatch(/nothing changed$/);

    // An invalid edit: one error line, the running settings stay, the node keeps going and puts a valid file back.
    await sleep(SIGNAL_ECHO_MS + 100);
    await editBetweenWrites(dir.path, { beta: 0.9, cycleMs: 60 });
    node.child.kill('SIGHUP');
    const refused = await nextReload(node, 2);
    const problem = /lvs-node\.json: settings: beta must be a number from 0 to 0\.5 \(got 0\.9\)/;
    if (refused.level === 'error') {
      expect(refused.msg).toMatch(/^settings not reloaded: .*; the running settings stay$/);
      expect(refused.msg).toMatch(problem);
      expect(refused.msg).not.toContain('\n');
    } else {
      // The node's own write came between the edit and the signal (it writes about once a second):
      // then that write reported the invalid edit, in one line, and the reload found nothing new.
      expect(refused.msg).toMatch(/nothing changed$/);
      const warned = node.records.filter((r) => r.kind === 'store' && r.level === 'warn');
      expect(warned).toHaveLength(1);
      expect(warned[0]!.msg).toMatch(problem);
      expect(warned[0]!.msg).toMatch(/the running settings stay/);
    }
    expect((await node.status()).config).toMatchObject({ cycleMs: 150, beta: 0.1 });
    await waitFor('a valid file again', () => JSON.parse(readFileSync(storeFile(dir.path), 'utf8')).settings.beta === 0.1);
    const cycle = (await node.status()).cycle;
    await waitFor('still cycling', async () => (await node.status()).cycle > cycle + 3);

    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    expect(node.stderr()).toBe('');
  }, 120_000);
});
