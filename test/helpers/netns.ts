/**
 * A small LAN made of Linux network namespaces (iproute2), for tests of LAN
 * discovery on real network stacks: every host is a namespace with its own
 * interface `eth0`, plugged by a veth pair into a bridge ("switch") that
 * lives in a namespace of its own, so nothing is added to the host's own
 * network: no address, no bridge, no route. Hosts only reach each other;
 * nothing they send can leave the namespaces.
 *
 * Every name carries a per-run suffix; teardown() kills every process
 * started here and deletes every namespace created (which removes their
 * bridges and veths), tolerating a setup that stopped half-way. It also
 * runs on process exit if a test forgot it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Whether this process can build namespaces, and if not why (one line). */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root to create network namespaces (ip netns); run as root or in CI' };
  const probe = `lvs-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return { ok: false, reason: `iproute2 \`ip\` is not available: ${add.error.message}` };
  if (add.status !== 0) return { ok: false, reason: `\`ip netns add\` failed: ${(add.stderr || '').trim().split('\n')[0]}` };
  spawnSync('ip', ['netns', 'del', probe]);
  return { ok: true };
}

export interface NsProcess {
  child: ChildProcess;
  /** Lines of JSON the process logged (others as {kind: 'text'}). */
  records: Record<string, unknown>[];
  stderr(): string;
  exited: Promise<number | string>;
}

export interface HostSpec {
  /** Short name, also the switch port name (<= 12 characters). */
  name: string;
  switch: string;
  /** "10.231.0.11/24" */
  cidr: string;
  /** Extra routes: destination CIDR via gateway. */
  routes?: { to: string; via: string }[];
}

function run(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

export class Lan {
  readonly suffix = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<ChildProcess>();
  private readonly switches = new Set<string>();
  private readonly hostNs = new Map<string, string>();
  private readonly probers = new Map<string, Prober>();
  private readonly scratch: string[] = [];
  private readonly onExit = () => this.teardownSync();
  private torn = false;

  constructor() {
    process.once('exit', this.onExit);
  }

  /** Full namespace name of `short`. */
  ns(short: string): string {
    return `lvs-${short}-${this.suffix}`;
  }

  private addNamespace(short: string): string {
    const name = this.ns(short);
    run(['netns', 'add', name]);
    this.namespaces.push(name);
    run(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A bridge named `name` in the switch namespace (made on first use), multicast flooded to every port. */
  addSwitch(name: string): void {
    const sw = this.ns('sw');
    if (!this.namespaces.includes(sw)) this.addNamespace('sw');
    run(['-n', sw, 'link', 'add', 'name', name, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    run(['-n', sw, 'link', 'set', 'dev', name, 'multicast', 'on', 'up']);
    this.switches.add(name);
  }

  /** Plugs namespace `nsName` into switch `sw` through a veth pair: `port` on the switch side, `ifname` inside. */
  private plug(nsName: string, sw: string, port: string, ifname: string, cidr: string): void {
    const swNs = this.ns('sw');
    run(['-n', swNs, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', nsName]);
    run(['-n', swNs, 'link', 'set', 'dev', port, 'master', sw, 'multicast', 'on', 'up']);
    run(['-n', nsName, 'addr', 'add', cidr, 'dev', ifname]);
    run(['-n', nsName, 'link', 'set', 'dev', ifname, 'multicast', 'on', 'up']);
  }

  addHost(spec: HostSpec): string {
    if (!this.switches.has(spec.switch)) throw new Error(`no switch ${spec.switch}`);
    const name = this.addNamespace(spec.name);
    this.hostNs.set(spec.name, name);
    this.plug(name, spec.switch, spec.name, 'eth0', spec.cidr);
    for (const r of spec.routes ?? []) run(['-n', name, 'route', 'add', r.to, 'via', r.via]);
    return name;
  }

  /** A router namespace with one leg on each switch, forwarding unicast between them (and no multicast routing). */
  addRouter(name: string, legs: { switch: string; cidr: string }[]): string {
    const ns = this.addNamespace(name);
    legs.forEach((leg, i) => this.plug(ns, leg.switch, `${name}${i}`, `eth${i}`, leg.cidr));
    execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    return ns;
  }

  /**
   * A host with nothing but loopback: processes inside reach each other on
   * 127.0.0.1 and nothing else (browser nodes' WebRTC runs in one of these).
   */
  addLoopbackHost(name: string, options: { stub?: string } = {}): string {
    const ns = this.addNamespace(name);
    this.hostNs.set(name, ns);
    if (options.stub) {
      // An interface that goes nowhere, with an address and the default route: a browser
      // gathers ICE candidates only on an interface that has a route (it never does on
      // loopback alone), and whatever it sends there ends inside this namespace.
      // (A veth pair with both ends inside: not every kernel has the dummy driver.)
      run(['-n', ns, 'link', 'add', 'stub0', 'type', 'veth', 'peer', 'name', 'stub1']);
      run(['-n', ns, 'addr', 'add', options.stub, 'dev', 'stub0']);
      run(['-n', ns, 'link', 'set', 'dev', 'stub1', 'up']);
      run(['-n', ns, 'link', 'set', 'dev', 'stub0', 'up']);
      run(['-n', ns, 'route', 'add', 'default', 'dev', 'stub0']);
    }
    return ns;
  }

  /**
   * A path to use as a browser's executablePath so that it runs inside
   * `host`: a script that enters the namespace and execs `browser`. Playwright
   * talks to the browser over a pipe, which crosses namespaces.
   */
  browserIn(host: string, browser: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-browser-'));
    this.scratch.push(dir);
    const script = join(dir, 'browser');
    writeFileSync(script, `#!/bin/sh\nexec ip netns exec ${this.nsOf(host)} ${browser} "$@"\n`);
    chmodSync(script, 0o755);
    return script;
  }

  /** Takes a host's switch port down or up (its cable pulled or plugged back). */
  setCable(host: string, up: boolean): void {
    run(['-n', this.ns('sw'), 'link', 'set', 'dev', host, up ? 'up' : 'down']);
  }

  private nsOf(host: string): string {
    const ns = this.hostNs.get(host);
    if (!ns) throw new Error(`no host ${host}`);
    return ns;
  }

  /** Starts `command args` inside `host`'s namespace, reading its stdout as JSON lines. */
  spawn(host: string, command: string, args: string[]): NsProcess {
    const child = spawn('ip', ['netns', 'exec', this.nsOf(host), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.add(child);
    const records: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 100_000) stderr += d.toString();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        records.push({ kind: 'text', msg: line });
      }
    });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    return { child, records, stderr: () => stderr, exited };
  }

  /**
   * GET http://127.0.0.1:<port><path> from inside `host` (the status API
   * answers loopback only), through one long-lived helper process per host.
   */
  async fetchJson<T>(host: string, port: number, path: string): Promise<T> {
    let prober = this.probers.get(host);
    if (!prober) {
      prober = new Prober(this.spawnRaw(host));
      this.probers.set(host, prober);
    }
    return prober.get<T>(`http://127.0.0.1:${port}${path}`);
  }

  private spawnRaw(host: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.nsOf(host), process.execPath, '-e', PROBER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.processes.add(child);
    return child;
  }

  /** Stops every process (TERM, then KILL), then deletes every namespace. Safe to call twice. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    const alive = [...this.processes].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              c.kill('SIGKILL');
              resolve();
            }, 3000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    this.teardownSync();
  }

  /** Kills every process and deletes every namespace at once (synchronous; for a setup that failed). */
  teardownNow(): void {
    this.teardownSync();
  }

  private teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    process.off('exit', this.onExit);
    for (const c of this.processes) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.processes.clear();
    for (const ns of [...this.namespaces].reverse()) {
      // Anything still running inside (started by a child) goes too, or the namespace would outlive its name.
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    this.namespaces.length = 0;
    for (const dir of this.scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  /** Namespaces this LAN still holds (empty after teardown). */
  remaining(): string[] {
    const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    return listed
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.endsWith(`-${this.suffix}`));
  }
}

/** Reads one URL per stdin line, answers one JSON line: {ok, body} or {ok: false, error}. */
const PROBER_SCRIPT = `
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', async (url) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await res.json();
    process.stdout.write(JSON.stringify({ ok: true, body }) + '\\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message || err) }) + '\\n');
  }
});
rl.on('close', () => process.exit(0));
`;

class Prober {
  private readonly waiting: ((line: string) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.waiting.shift()?.(line));
    child.once('exit', () => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ ok: false, error: 'prober exited' }));
    });
  }

  /** One request at a time, in order. */
  get<T>(url: string): Promise<T> {
    const next = this.chain.then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error('prober exited'));
          this.waiting.push((line) => {
            const msg = JSON.parse(line) as { ok: boolean; body?: T; error?: string };
            if (msg.ok) resolve(msg.body as T);
            else reject(new Error(msg.error ?? 'fetch failed'));
          });
          this.child.stdin!.write(`${url}\n`);
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }
}
