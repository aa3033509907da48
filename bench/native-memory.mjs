// What one bare node-datachannel PeerConnection end costs in memory, with no project code: N pairs
// on loopback in this process (one DataChannel each), RSS per pair once linked and after 5 s of one
// 110-byte frame each way per 100 ms. Optional SCTP settings (setSctpSettings) as JSON, to see which
// knob moves it. Writes nothing. Under heaptrack it shows which allocations hold the memory:
//   node --expose-gc bench/native-memory.mjs [PAIRS] ['{"recvBufferSize":65536}']
//   heaptrack node --expose-gc bench/native-memory.mjs 100
import nodeDataChannel from 'node-datachannel';
import { SCTP_DELAYED_SACK_MS } from '../dist/main/model/limits.js';

const pairs = Number(process.argv[2] ?? 200);
let sctp;
try {
  sctp = JSON.parse(process.argv[3] ?? '{}');
} catch {
  console.error('usage: node --expose-gc bench/native-memory.mjs [PAIRS] [SCTP settings as JSON]');
  process.exit(2);
}
if (!Number.isInteger(pairs) || pairs < 1) {
  console.error('usage: node --expose-gc bench/native-memory.mjs [PAIRS] [SCTP settings as JSON]');
  process.exit(2);
}
nodeDataChannel.setSctpSettings({ delayedSackTime: SCTP_DELAYED_SACK_MS, ...sctp });
const config = { iceServers: [], bindAddress: '127.0.0.1' };
function signal(from, to) {
  let described = false;
  const held = [];
  from.onLocalDescription((sdp, type) => {
    to.setRemoteDescription(sdp, type);
    described = true;
    for (const [c, m] of held.splice(0)) to.addRemoteCandidate(c, m);
  });
  from.onLocalCandidate((c, m) => (described ? to.addRemoteCandidate(c, m) : held.push([c, m])));
}
async function pair(k) {
  const a = new nodeDataChannel.PeerConnection(`a${k}`, config);
  const b = new nodeDataChannel.PeerConnection(`b${k}`, config);
  signal(a, b);
  signal(b, a);
  const bSide = new Promise((resolve) => b.onDataChannel((dc) => resolve(dc)));
  const dcA = a.createDataChannel('bare');
  await new Promise((resolve) => dcA.onOpen(resolve));
  return { a, b, dcA, dcB: await bSide };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
global.gc?.();
const r0 = process.memoryUsage().rss;
const opened = [];
let next = 0;
await Promise.all(Array.from({ length: 4 }, async () => {
  while (next < pairs) {
    next++;
    opened.push(await pair(next));
  }
}));
await sleep(2000);
global.gc?.();
const r1 = process.memoryUsage().rss;
const frame = 'x'.repeat(110);
for (const p of opened) {
  p.dcA.onMessage(() => {});
  p.dcB.onMessage(() => {});
}
const timer = setInterval(() => {
  for (const p of opened) {
    p.dcA.sendMessage(frame);
    p.dcB.sendMessage(frame);
  }
}, 100);
await sleep(5000);
clearInterval(timer);
global.gc?.();
const r2 = process.memoryUsage().rss;
console.log(`${pairs} pairs, SCTP settings ${JSON.stringify(sctp)}: RSS before ${(r0 / 1e6).toFixed(1)} MB; per pair ${((r1 - r0) / 1e3 / pairs).toFixed(0)} kB linked, ${((r2 - r0) / 1e3 / pairs).toFixed(0)} kB after 5 s of frames (a pair is two ends)`);
for (const p of opened) {
  p.a.close();
  p.b.close();
}
await sleep(1000);
nodeDataChannel.cleanup();
process.exit(0);
