/**
 * The optional STUN/TURN setting: the forms the settings accept are exactly
 * what WebRtcTransport takes and what libdatachannel itself parses (a
 * PeerConnection is made with each and closed at once: no candidate is
 * gathered, nothing is sent), and the CLI flag feeds the same check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../main/headless/cli-args.js';
import { redactIceServer } from '../main/headless/run-node.js';
import { authFor, testIds } from './helpers/identities.js';
import { MAX_ICE_SERVERS } from '../main/model/limits.js';
import { checkIceServer, DEFAULT_SETTINGS } from '../main/store/schema.js';
import { acquireNative, type NativeLease } from '../main/transport/native.js';
import { WebRtcTransport } from '../main/transport/webrtc.js';

const [ID] = testIds(1) as [string];

const VALID = [
  'stun:stun.example.org:3478',
  'stun:stun.example.org',
  'stun:192.168.1.1:3478',
  'turn:alice:s3cret@turn.example.org:3478',
  'turn:alice:pa%40ss%3Aword@10.0.0.1:3478?transport=udp',
  'turns:alice:s3cret@turn.example.org:5349?transport=tcp',
];

const INVALID = [
  'bogus',
  'stuns:stun.example.org:5349', // libdatachannel: "Unknown ICE server protocol: stuns"
  'stun:',
  'stun:host:0',
  'stun:host:65536',
  'stun:a b:3478',
  'http://stun.example.org:3478',
  'turn:turn.example.org:3478', // TURN needs credentials
  'turn:alice@turn.example.org:3478',
  'turn:alice:s3cret@[::1]:3478', // libdatachannel reads no IPv6 literal here
  'turn:alice:s3cret@turn.example.org:3478?transport=sctp',
  ` stun:stun.example.org:3478`,
  `stun:${'a'.repeat(600)}.example:3478`,
];

let lease: NativeLease | null = null;
afterEach(async () => {
  await lease?.release();
  lease = null;
});

describe('ICE servers', () => {
  it('are none by default: host candidates only', () => {
    expect(DEFAULT_SETTINGS.iceServers).toEqual([]);
  });

  it.each(VALID)('accepts %s in the settings, in WebRtcTransport and in libdatachannel', async (url) => {
    expect(checkIceServer(url)).toBeNull();
    const transport = new WebRtcTransport({ localId: ID, auth: authFor(ID), bindAddress: '127.0.0.1', iceServers: [url] });
    await transport.shutdown();
    lease = acquireNative();
    const peer = lease.createPeer('ice-check', { iceServers: [url], bindAddress: '127.0.0.1' }, () => {});
    peer.close();
  });

  it.each(INVALID.map((url) => [url.length > 60 ? `${url.slice(0, 30)}... (${url.length} characters)` : JSON.stringify(url), url]))('refuses %s in the settings and in WebRtcTransport', (_label, url) => {
    expect(checkIceServer(url)).toMatch(/is not "stun:host:port" or "turn:user:password@host:port"|at most \d+ characters/);
    expect(() => new WebRtcTransport({ localId: ID, auth: authFor(ID), iceServers: [url] })).toThrow(TypeError);
  });

  it('never logs a TURN password', () => {
    expect(redactIceServer('turn:alice:s3cret@turn.example.org:3478')).toBe('turn:alice:***@turn.example.org:3478');
    expect(redactIceServer('turns:alice:pa%40ss@h.example:5349?transport=tcp')).toBe('turns:alice:***@h.example:5349?transport=tcp');
    expect(redactIceServer('stun:stun.example.org:3478')).toBe('stun:stun.example.org:3478');
  });

  it('--ice-server is repeatable and saved as the iceServers setting', () => {
    const cmd = parseCli(['--ice-server', 'stun:stun.example.org:3478', '--ice-server', 'turn:u:p@turn.example.org:3478']);
    expect(cmd).toMatchObject({ kind: 'run', options: { settings: { iceServers: ['stun:stun.example.org:3478', 'turn:u:p@turn.example.org:3478'] } } });
    expect(parseCli([])).toMatchObject({ kind: 'run', options: { settings: {} } });
  });

  it.each([
    [['--ice-server', 'stun.example.org:3478'], /--ice-server: "stun.example.org:3478" is not "stun:host:port"/],
    [['--ice-server', 'turn:turn.example.org:3478'], /TURN needs user and password/],
    [Array.from({ length: MAX_ICE_SERVERS + 1 }, (_, i) => ['--ice-server', `stun:s${i}.example.org:3478`]).flat(), /iceServers must be a list of at most 4/],
  ])('--ice-server %j is a usage error', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});
