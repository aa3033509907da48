// The bare transport, one worker's share, for `npm run cluster -- --transport bare`: the ends of
// node-datachannel PeerConnection pairs (the app's ICE configuration, one DataChannel each) for the
// nodes this process hosts, signalled through the coordinator over IPC, and per node a timer on the
// node's own schedule (DriftNode.tick: absolute, on the CYCLE_TIMER_SLOT_MS grid) that sends one
// frame to each of its channels per period. No project code on the frame path: what the same graph
// and timing cost on the library alone, next to the nodes (bench/raw.mjs rawMeshCost does the
// same in one process, both ends of each pair in it).
import { acquireNative } from '../dist/main/transport/native.js';
import { CYCLE_TIMER_SLOT_MS } from '../dist/main/model/limits.js';

const config = { iceServers: [], bindAddress: '127.0.0.1' };
const OPEN_TIMEOUT_MS = 20_000;

export class BareMesh {
  /** One array of open channels per local node. */
  channels;
  /** Pair ends by edge number: {peer, dc, described, held, open}. */
  ends = new Map();
  received = 0;
  timers = [];
  running = false;

  /** @param n local nodes; @param sendSignal (edge, side, signal) forwards a description or candidate to the other end. */
  constructor(n, sendSignal) {
    this.lease = acquireNative();
    this.channels = Array.from({ length: n }, () => []);
    this.sendSignal = sendSignal;
  }

  /** The end of edge `edge` at local node `local`, side 'a' (creates the channel) or 'b'. */
  end(edge, side, local) {
    let e = this.ends.get(`${edge}${side}`);
    if (e) return e;
    const peer = this.lease.createPeer(`bare${edge}${side}`, config, () => {});
    e = { peer, dc: null, described: false, held: [], local, opened: null };
    this.ends.set(`${edge}${side}`, e);
    // Signaling callbacks first: the channel's creation starts the negotiation at once.
    const other = side === 'a' ? 'b' : 'a';
    // Side a sends its candidates once the answer is in (webrtc.ts mayLeave, first rule): an acceptor
    // that reaches the dialer before libdatachannel 0.24.5 has stored the answer fails the DTLS
    // fingerprint check (BENCHMARKS.md, "Link setup"), and signaling through the coordinator's IPC
    // makes that window wide.
    e.outbox = [];
    e.sent = false;
    e.flush = () => {
      if (!e.sent || (side === 'a' && !e.described)) return;
      for (const c of e.outbox.splice(0)) this.sendSignal(edge, other, c);
    };
    peer.pc.onLocalDescription((sdp, type) => {
      this.sendSignal(edge, other, { sdp, type });
      e.sent = true;
      e.flush();
    });
    peer.pc.onLocalCandidate((candidate, mid) => {
      e.outbox.push({ candidate, mid });
      e.flush();
    });
    e.opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bare pair ${edge} did not open in ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
      const wire = (dc) => {
        e.dc = dc;
        dc.onMessage(() => {
          this.received++;
        });
        dc.onClosed(() => {});
        dc.onError(() => {});
        const opened = () => {
          clearTimeout(timer);
          this.channels[local].push(dc);
          resolve();
        };
        if (dc.isOpen()) opened();
        else dc.onOpen(opened);
      };
      if (side === 'a') wire(peer.createDataChannel('bare', {}));
      else peer.pc.onDataChannel(wire);
    });
    e.opened.catch(() => {});
    return e;
  }

  /** Side 'a' of `edge`: creates the connection and its channel (the offer goes out by itself). */
  dial(edge, local) {
    return this.end(edge, 'a', local).opened;
  }

  /** A description or candidate from the other end; side 'b' comes into being with the offer. */
  signal(edge, side, local, s) {
    const e = this.end(edge, side, local);
    try {
      if (s.sdp !== undefined) {
        e.peer.pc.setRemoteDescription(s.sdp, s.type);
        e.described = true;
        for (const [c, m] of e.held.splice(0)) e.peer.pc.addRemoteCandidate(c, m);
        e.flush();
      } else if (e.described) e.peer.pc.addRemoteCandidate(s.candidate, s.mid);
      else e.held.push([s.candidate, s.mid]);
    } catch {
      // a pair whose handshake failed already; its open timeout reports it
    }
    return side === 'b' ? e.opened : Promise.resolve();
  }

  /** Starts every local node's timer, starts spread over the period (as Cluster.startAll spreads the nodes). */
  async start(hz, frameBytes) {
    this.running = true;
    const period = 1000 / hz;
    for (let i = 0; i < this.channels.length; i++) {
      let seq = 0;
      let next = performance.now() + period;
      const arm = (now) => {
        const slot = Math.ceil(next / CYCLE_TIMER_SLOT_MS) * CYCLE_TIMER_SLOT_MS;
        this.timers[i] = setTimeout(tick, slot - now);
      };
      const tick = () => {
        if (!this.running) return;
        const head = `{"type":"sdm","v":2,"seq":${++seq},"diff":[0.001234567,-0.002345678],"p":"`;
        const frame = `${head}${'x'.repeat(Math.max(0, frameBytes - head.length - 2))}"}`;
        for (const dc of this.channels[i]) {
          try {
            dc.sendMessage(frame);
          } catch {
            // closed
          }
        }
        const now = performance.now();
        next += period;
        if (next < now) next = now + period;
        arm(now);
      };
      arm(performance.now());
      await new Promise((r) => setTimeout(r, period / this.channels.length));
    }
  }

  async stop() {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    await this.lease.release(2000);
  }
}
