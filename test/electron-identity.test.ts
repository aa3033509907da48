/**
 * The desktop app's identity backup (main/electron/identity-dialogs.ts)
 * with `electron` replaced at its import: the dialogs are fakes that answer
 * what a user would; the stores, backup files and locks are real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  save: null as null | { canceled: boolean; filePath?: string },
  open: null as null | { canceled: boolean; filePaths: string[] },
  confirm: 0,
  errors: [] as string[],
  asked: [] as string[],
}));

vi.mock('electron', () => {
  const electron = {
    app: { getPath: () => os.tmpdir() },
    dialog: {
      showSaveDialog: async () => (fake.asked.push('save'), fake.save!),
      showOpenDialog: async () => (fake.asked.push('open'), fake.open!),
      showMessageBox: async () => (fake.asked.push('confirm'), { response: fake.confirm }),
      showErrorBox: (_title: string, text: string) => fake.errors.push(text),
    },
  };
  return { ...electron, default: electron };
});

import { identityDialogs } from '../main/electron/identity-dialogs.js';
import { encodeIdentityBackup, decodeIdentityBackup } from '../main/identity/backup.js';
import { createIdentity } from '../main/identity/identity.js';
import { importIdentity } from '../main/headless/identity-command.js';

let root: string;
let dataDir: string;
let nodeId: string;
const events: string[] = [];

function deps() {
  return {
    dataDir,
    nodeId: () => nodeId,
    window: () => null,
    stopNode: async () => void events.push('stopped'),
    relaunch: () => void events.push('relaunched'),
  };
}

function storedId(): string {
  return (JSON.parse(fs.readFileSync(path.join(dataDir, 'lvs-node.json'), 'utf8')) as { identity: { id: string } }).identity.id;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lvs-electron-identity-'));
  dataDir = path.join(root, 'node');
  // A data dir with a real store, as the app leaves it.
  const identity = createIdentity();
  nodeId = identity.id;
  const seed = path.join(root, 'seed.json');
  fs.writeFileSync(seed, encodeIdentityBackup(identity, null), { mode: 0o600 });
  importIdentity({ dataDir, file: seed, force: false, passphrase: null });
  events.length = 0;
  fake.errors.length = 0;
  fake.asked.length = 0;
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('Export…', () => {
  it('writes the identity where the user chose, private to the user, and says where', async () => {
    const file = path.join(root, 'backup.json');
    fake.save = { canceled: false, filePath: file };
    const result = await identityDialogs(deps())['lvs:export-identity']();
    expect(result).toEqual({ ok: true, value: { file } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const decoded = decodeIdentityBackup(fs.readFileSync(file, 'utf8'), null);
    expect(decoded.ok && decoded.identity.id).toBe(nodeId);
    expect(events).toEqual([]);
  });

  it('does nothing when the user cancels', async () => {
    fake.save = { canceled: true };
    expect(await identityDialogs(deps())['lvs:export-identity']()).toEqual({ ok: true, value: null });
    expect(fs.readdirSync(root).sort()).toEqual(['node', 'seed.json']);
  });
});

describe('Import…', () => {
  it('asks, stops the node, imports and restarts as the imported node', async () => {
    const other = createIdentity();
    const file = path.join(root, 'other.json');
    fs.writeFileSync(file, encodeIdentityBackup(other, null), { mode: 0o600 });
    fake.open = { canceled: false, filePaths: [file] };
    fake.confirm = 0;
    const result = await identityDialogs(deps())['lvs:import-identity']();
    expect(result).toEqual({ ok: true, value: { id: other.id } });
    expect(fake.asked).toEqual(['open', 'confirm']);
    expect(events).toEqual(['stopped', 'relaunched']);
    expect(storedId()).toBe(other.id);
  });

  it('changes nothing when the user says no at the confirmation', async () => {
    const file = path.join(root, 'other.json');
    fs.writeFileSync(file, encodeIdentityBackup(createIdentity(), null), { mode: 0o600 });
    fake.open = { canceled: false, filePaths: [file] };
    fake.confirm = 1;
    expect(await identityDialogs(deps())['lvs:import-identity']()).toEqual({ ok: true, value: null });
    expect(events).toEqual([]);
    expect(storedId()).toBe(nodeId);
  });

  it('a file that is no backup: one clear line, the store untouched, and the old node back', async () => {
    const file = path.join(root, 'junk.json');
    fs.writeFileSync(file, '{"hello": 1}', { mode: 0o600 });
    fake.open = { canceled: false, filePaths: [file] };
    fake.confirm = 0;
    const before = fs.readFileSync(path.join(dataDir, 'lvs-node.json'), 'utf8');
    const result = await identityDialogs(deps())['lvs:import-identity']();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/junk\.json is not a usable identity backup/);
    expect(fake.errors).toHaveLength(1);
    expect(events).toEqual(['stopped', 'relaunched']);
    expect(fs.readFileSync(path.join(dataDir, 'lvs-node.json'), 'utf8')).toBe(before);
  });

  it('opens one dialog at a time', async () => {
    let release: (v: { canceled: boolean; filePaths: string[] }) => void = () => {};
    fake.open = null;
    const dialogs = identityDialogs(deps());
    const { dialog } = await import('electron');
    const spy = vi.spyOn(dialog, 'showOpenDialog').mockImplementationOnce(() => new Promise((r) => (release = r)) as never);
    const first = dialogs['lvs:import-identity']();
    expect(await dialogs['lvs:export-identity']()).toEqual({ ok: false, error: 'an identity dialog is open already' });
    release({ canceled: true, filePaths: [] });
    expect(await first).toEqual({ ok: true, value: null });
    spy.mockRestore();
  });
});
