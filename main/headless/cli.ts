#!/usr/bin/env node
/**
 * `npm run node`: the headless node. User errors are one line and exit 2
 * (among them a data dir held by another running node, named by its pid);
 * SIGINT/SIGTERM say bye, save and exit 0 within SHUTDOWN_DEADLINE_MS;
 * SIGHUP re-reads the settings from the store file (`systemctl --user
 * reload lvs-node`) and applies what can be applied without a restart.
 */
import { readFileSync } from 'node:fs';
import { SHUTDOWN_DEADLINE_MS, SIGNAL_ECHO_MS } from '../model/limits.js';
import { ListenError } from '../server/http-server.js';
import { DataDirLockError } from '../store/data-dir-lock.js';
import { CredentialError } from '../server/ui-credential.js';
import { StoreError } from '../store/store.js';
import { HELP, parseCli, UsageError } from './cli-args.js';
import { IDENTITY_HELP, parseIdentityCli } from './identity-args.js';
import { exportIdentity, IdentityError, importIdentity } from './identity-command.js';
import { runNode, type RunningNode } from './run-node.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string, code: number): never {
  process.stderr.write(`lvs-node: ${message}\n`);
  process.exit(code);
}

/** `lvs-node identity export|import FILE`: runs to completion, prints one line, never starts a node. */
function identityMain(argv: readonly string[]): void {
  try {
    const command = parseIdentityCli(argv);
    if (command.kind === 'help') return void process.stdout.write(IDENTITY_HELP);
    const line = command.kind === 'export' ? exportIdentity(command.options) : importIdentity(command.options);
    process.stdout.write(`${line}\n`);
  } catch (err) {
    if (err instanceof UsageError) fail(`${err.message} (see identity --help)`, 2);
    if (err instanceof IdentityError) fail(err.message, 2);
    throw err;
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'identity') return identityMain(process.argv.slice(3));
  let command;
  try {
    command = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) fail(`${err.message} (see --help)`, 2);
    throw err;
  }
  if (command.kind === 'help') return void process.stdout.write(HELP);
  if (command.kind === 'version') return void process.stdout.write(`lvs-node ${version()}\n`);

  let running: RunningNode;
  try {
    running = await runNode(command.options, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    if (err instanceof ListenError || err instanceof StoreError || err instanceof DataDirLockError || err instanceof CredentialError) fail(err.message, 2);
    throw err;
  }

  let firstSignalAt = 0;
  const shutdown = (signal: string) => {
    // With node-datachannel loaded, one kill has been seen to reach this handler
    // twice within a millisecond: only a signal sent well after the first forces the exit.
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 500) return;
      running.store.close();
      fail(`second ${signal}: state saved, exiting now`, 130);
    }
    firstSignalAt = Date.now();
    // If a peer or the native library hangs, still save and leave on time.
    const deadline = setTimeout(() => {
      running.store.close();
      process.stderr.write(`lvs-node: shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; state saved, exiting\n`);
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS - 200);
    deadline.unref();
    void running.stop('shutdown').then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  let lastReloadAt = -Infinity;
  process.on('SIGHUP', () => {
    const now = performance.now();
    if (firstSignalAt !== 0 || now - lastReloadAt < SIGNAL_ECHO_MS) return;
    lastReloadAt = now;
    running.reloadSettings();
  });
}

process.on('uncaughtException', (err) => {
  // A bug, not a user error: keep the stack, it is what a bug report needs.
  process.stderr.write(`lvs-node: internal error: ${err.stack ?? err.message}\n`);
  process.exit(1);
});

void main();
