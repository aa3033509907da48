import { describe, expect, it } from 'vitest';
import { discoverySummary } from '../renderer/discovery-panel.js';
import type { DiscoveryStatus } from '../main/discovery/types.js';

const base: DiscoveryStatus = { enabled: true, off: null, service: '_lvs._tcp', instance: 'abcdefgh', port: 7710, interfaces: [], peers: [], hint: null, log: [] };

describe('discoverySummary', () => {
  it('says why discovery is off', () => {
    expect(discoverySummary({ ...base, enabled: false, off: 'the discovery setting is off' })).toBe('off: the discovery setting is off');
  });

  it('names the interfaces served and counts the nodes heard that have not left', () => {
    const peer = { id: 'X', instance: 'i', addresses: ['10.0.0.2:7710'], interface: 'eth0', firstSeen: 0, lastHeard: 0, restarts: 0, left: false };
    const text = discoverySummary({
      ...base,
      interfaces: [{ name: 'eth0', addresses: ['10.0.0.1'], since: 0 }, { name: 'wg0', addresses: ['10.9.0.1'], since: 0 }],
      peers: [peer, { ...peer, id: 'Y', left: true }],
    });
    expect(text).toBe('_lvs._tcp on 2 interfaces (eth0 10.0.0.1; wg0 10.9.0.1); heard 1 node');
  });
});
