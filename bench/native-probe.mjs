#!/usr/bin/env node
// The native side of bench/browser.mjs: dials a node with fresh native
// identities (node-datachannel, the node's own WebRtcTransport) and times
// setups and sync/state round trips, as a browser tab does in the same run.
//   node bench/native-probe.mjs HOST:PORT DIALS ROUNDTRIPS [GAP_MS]  -> one JSON line on stdout
import { createIdentity } from '../dist/main/identity/identity.js';
import { nodeHandshakeCrypto } from '../dist/main/identity/handshake-crypto.js';
import { WebRtcTransport } from '../dist/main/transport/webrtc.js';
import { probeNode } from '../dist/main/transport/link-probe.js';

const [address, dials, roundTrips, gap = '0'] = process.argv.slice(2);
if (!address || !Number.isInteger(Number(dials)) || !Number.isInteger(Number(roundTrips))) {
  console.error('usage: node bench/native-probe.mjs HOST:PORT DIALS ROUNDTRIPS [GAP_MS]');
  process.exit(2);
}
const bindAddress = address.slice(0, address.lastIndexOf(':'));
const make = () => {
  const identity = createIdentity();
  return new WebRtcTransport({ localId: identity.id, auth: nodeHandshakeCrypto(identity), bindAddress });
};
const times = await probeNode(address, make, Number(dials), Number(roundTrips), Number(gap));
console.log(JSON.stringify(times));
process.exit(0);
