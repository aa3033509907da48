// The raw transport, measured bare: two node-datachannel PeerConnections in this process on
// loopback (bindAddress 127.0.0.1), signalled directly (no WebSocket), one DataChannel.
// Setup time per pair and one-way message latency (one clock: same process).
import { acquireNative } from '../dist/main/transport/native.js';
import { CYCLE_TIMER_SLOT_MS } from '../dist/main/model/limits.js';

const config = { iceServers: [], bindAddress: '127.0.0.1' };

/** Forwards `from`'s description and candidates to `to`, holding candidates until the description is in. */
function signal(from, to) {
  let described = false;
  const held = [];
  // A pair whose handshake failed has no ICE transport left: libdatachannel throws, and a throw
  // inside a native callback aborts the process. The pair's own timeout reports the failure.
  const add = (c, mid) => {
    try {
      to.pc.addRemoteCandidate(c, mid);
    } catch {
      // the pair failed already
    }
  };
  from.pc.onLocalDescription((sdp, type) => {
    try {
      to.pc.setRemoteDescription(sdp, type);
    } catch {
      return;
    }
    described = true;
    for (const [c, mid] of held.splice(0)) add(c, mid);
  });
  from.pc.onLocalCandidate((c, mid) => (described ? add(c, mid) : held.push([c, mid])));
}

async function pair(lease, k) {
  const t0 = performance.now();
  const a = lease.createPeer(`rawA${k}`, config, () => {});
  const b = lease.createPeer(`rawB${k}`, config, () => {});
  signal(a, b);
  signal(b, a);
  const bSide = new Promise((resolve) => b.pc.onDataChannel((dc) => resolve(dc)));
  const dcA = a.pc.createDataChannel('raw');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw pair did not open in 10 s')), 10_000);
    dcA.onOpen(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const dcB = await bSide;
  return { a, b, dcA, dcB, setupMs: performance.now() - t0 };
}

/** Setup of `pairs` bare pairs (sequential), then one-way latency of `count` frames at `hz`, both directions. */
export async function rawBaseline({ pairs = 10, count = 200, hz = 10, frameBytes = 70 }) {
  const lease = acquireNative();
  const setups = [];
  const opened = [];
  try {
    let failedPairs = 0;
    for (let k = 0; opened.length < pairs; k++) {
      // A pair that does not open (libdatachannel's loopback handshake race, BENCHMARKS.md) is
      // counted and replaced, so the baseline still has `pairs` samples.
      if (failedPairs > pairs) throw new Error(`${failedPairs} raw pairs failed to open`);
      try {
        const p = await pair(lease, k);
        setups.push(p.setupMs);
        opened.push(p);
      } catch {
        failedPairs++;
      }
    }
    const { dcA, dcB } = opened[0];
    const latencies = [];
    const pending = new Map();
    const onMsg = (msg) => {
      const s = String(msg);
      const t0 = pending.get(s);
      if (t0 !== undefined) {
        latencies.push(performance.now() - t0);
        pending.delete(s);
      }
    };
    dcA.onMessage(onMsg);
    dcB.onMessage(onMsg);
    const pad = 'x'.repeat(Math.max(0, frameBytes - 30));
    for (let i = 0; i < count; i++) {
      for (const [dc, dir] of [[dcA, 'ab'], [dcB, 'ba']]) {
        const frame = `{"n":${i},"d":"${dir}","p":"${pad}"}`;
        pending.set(frame, performance.now());
        dc.sendMessage(frame);
      }
      await new Promise((r) => setTimeout(r, 1000 / hz));
    }
    await new Promise((r) => setTimeout(r, 200));
    return { setups, latencies, failedPairs };
  } finally {
    for (const p of opened) {
      try { p.dcA.close(); } catch {}
      try { p.a.pc.close(); } catch {}
      try { p.b.pc.close(); } catch {}
    }
    await lease.release(2000);
  }
}

/**
 * The cost baseline: the bare transport doing what N nodes on `edges` do at `hz`, in this process:
 * one PeerConnection pair per edge (the app's config: host candidates on 127.0.0.1, one channel),
 * and per node a timer that sends one `frameBytes` frame to each of its channels every period,
 * timers spread over the period. Measures process CPU (% of one core), RSS and messages per second,
 * then, in a second window, one-way latency (send time carried in the frame to onMessage).
 */
export async function rawMeshCost({ n, edges, hz = 10, seconds = 15, latencySeconds = 10, frameBytes = 110, parallel = 4 }) {
  const lease = acquireNative();
  const channels = Array.from({ length: n }, () => []);
  const opened = [];
  const timers = [];
  let received = 0;
  // Latency window only: each frame carries its send time (one process, one clock).
  let probing = false;
  const latencies = [];
  const onMessage = (msg) => {
    received++;
    if (!probing) return;
    const m = /"t":([\d.]+)/.exec(String(msg));
    if (m) latencies.push(performance.now() - Number(m[1]));
  };
  try {
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < edges.length) {
        const k = next++;
        const [i, j] = edges[k];
        try {
          const p = await pair(lease, k);
          opened.push(p);
          for (const dc of [p.dcA, p.dcB]) {
            // The same callbacks a node's channel has.
            dc.onMessage(onMessage);
            dc.onClosed(() => {});
            dc.onError(() => {});
          }
          channels[i].push(p.dcA);
          channels[j].push(p.dcB);
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    const frame = (seq) => {
      const head = probing
        ? `{"type":"sdm","v":1,"seq":${seq},"diff":[0.001234567,-0.002345678],"t":${performance.now()},"p":"`
        : `{"type":"sdm","v":1,"seq":${seq},"diff":[0.001234567,-0.002345678],"p":"`;
      return head + 'x'.repeat(Math.max(0, frameBytes - head.length - 2)) + '"}';
    };
    // The node's timing (DriftNode.tick): an absolute schedule per node (setInterval would let
    // the phases drift together and batch the sends), on the CYCLE_TIMER_SLOT_MS grid, starts
    // spread over the period as bench/cluster.mjs startAll spreads the nodes.
    const period = 1000 / hz;
    for (let i = 0; i < n; i++) {
      let seq = 0;
      let next = performance.now() + period;
      const arm = (now) => {
        const slot = Math.ceil(next / CYCLE_TIMER_SLOT_MS) * CYCLE_TIMER_SLOT_MS;
        timers[i] = setTimeout(tick, slot - now);
      };
      const tick = () => {
        const f = frame(++seq);
        for (const dc of channels[i]) dc.sendMessage(f);
        const now = performance.now();
        next += period;
        if (next < now) next = now + period;
        arm(now);
      };
      arm(performance.now());
      await new Promise((r) => setTimeout(r, period / n));
    }
    await new Promise((r) => setTimeout(r, 3000));
    global.gc?.();
    const r0 = received;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const messagesPerSecond = ((received - r0) / wall) * 1000;
    const rss = process.memoryUsage().rss;
    probing = true;
    await new Promise((r) => setTimeout(r, latencySeconds * 1000));
    probing = false;
    return {
      links: edges.length - failed,
      cpu: ((c.user + c.system) / 1000 / wall) * 100,
      messagesPerSecond,
      rss,
      latencies,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const p of opened) {
      try { p.a.pc.close(); } catch {}
      try { p.b.pc.close(); } catch {}
    }
    await lease.release(2000);
  }
}
