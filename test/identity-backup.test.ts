/**
 * Identity backup (issue 12): `lvs-node identity export FILE` and
 * `identity import FILE`, with real files and real CLI processes. Every user
 * error is one line and exit code 2, and leaves the disk as it was; a node
 * started on an imported data dir runs as the exported node.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeIdentityBackup, encodeIdentityBackup, IDENTITY_BACKUP_FORMAT } from '../main/identity/backup.js';
import { createIdentity } from '../main/identity/identity.js';
import { parseIdentityCli, PASSPHRASE_ENV } from '../main/headless/identity-args.js';
import { UsageError } from '../main/headless/cli-args.js';
import { NodeStore } from '../main/store/store.js';
import { CLI, killAll, requireBuild, startNode, tempDir } from './helpers/node-process.js';

const dirs: { remove(): void }[] = [];
function scratch(): string {
  const d = tempDir('lvs-identity-');
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  killAll();
  for (const d of dirs.splice(0)) d.remove();
});

const PASSPHRASE = 'correct horse battery staple';

/** A data dir holding a node's store, as a first start leaves it. */
function nodeDir(parent: string, name: string): { dir: string; id: string } {
  const dir = path.join(parent, name);
  const store = NodeStore.open(dir, { log: () => {} });
  const id = store.identity.id;
  store.close();
  return { dir, id };
}

/** Every file under `dir` with its mode and content: what "the disk as it was" compares. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const st = fs.statSync(full);
    out[path.relative(dir, full)] = entry.isFile() ? `${(st.mode & 0o777).toString(8)} ${fs.readFileSync(full, 'utf8')}` : `dir ${(st.mode & 0o777).toString(8)}`;
  }
  return out;
}

function identityCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolveRun, reject) => {
    const childEnv = { ...process.env, ...env };
    if (!(PASSPHRASE_ENV in env)) delete childEnv[PASSPHRASE_ENV];
    const child = spawn(process.execPath, [CLI, 'identity', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lvs-node identity ${args.join(' ')} did not exit within 30 s`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A user error: exit 2, exactly one line on stderr matching `message`, nothing on stdout, no stack. */
function expectUserError(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.stderr, result.stderr).toMatch(message);
  expect(result.code).toBe(2);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^lvs-node: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe('');
}

function passphraseFile(dir: string, text: string, mode = 0o600): string {
  const file = path.join(dir, `passphrase-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, `${text}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

describe('the backup file format', () => {
  it('round-trips an identity in clear and sealed, and names what is wrong with a bad file', () => {
    const identity = createIdentity();
    const clear = encodeIdentityBackup(identity, null);
    expect(JSON.parse(clear)).toMatchObject({ format: IDENTITY_BACKUP_FORMAT, version: 1, id: identity.id, identity });
    expect(decodeIdentityBackup(clear, null)).toEqual({ ok: true, identity, encrypted: false });

    const sealed = encodeIdentityBackup(identity, PASSPHRASE);
    expect(sealed).not.toContain(identity.privateKey);
    expect(JSON.parse(sealed)).toMatchObject({ id: identity.id, encrypted: { kdf: 'scrypt', cipher: 'aes-256-gcm' } });
    expect(decodeIdentityBackup(sealed, PASSPHRASE)).toEqual({ ok: true, identity, encrypted: true });
    expect(decodeIdentityBackup(sealed, null)).toMatchObject({ ok: false, needsPassphrase: true });
    expect(decodeIdentityBackup(sealed, 'another passphrase')).toMatchObject({ ok: false, problem: /passphrase is wrong/ });

    // The id in clear is bound to the sealed key: relabelling the file breaks it.
    const relabelled = JSON.parse(sealed) as { id: string };
    relabelled.id = createIdentity().id;
    expect(decodeIdentityBackup(JSON.stringify(relabelled), PASSPHRASE)).toMatchObject({ ok: false, problem: /passphrase is wrong|altered/ });
    // A key pair that does not belong together is refused like the store refuses it.
    const other = createIdentity();
    const mixed = JSON.parse(clear) as { identity: { privateKey: string } };
    mixed.identity.privateKey = other.privateKey;
    expect(decodeIdentityBackup(JSON.stringify(mixed), null)).toMatchObject({ ok: false, problem: /keys do not match/ });
    // A hostile file cannot make us spend a gigabyte on scrypt.
    const greedy = JSON.parse(sealed) as { encrypted: { N: number } };
    greedy.encrypted.N = 2 ** 24;
    expect(decodeIdentityBackup(JSON.stringify(greedy), PASSPHRASE)).toMatchObject({ ok: false, problem: /MiB/ });
    expect(decodeIdentityBackup('{"format":"lvs-node-identity","version":2}', null)).toMatchObject({ ok: false, problem: /version 2.*upgrade/ });
    expect(decodeIdentityBackup('{"schemaVersion":3}', null)).toMatchObject({ ok: false, problem: /format/ });
    expect(decodeIdentityBackup('not json', null)).toMatchObject({ ok: false, problem: /not JSON/ });
  });

  it('parses the subcommand and refuses what it cannot use in one line', () => {
    expect(parseIdentityCli(['export', 'f.json', '--data-dir', 'd', '--force'], {})).toEqual({
      kind: 'export',
      options: { file: 'f.json', dataDir: 'd', force: true, passphrase: null },
    });
    expect(parseIdentityCli(['import', 'f.json'], { [PASSPHRASE_ENV]: PASSPHRASE, XDG_CONFIG_HOME: '/x' })).toEqual({
      kind: 'import',
      options: { file: 'f.json', dataDir: '/x/lvs-node', force: false, passphrase: PASSPHRASE },
    });
    expect(parseIdentityCli(['--help'], {})).toEqual({ kind: 'help' });
    for (const [argv, message] of [
      [[], /needs export or import/],
      [['copy', 'f'], /unknown action "copy"/],
      [['export'], /needs a FILE/],
      [['import', 'a', 'b'], /one FILE/],
      [['export', 'f', '--port', '1'], /--port/],
    ] as const) {
      expect(() => parseIdentityCli(argv, {}), argv.join(' ')).toThrow(UsageError);
      expect(() => parseIdentityCli(argv, {}), argv.join(' ')).toThrow(message);
    }
    expect(() => parseIdentityCli(['export', 'f'], { [PASSPHRASE_ENV]: 'short' })).toThrow(/at least 8 characters/);
  });
});

describe('lvs-node identity export / import', () => {
  it('moves a node to another data dir: the node started there is the exported node', async () => {
    const root = scratch();
    const a = nodeDir(root, 'a');
    const file = path.join(root, 'backup.json');
    const exported = await identityCli(['export', file, '--data-dir', a.dir]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`exported the identity ${a.id}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const target = path.join(root, 'new-machine', 'lvs-node');
    const imported = await identityCli(['import', file, '--data-dir', target]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported the identity ${a.id}`);
    expect(fs.statSync(path.join(target, 'lvs-node.json')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(target)).toEqual(['lvs-node.json']);

    const node = await startNode(['--port', '0', '--data-dir', target]);
    expect(node.id).toBe(a.id);
    expect((await node.status()).id).toBe(a.id);
    // No salvage, no new identity: the imported store is a store the node reads as it is.
    expect(node.records.some((r) => /unreadable|IDENTITY COULD NOT/.test(r.msg))).toBe(false);
  });

  it('seals the file with a passphrase from a file or the environment, and needs it back', async () => {
    const root = scratch();
    const a = nodeDir(root, 'a');
    const file = path.join(root, 'sealed.json');
    const secret = passphraseFile(root, PASSPHRASE);
    const exported = await identityCli(['export', file, '--data-dir', a.dir, '--passphrase-file', secret]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('sealed with the passphrase');
    const identity = JSON.parse(fs.readFileSync(path.join(a.dir, 'lvs-node.json'), 'utf8')).identity as { privateKey: string };
    expect(fs.readFileSync(file, 'utf8')).not.toContain(identity.privateKey);

    const target = path.join(root, 'b');
    expectUserError(await identityCli(['import', file, '--data-dir', target]), /sealed\.json is encrypted: give its passphrase with --passphrase-file F or LVS_IDENTITY_PASSPHRASE$/m);
    expectUserError(await identityCli(['import', file, '--data-dir', target], { [PASSPHRASE_ENV]: 'not the passphrase' }), /the passphrase is wrong/);
    expect(fs.existsSync(target)).toBe(false);
    const imported = await identityCli(['import', file, '--data-dir', target], { [PASSPHRASE_ENV]: PASSPHRASE });
    expect(imported.code).toBe(0);
    const store = NodeStore.open(target, { log: () => {} });
    expect(store.identity.id).toBe(a.id);
    expect(store.createdIdentity).toBe(false);
    store.close();
  });

  it('refuses to overwrite a file or to replace another identity without --force, and keeps what it replaces', async () => {
    const root = scratch();
    const a = nodeDir(root, 'a');
    const b = nodeDir(root, 'b');
    const file = path.join(root, 'backup.json');
    fs.writeFileSync(file, 'something else');
    expectUserError(await identityCli(['export', file, '--data-dir', a.dir]), /backup\.json exists: add --force to overwrite it$/m);
    expect(fs.readFileSync(file, 'utf8')).toBe('something else');
    expect((await identityCli(['export', file, '--data-dir', a.dir, '--force'])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ id: a.id });

    const storeB = NodeStore.open(b.dir, { log: () => {} });
    storeB.setState({ drift: [3, 4], vu: 0.5, tc: 0.5, cycle: 99 });
    storeB.updateSettings({ name: 'kept-name', maxPeers: 5 });
    storeB.close();
    const before = snapshot(b.dir);
    const refused = await identityCli(['import', file, '--data-dir', b.dir]);
    expectUserError(refused, new RegExp(`holds another identity, ${b.id}; importing would replace it with ${a.id}: add --force`));
    expect(snapshot(b.dir)).toEqual(before);

    const replaced = await identityCli(['import', file, '--data-dir', b.dir, '--force']);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain(`replacing the identity ${b.id}`);
    const kept = fs.readdirSync(b.dir).find((name) => name.startsWith('lvs-node.json.replaced-'))!;
    expect(kept).toBeDefined();
    expect(fs.statSync(path.join(b.dir, kept)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(path.join(b.dir, kept), 'utf8')).identity.id).toBe(b.id);
    const store = NodeStore.open(b.dir, { log: () => {} });
    expect(store.identity.id).toBe(a.id);
    // The settings and peer book are the machine's; the state was the other node's and starts over.
    expect(store.settings).toMatchObject({ name: 'kept-name', maxPeers: 5 });
    expect(store.state.cycle).toBe(0);
    store.close();

    const again = await identityCli(['import', file, '--data-dir', b.dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already holds the identity ${a.id}; nothing changed`);
  });

  it('refuses a data dir held by a running node, naming its pid, and exports from it', async () => {
    const root = scratch();
    const a = nodeDir(root, 'a');
    const b = nodeDir(root, 'b');
    const file = path.join(root, 'backup.json');
    const node = await startNode(['--port', '0', '--data-dir', b.dir]);
    expect((await identityCli(['export', file, '--data-dir', a.dir])).code).toBe(0);
    const refused = await identityCli(['import', file, '--data-dir', b.dir, '--force']);
    expectUserError(refused, new RegExp(`the data dir .* is in use by a running node \\(pid ${node.child.pid}\\): stop it first`));
    // Export reads a running node's store (its identity never changes while it runs).
    const fromRunning = path.join(root, 'running.json');
    expect((await identityCli(['export', fromRunning, '--data-dir', b.dir])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(fromRunning, 'utf8')).id).toBe(b.id);
  });

  it('says in one line what is wrong with a file, a passphrase file or a data dir, and changes nothing', async () => {
    const root = scratch();
    const a = nodeDir(root, 'a');
    const good = path.join(root, 'good.json');
    expect((await identityCli(['export', good, '--data-dir', a.dir])).code).toBe(0);
    const target = path.join(root, 'target');

    const open = path.join(root, 'open.json');
    fs.copyFileSync(good, open);
    fs.chmodSync(open, 0o644);
    const notJson = path.join(root, 'not.json');
    fs.writeFileSync(notJson, '{ nope', { mode: 0o600 });
    const store = path.join(root, 'a', 'lvs-node.json');
    const tampered = path.join(root, 'tampered.json');
    const t = JSON.parse(fs.readFileSync(good, 'utf8')) as { identity: { publicKey: string } };
    t.identity.publicKey = createIdentity().publicKey;
    fs.writeFileSync(tampered, JSON.stringify(t), { mode: 0o600 });
    const loose = passphraseFile(root, PASSPHRASE, 0o644);
    const short = passphraseFile(root, 'short');

    const cases: [string[], RegExp][] = [
      [['import', path.join(root, 'missing.json'), '--data-dir', target], /cannot read .*missing\.json: no such file or directory$/m],
      [['import', open, '--data-dir', target], /open\.json can be read by other users \(mode 644\) and is not encrypted: chmod 600 /],
      [['import', notJson, '--data-dir', target], /not\.json is not a usable identity backup: it is not JSON$/m],
      [['import', store, '--data-dir', target], /is not a usable identity backup: it has no "format": "lvs-node-identity"$/m],
      [['import', tampered, '--data-dir', target], /tampered\.json is not a usable identity backup: (its keys do not match|it is labelled)/],
      [['import', root, '--data-dir', target], /is a directory, not an identity backup$/m],
      [['import', good, '--data-dir', target, '--passphrase-file', loose], /--passphrase-file .* can be read by other users \(mode 644\): chmod 600/],
      [['import', good, '--data-dir', target, '--passphrase-file', short], /the passphrase must be at least 8 characters/],
      [['import', good, '--data-dir', target, '--passphrase-file', path.join(root, 'nope')], /--passphrase-file .*nope: no such file \(see identity --help\)$/m],
      [['export', path.join(root, 'x.json'), '--data-dir', target], /there is no node in .*target \(no lvs-node\.json\): nothing to export/],
      [['export', path.join(root, 'no', 'such', 'dir', 'x.json'), '--data-dir', a.dir], /cannot write .*x\.json: no such directory .*dir$/m],
      [['import', good, '--data-dir', path.join(store, 'sub')], /cannot use data directory .*: a part of the path is not a directory$/m],
      [['export', 'x.json', '--data-dir', a.dir, '--bogus'], /Unknown option '--bogus'.*\(see identity --help\)$/m],
    ];
    const before = snapshot(root);
    for (const [args, message] of cases) expectUserError(await identityCli(args), message);
    expect(snapshot(root)).toEqual(before);

    // A store that is not valid is not overwritten unless --force (which sets it aside).
    fs.mkdirSync(target, { mode: 0o700 });
    fs.writeFileSync(path.join(target, 'lvs-node.json'), '{"schemaVersion": 3, "broken": true}', { mode: 0o600 });
    expectUserError(await identityCli(['import', good, '--data-dir', target]), /is not a valid store .*: start the node once to repair it, or add --force/);
    fs.writeFileSync(path.join(target, 'lvs-node.json'), '{"schemaVersion": 99}', { mode: 0o600 });
    expectUserError(await identityCli(['import', good, '--data-dir', target, '--force']), /written by a newer LVS Node .*nothing was imported$/m);
    expect(fs.readdirSync(target)).toEqual(['lvs-node.json']);
  });
});
