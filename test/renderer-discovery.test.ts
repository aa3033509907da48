import { describe, expect, it } from 'vitest';
import { discoveryRunNote, discoverySummary } from '../renderer/discovery-panel.js';
import { DISCOVERY_OFF_BY_SETTING, type DiscoveryStatus } from '../main/discovery/types.js';

const base: DiscoveryStatus = { enabled: true, off: null, service: '_lvs._tcp', instance: 'abcdefgh', port: 7710, interfaces: [], peers: [], hint: null, log: [] };

describe('discoverySummary', () => {
  it('says why discovery is off', () => {
    expect(discoverySummary({ ...base, enabled: false, off: DISCOVERY_OFF_BY_SETTING })).toBe('off: the discovery setting is off');
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

describe('discoveryRunNote (under the settings form\'s discovery checkbox, which shows the saved setting)', () => {
  it('says discovery is off this run when a flag or the listen address turned it off', () => {
    expect(discoveryRunNote(true, { ...base, enabled: false, off: '--no-discovery' })).toBe('off this run: --no-discovery');
    expect(discoveryRunNote(true, { ...base, enabled: false, off: 'listening on loopback only (127.0.0.1)' })).toBe('off this run: listening on loopback only (127.0.0.1)');
    // Unticked and off by the flag: still worth saying why, ticking it alone would not turn it on.
    expect(discoveryRunNote(false, { ...base, enabled: false, off: '--no-discovery' })).toBe('off this run: --no-discovery');
  });

  it('says nothing when the run matches the saved setting', () => {
    expect(discoveryRunNote(true, base)).toBeNull();
    expect(discoveryRunNote(false, { ...base, enabled: false, off: DISCOVERY_OFF_BY_SETTING })).toBeNull();
    expect(discoveryRunNote(true, undefined)).toBeNull();
  });

  it('says a saved change waits for a restart', () => {
    expect(discoveryRunNote(true, { ...base, enabled: false, off: DISCOVERY_OFF_BY_SETTING })).toBe('off this run (the setting was off when the node started); on after it restarts');
    expect(discoveryRunNote(false, base)).toBe('on this run; off after the node restarts');
  });
});
