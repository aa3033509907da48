/**
 * Flags of the headless node, parsed with node:util and validated into
 * RunOptions. Every mistake becomes one UsageError line (exit code 2).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { MAX_COORDINATE } from '../model/limits.js';
import { parseSignalAddress } from '../transport/signaling.js';
import { checkIceServer, checkOrigin, parseUdpPorts, UDP_PORTS_FORM, validateSettingsPatch, type Settings } from '../store/schema.js';

export class UsageError extends Error {}

export interface RunOptions {
  dataDir: string;
  host: string;
  peers: string[];
  /** Settings given on the command line; they override and are saved to the store. */
  settings: Partial<Settings>;
  /** Starting drift for a node that has no saved state yet. */
  drift: [number, number] | null;
  seed: number | null;
  awaitPeers: number;
  logFormat: 'text' | 'json';
  logCycles: boolean;
  uiPublic: boolean;
  /** --ui-password-file: with --ui-public, the password is in this file instead of the generated access token. */
  uiPasswordFile?: string | null;
  /** --no-discovery: no mDNS announcing or browsing this run, whatever the saved `discovery` setting says. */
  noDiscovery?: boolean;
  /** Private network passphrase (--network-key-file or LVS_NETWORK_KEY); null: an open LAN. Never saved, never logged. */
  networkKey?: string | null;
  /** --weights: peer weighting of the drift pull, 'wmsr' (robust, default), 'seed' or 'metropolis'. */
  weights?: 'wmsr' | 'seed' | 'metropolis';
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: RunOptions };

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'lvs-node');
}

export const HELP = `Usage: lvs-node [options]
       lvs-node identity export|import FILE [options]   (back up or restore the node's identity; identity --help)

Runs one LVS drift node without a window: it links to its peers over WebRTC,
runs the drift cycle, logs one line a second, and serves its dashboard on
http://127.0.0.1:PORT/ and its status on /api/status (loopback clients only).

Options:
  --port N            TCP port for signaling and the status API (default 7710; 0 = any free port)
  --host ADDR         address to listen on and to gather ICE candidates from (default 0.0.0.0 = all)
  --data-dir DIR      where identity, state, peers and settings are kept (default ~/.config/lvs-node)
  --peer HOST:PORT    a peer to link to and keep linked (repeat for several)
  --name NAME         name shown to peers (default: host name and the id's first characters, e.g. myhost-ABCD)
  --drift X,Y         starting drift, used only when the data dir has no saved state (e.g. --drift -2,-3)
  --cycle-ms N        drift cycle period, 50-200 ms (default 100)
  --alpha A           entropy weight (default 0.05)
  --beta B            peer pull weight (default 0.1)
  --gamma G           gravity toward the origin (default 0.001)
  --max-peers N       most links kept open (default 8); beyond it random links are dropped politely
  --ice-server URL    a STUN or TURN server, stun:HOST:PORT or turn:USER:PASSWORD@HOST:PORT
                      (repeat for several, at most 4; default none: host candidates only, enough on a LAN)
  --udp-ports A-B     UDP ports WebRTC may use, one per link (e.g. 50000-50100, to open in a firewall;
                      default any port the system gives; "" clears a saved range)
  --no-discovery      do not announce this node or look for peers on the LAN (mDNS) this run
  --network-key-file F  a private network: only nodes that know the passphrase in file F (its
                      first line, at least 8 characters) may link; also env LVS_NETWORK_KEY.
                      Default none: any node on the LAN that proves its id may link
  --seed N            draw entropy from a seeded PRNG instead of the OS (reproducible runs)
  --await-peers N     hold the drift cycle until N peers are linked (default 0)
  --weights W         peer weighting: wmsr (default: drops the F most extreme peers on each side,
                      so a few liars cannot steer the node), seed (plain beta * mean) or
                      metropolis (1/(1+max(d_i,d_j)))
  --log-format F      text or json (one JSON object per line) (default text)
  --log-cycles        log every cycle, not just one line a second
  --ui-public         also serve the status API and the dashboard to clients not on loopback; they
                      need the access token the node makes and keeps in DATA-DIR/ui-token
  --ui-password-file FILE
                      with --ui-public: ask for the password in FILE (mode 0600, one line, 12+ characters)
  --allow-origin ORIGIN
                      let web pages of ORIGIN (http://host:port) open /signal (repeat for several)
  -h, --help          show this help
  -v, --version       show the version

Settings given here are saved in the data dir and used on the next start,
once the node has started: a start that fails changes nothing on disk.
One data dir holds one running node: a second node on it exits with code 2,
naming the pid that holds it (lvs-node.lock in the data dir).
SIGHUP (systemctl --user reload lvs-node) re-reads the settings from
lvs-node.json in the data dir: name, cycle, alpha/beta/gamma and max peers
apply at once; port, discovery, ICE servers and UDP ports at the next start.
LAN discovery (DNS-SD over mDNS, service _lvs._tcp, on every interface) is on
unless --no-discovery is given or the saved discovery setting is false.
`;

function number(flag: string, raw: string | undefined, opts: { integer?: boolean } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value))) {
    throw new UsageError(`--${flag} needs ${opts.integer ? 'a whole number' : 'a number'}, got "${raw}"`);
  }
  return value;
}

function parseDrift(raw: string | undefined): [number, number] | null {
  if (raw === undefined) return null;
  const parts = raw.split(',');
  const values = parts.map((p) => Number(p));
  if (parts.length !== 2 || parts.some((p) => p.trim() === '') || !values.every(Number.isFinite)) {
    throw new UsageError(`--drift needs two numbers as X,Y (e.g. 5,1), got "${raw}"`);
  }
  if (values.some((v) => Math.abs(v) > MAX_COORDINATE)) throw new UsageError(`--drift coordinates must be within ±${MAX_COORDINATE}`);
  return [values[0]!, values[1]!];
}

/** Shortest network passphrase accepted: it is all that keeps strangers out of a private network. */
export const MIN_NETWORK_KEY_LENGTH = 8;

/** The private network passphrase: the file's first line, else LVS_NETWORK_KEY, else none. */
function readNetworkKey(file: string | undefined, env: NodeJS.ProcessEnv): string | null {
  let key: string | undefined;
  if (file !== undefined) {
    try {
      const mode = statSync(file).mode;
      // Like an ssh key: a passphrase other users can read keeps nobody out.
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        throw new UsageError(`--network-key-file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`);
      }
      key = readFileSync(file, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--network-key-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  } else if (env.LVS_NETWORK_KEY !== undefined) {
    key = env.LVS_NETWORK_KEY;
  }
  if (key === undefined) return null;
  if (key.length < MIN_NETWORK_KEY_LENGTH) throw new UsageError(`the network key must be at least ${MIN_NETWORK_KEY_LENGTH} characters (${file !== undefined ? `--network-key-file ${file}` : 'LVS_NETWORK_KEY'})`);
  return key;
}

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  peer: { type: 'string', multiple: true },
  name: { type: 'string' },
  drift: { type: 'string' },
  'cycle-ms': { type: 'string' },
  alpha: { type: 'string' },
  beta: { type: 'string' },
  gamma: { type: 'string' },
  'max-peers': { type: 'string' },
  'ice-server': { type: 'string', multiple: true },
  'udp-ports': { type: 'string' },
  seed: { type: 'string' },
  'await-peers': { type: 'string' },
  weights: { type: 'string' },
  'log-format': { type: 'string' },
  'log-cycles': { type: 'boolean' },
  'ui-public': { type: 'boolean' },
  'ui-password-file': { type: 'string' },
  'allow-origin': { type: 'string', multiple: true },
  'no-discovery': { type: 'boolean' },
  'network-key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** A value that starts with a dash and is still a number (or a list of them): -2, -0.5, -.5, -2,-3, -1e3. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * node:util reads `--drift -2,-3` as a flag missing its value followed by
 * an unknown flag; a negative number after an option that takes a value is
 * that option's value, so it is joined to it (`--drift=-2,-3`) first.
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    const takesValue = name !== null && Object.hasOwn(OPTIONS, name) && OPTIONS[name as keyof typeof OPTIONS].type === 'string';
    if (takesValue && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), strict: true, allowPositionals: false, options: OPTIONS });
  } catch (err) {
    // node:util spreads some messages over lines; a user error is one line.
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };

  const host = v.host ?? '0.0.0.0';
  if (isIP(host) === 0 && host !== 'localhost') throw new UsageError(`--host needs an IP address of this machine (e.g. 127.0.0.1 or 0.0.0.0), got "${host}"`);

  const peers = (v.peer ?? []).map((raw) => {
    const result = parseSignalAddress(raw);
    if (!result.ok) throw new UsageError(`--peer "${raw}": ${result.detail}`);
    return result.value.address;
  });

  const patch: Record<string, unknown> = {};
  const port = number('port', v.port, { integer: true });
  if (port !== undefined) patch.port = port;
  const cycleMs = number('cycle-ms', v['cycle-ms'], { integer: true });
  if (cycleMs !== undefined) patch.cycleMs = cycleMs;
  for (const key of ['alpha', 'beta', 'gamma'] as const) {
    const value = number(key, v[key]);
    if (value !== undefined) patch[key] = value;
  }
  const maxPeers = number('max-peers', v['max-peers'], { integer: true });
  if (maxPeers !== undefined) patch.maxPeers = maxPeers;
  if (v.name !== undefined) patch.name = v.name;
  if (v['ice-server'] !== undefined) {
    for (const url of v['ice-server']) {
      const problem = checkIceServer(url);
      if (problem) throw new UsageError(`--ice-server: ${problem}`);
    }
    patch.iceServers = v['ice-server'];
  }
  if (v['udp-ports'] !== undefined) {
    if (parseUdpPorts(v['udp-ports']) === undefined) throw new UsageError(`--udp-ports needs ${UDP_PORTS_FORM}, got "${v['udp-ports']}"`);
    patch.udpPorts = v['udp-ports'];
  }
  if (v['allow-origin'] !== undefined) {
    for (const origin of v['allow-origin']) {
      const problem = checkOrigin(origin);
      if (problem) throw new UsageError(`--allow-origin: ${problem}`);
    }
    patch.allowedOrigins = v['allow-origin'];
  }
  const checked = validateSettingsPatch(patch);
  if (!checked.ok) throw new UsageError(checked.error);

  const seed = number('seed', v.seed, { integer: true }) ?? null;
  const awaitPeers = number('await-peers', v['await-peers'], { integer: true }) ?? 0;
  if (awaitPeers < 0 || awaitPeers > 1000) throw new UsageError('--await-peers must be between 0 and 1000');
  const weights = v.weights ?? 'wmsr';
  if (weights !== 'wmsr' && weights !== 'seed' && weights !== 'metropolis') throw new UsageError(`--weights must be wmsr, seed or metropolis, got "${weights}"`);
  const networkKey = readNetworkKey(v['network-key-file'], env);
  if (v['ui-password-file'] !== undefined && !v['ui-public']) throw new UsageError('--ui-password-file needs --ui-public (loopback clients need no password)');
  const logFormat = v['log-format'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format must be text or json, got "${logFormat}"`);

  return {
    kind: 'run',
    options: {
      dataDir: v['data-dir'] ?? defaultDataDir(env),
      host,
      peers,
      settings: checked.settings,
      drift: parseDrift(v.drift),
      seed,
      awaitPeers,
      logFormat,
      logCycles: v['log-cycles'] ?? false,
      uiPublic: v['ui-public'] ?? false,
      uiPasswordFile: v['ui-password-file'] ?? null,
      noDiscovery: v['no-discovery'] ?? false,
      weights,
      networkKey,
    },
  };
}
