// Where a dial's time goes: a 20-node full mesh in one process (bench/cluster.mjs, as row 4), dialled
// one link at a time, with each step of every dial timestamped on both ends; prints the median time
// of each step from the start of the dial's signaling session, dialer (D) and acceptor (A)
// interleaved, with how many dials had the step. A dial set up again after a failed try
// (retrySetup) counts from its last try's session.
//
//   npm run -s build && node bench/dial-timeline.mjs [--nodes 20]
//
// The steps are WebRtcTransport's own handlers, observed by wrapping them on the prototype: a step
// whose handler was renamed stops the run with its name, rather than leaving a silent gap. Writes
// nothing; all traffic stays on 127.0.0.1.
import { parseArgs } from 'node:util';
import { WebRtcTransport } from '../dist/main/transport/webrtc.js';
import { Cluster } from './cluster.mjs';
import { percentile } from './lib.mjs';

/** Handler -> step name; each step is stamped once per session, the first time its handler runs (onIceState: with 'connected'). */
const STEPS = {
  startSession: 'signaling session',
  sendHello: 'hello sent',
  onHello: 'hello received',
  createPeer: 'PeerConnection made',
  onLocalDescription: 'own description ready',
  sendLocalDescription: 'description sent',
  onOffer: 'offer received',
  onAnswer: 'answer received',
  remoteDescriptionReady: 'remote description applied',
  onIceState: 'ICE connected',
  onChannelOpen: 'DataChannel open',
  sendAuth: 'own proof sent',
  onFrameBeforeProof: "peer's proof received",
  onProven: 'peer proven, link open',
};

let values;
try {
  ({ values } = parseArgs({ options: { nodes: { type: 'string', default: '20' } } }));
} catch (err) {
  console.error(`dial-timeline: ${err.message}`);
  process.exit(2);
}
const n = Number(values.nodes);
if (!Number.isInteger(n) || n < 2 || n > 40) {
  console.error('dial-timeline: --nodes must be an integer from 2 to 40');
  process.exit(2);
}

const proto = WebRtcTransport.prototype;
const sessions = new Set();
for (const [handler, step] of Object.entries(STEPS)) {
  const original = proto[handler];
  if (typeof original !== 'function') {
    console.error(`dial-timeline: WebRtcTransport has no handler ${handler} any more; update STEPS`);
    process.exit(1);
  }
  proto[handler] = function (session, ...rest) {
    const stamp = handler !== 'onIceState' || rest[0] === 'connected' || rest[0] === 'completed';
    if (stamp && session && typeof session === 'object' && 'role' in session) {
      session.stamps ??= new Map();
      if (!session.stamps.has(step)) session.stamps.set(step, performance.now());
      sessions.add(session);
    }
    return original.call(this, session, ...rest);
  };
}

const cluster = await new Cluster().start({ n, params: { alpha: 0.05, beta: 0.1, gamma: 0.001 }, cycleMs: 100, instrument: false });
const edges = [];
for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) edges.push([a, b]);
await cluster.link(edges, 1, 5);
await cluster.stop();

// The two ends of one dial share the dialer's signaling nonce.
const acceptors = new Map([...sessions].filter((s) => s.role === 'acceptor').map((s) => [s.peerNonce, s]));
const byStep = new Map();
let dials = 0;
for (const d of sessions) {
  const a = acceptors.get(d.localNonce);
  if (d.role !== 'dialer' || !a || !d.stamps.has(STEPS.onProven)) continue;
  dials++;
  const t0 = d.stamps.get(STEPS.startSession);
  for (const [side, s] of [['D', d], ['A', a]]) {
    for (const [step, t] of s.stamps) {
      const key = `${side} ${step}`;
      if (!byStep.has(key)) byStep.set(key, []);
      byStep.get(key).push(t - t0);
    }
  }
}
if (dials < edges.length) console.log(`only ${dials} of ${edges.length} dials were proven on both ends and are counted`);
if (dials === 0) process.exit(1);
console.log(`${dials} dials of a ${n}-node mesh, one at a time; median ms from the dialer's signaling session start (dials with the step):`);
for (const [key, m, count] of [...byStep].map(([k, xs]) => [k, percentile(xs, 0.5), xs.length]).sort((x, y) => x[1] - y[1])) {
  console.log(`  ${m.toFixed(2).padStart(6)}  ${key} (${count})`);
}
console.log(`dial p50 (transport.dial to its promise): ${percentile(cluster.dialMs, 0.5).toFixed(2)} ms`);
process.exit(0);
