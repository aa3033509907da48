// The raw transport, measured bare: two node-datachannel PeerConnections in this process on
// loopback (bindAddress 127.0.0.1), signalled directly (no WebSocket), one DataChannel.
// Setup time per pair and one-way message latency (one clock: same process).
import { acquireNative } from '../dist/main/transport/native.js';

const config = { iceServers: [], bindAddress: '127.0.0.1' };

async function pair(lease, k) {
  const t0 = performance.now();
  const a = lease.createPeer(`rawA${k}`, config, () => {});
  const b = lease.createPeer(`rawB${k}`, config, () => {});
  a.pc.onLocalDescription((sdp, type) => b.pc.setRemoteDescription(sdp, type));
  b.pc.onLocalDescription((sdp, type) => a.pc.setRemoteDescription(sdp, type));
  a.pc.onLocalCandidate((c, mid) => b.pc.addRemoteCandidate(c, mid));
  b.pc.onLocalCandidate((c, mid) => a.pc.addRemoteCandidate(c, mid));
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
    for (let k = 0; k < pairs; k++) {
      const p = await pair(lease, k);
      setups.push(p.setupMs);
      opened.push(p);
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
    return { setups, latencies };
  } finally {
    for (const p of opened) {
      try { p.dcA.close(); } catch {}
      try { p.a.pc.close(); } catch {}
      try { p.b.pc.close(); } catch {}
    }
    await lease.release(2000);
  }
}
