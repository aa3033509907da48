/**
 * The desktop store: NodeStore with its conf made by the real electron-store
 * (main/electron/electron-conf.ts). It must write the same lvs-node.json as
 * the headless node, so a data dir moves between the two in both directions.
 *
 * electron-store imports the `electron` package itself (outside vitest's
 * module mocks); in plain Node that package only resolves the binary's path,
 * and would try to download the binary if it has none, so the override path
 * below keeps it from ever trying.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const saved = vi.hoisted(() => {
  const before = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  process.env.ELECTRON_OVERRIDE_DIST_PATH = '/nonexistent/electron-dist';
  return before;
});

import ElectronStore from 'electron-store';
import { createElectronConf, electronStoreOptions } from '../main/electron/electron-conf.js';
import type { StoreData } from '../main/store/schema.js';
import { NodeStore } from '../main/store/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
afterAll(() => {
  if (saved === undefined) delete process.env.ELECTRON_OVERRIDE_DIST_PATH;
  else process.env.ELECTRON_OVERRIDE_DIST_PATH = saved;
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-store-'));
  dirs.push(dir);
  return dir;
}

const quiet = { log: () => {} };

describe('electron-store as the node store', () => {
  it('maps conf options onto electron-store options (configName becomes name)', () => {
    const mapped = electronStoreOptions({ cwd: '/data', configName: 'lvs-node', projectName: 'x', projectVersion: '1.0.0', clearInvalidConfig: true });
    expect(mapped).toEqual({ cwd: '/data', name: 'lvs-node', clearInvalidConfig: true });
    expect(() => electronStoreOptions({ configName: 'lvs-node' })).toThrow(/explicit directory/);
  });

  it('passing conf options straight to electron-store would write config.json (why the mapping exists)', () => {
    const dir = tempDir();
    const naive = new ElectronStore<Record<string, unknown>>({ cwd: dir, ...({ configName: 'lvs-node' } as object) });
    expect(path.basename(naive.path)).toBe('config.json');
  });

  it('writes lvs-node.json, and the data dir moves to the headless node and back', () => {
    const dir = tempDir();
    const desktop = NodeStore.open(dir, { ...quiet, createConf: createElectronConf });
    expect(desktop.path).toBe(path.join(dir, 'lvs-node.json'));
    desktop.updateSettings({ name: 'desk', cycleMs: 150 });
    desktop.rememberPeer(desktop.identity.id.replace(/^./, 'B'), '10.0.0.2:7710', 'peer', 1000);
    desktop.setState({ drift: [1.5, -2], vu: 0.75, tc: 0.5, cycle: 42 });
    const id = desktop.identity.id;
    desktop.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['lvs-node.json']);
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'lvs-node.json'), 'utf8')) as StoreData;
    expect(Object.keys(written).sort()).toEqual(['identity', 'memory', 'peers', 'schemaVersion', 'settings', 'state']);

    const headless = NodeStore.open(dir, quiet);
    expect(headless.identity.id).toBe(id);
    expect(headless.createdIdentity).toBe(false);
    expect(headless.settings).toMatchObject({ name: 'desk', cycleMs: 150 });
    expect(headless.state).toEqual({ drift: [1.5, -2], vu: 0.75, tc: 0.5, cycle: 42 });
    expect(headless.peers).toHaveLength(1);
    headless.updateSettings({ maxPeers: 5 });
    headless.close();

    const back = NodeStore.open(dir, { ...quiet, createConf: createElectronConf });
    expect(back.identity.id).toBe(id);
    expect(back.settings).toMatchObject({ name: 'desk', cycleMs: 150, maxPeers: 5 });
    back.close();
  });

  it('opens a store the headless node created first', () => {
    const dir = tempDir();
    const headless = NodeStore.open(dir, quiet);
    const id = headless.identity.id;
    headless.close();
    const before = fs.readFileSync(path.join(dir, 'lvs-node.json'), 'utf8');
    const desktop = NodeStore.open(dir, { ...quiet, createConf: createElectronConf });
    expect(desktop.identity.id).toBe(id);
    expect(desktop.createdIdentity).toBe(false);
    desktop.close();
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'lvs-node.json'), 'utf8'))).toEqual(JSON.parse(before));
  });
});
