/**
 * Connects LAN discovery to a drift node: a discovered peer is dialled
 * through node.addPeer (the dialer keeps it linked, with backoff), a peer
 * heard again while unlinked is redialled at once, and what the dialer
 * reports (linked, or why a dial failed) goes into the discovery log.
 *
 * Never two links to one peer: a peer already linked (either direction) is
 * not dialled again, an address the dialer already keeps is not added again,
 * and the transport refuses a second link to the same id anyway.
 */
import { DISCOVERY_DIAL_WATCH_MS, DISCOVERY_HIGHER_ID_WAIT_MS } from '../model/limits.js';
import type { DriftNode } from '../node/drift-node.js';
import type { DiscoveryPeerEvent, MdnsDiscovery } from './mdns-discovery.js';

/** The part of DriftNode the wiring uses (a test passes a fake). */
export type DialingNode = Pick<DriftNode, 'id' | 'addPeer' | 'redialPeer' | 'status' | 'events'>;

interface Watched {
  failures: number;
  lastError: string | null;
}

/** Starts dialling what `discovery` finds; returns the function that stops it. */
export function wireDiscovery(node: DialingNode, discovery: Pick<MdnsDiscovery, 'events' | 'note'>): () => void {
  /** Addresses handed to the dialer by discovery, with what the dialer said last. */
  const watched = new Map<string, Watched>();
  /** When each unlinked peer was last heard, to report how long linking took. */
  const heardAt = new Map<string, number>();

  /** Dials deferred by the higher id, per peer id. */
  const deferred = new Map<string, ReturnType<typeof setTimeout>>();

  const onPeer = (p: DiscoveryPeerEvent): void => {
    if (p.id === node.id || p.addresses.length === 0 || deferred.has(p.id)) return;
    const status = node.status();
    if (status.peers.some((peer) => peer.id === p.id && peer.connected)) return;
    if (!heardAt.has(p.id) || p.reason !== 'again') heardAt.set(p.id, Date.now());
    if (node.id > p.id && (p.reason === 'new' || p.reason === 'restart')) {
      // It has probably heard us too and dials now; its dial is the one the transport keeps.
      const timer = setTimeout(() => {
        deferred.delete(p.id);
        dial(p);
      }, DISCOVERY_HIGHER_ID_WAIT_MS);
      timer.unref?.();
      deferred.set(p.id, timer);
      return;
    }
    dial(p);
  };

  const dial = (p: DiscoveryPeerEvent): void => {
    const status = node.status();
    if (status.peers.some((peer) => peer.id === p.id && peer.connected)) return;
    const known = status.dialTargets.find((t) => p.addresses.includes(t.address));
    if (known) {
      if (node.redialPeer(known.address)) {
        discovery.note({ kind: 'dial', peerId: p.id, address: known.address, interface: p.interface, message: `redialling ${p.id} at ${known.address} now: heard it again on ${p.interface} (${p.reason === 'restart' ? 'it restarted' : 'not linked'})` });
      }
      return;
    }
    const address = p.addresses[0]!;
    if (node.addPeer(address, p.id)) {
      watched.set(address, { failures: 0, lastError: null });
      if (watched.size > 1024) watched.delete(watched.keys().next().value!);
      discovery.note({ kind: 'dial', peerId: p.id, address, interface: p.interface, message: `dialling ${p.id} at ${address} (discovered on ${p.interface})` });
    }
  };

  const onNodePeer = (e: { kind: string; peer: { id: string; address: string | null } }): void => {
    if (e.kind !== 'hello') return;
    const at = heardAt.get(e.peer.id);
    if (at === undefined) return;
    heardAt.delete(e.peer.id);
    discovery.note({ kind: 'linked', peerId: e.peer.id, ...(e.peer.address ? { address: e.peer.address } : {}), message: `linked with ${e.peer.id} ${((Date.now() - at) / 1000).toFixed(1)} s after hearing it` });
  };

  const watch = (): void => {
    for (const t of node.status().dialTargets) {
      const w = watched.get(t.address);
      if (!w) continue;
      if (t.failures > w.failures && t.lastError && (w.failures === 0 || t.lastError !== w.lastError || t.failures % 10 === 0)) {
        const retry = t.nextDialAt ? `; retrying in ${Math.max(0, (t.nextDialAt - Date.now()) / 1000).toFixed(1)} s` : '';
        discovery.note({ kind: 'dial-failed', address: t.address, ...(t.peerId ? { peerId: t.peerId } : {}), message: `dial ${t.address} failed (${t.failures}x): ${t.lastError}${retry}` });
      }
      w.failures = t.failures;
      w.lastError = t.lastError;
    }
  };

  const offPeer = discovery.events.on('peer', onPeer);
  const offNodePeer = node.events.on('peer', onNodePeer);
  const timer = setInterval(watch, DISCOVERY_DIAL_WATCH_MS);
  timer.unref?.();
  return () => {
    offPeer();
    offNodePeer();
    clearInterval(timer);
    for (const t of deferred.values()) clearTimeout(t);
    deferred.clear();
  };
}
