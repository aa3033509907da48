/** The held-off list of the Peers panel and the blockedPeers edits (renderer/held-off.ts). */
import { describe, expect, it } from 'vitest';
import type { PeerStatus } from '../main/bridge/api.js';
import { heldOffRows, isBlocked, withBlocked } from '../renderer/held-off.js';

const A = 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAA';
const B = 'BBBBBBB-BBBBBBB-BBBBBBB-BBBBB';
const C = 'CCCCCCC-CCCCCCC-CCCCCCC-CCCCC';

function peer(id: string, name: string): PeerStatus {
  return { id, name, drift: null, intensity: 0, connected: false, fresh: false, lastSeenCycles: null, address: null, dialledAddress: null, messagesIn: 0, messagesOut: 0, rejects: {}, trust: 0.1, excluded: null, kind: 'native', nbrs: null };
}

describe('heldOffRows', () => {
  const now = new Date(2025, 0, 1, 14, 3, 0).getTime();
  const heldOff = [
    { id: C, reason: 'trust 0.14 below 0.15', until: now + 299_000 },
    { id: B, reason: 'blocked by the user', until: null },
  ];

  it('lists blocked peers first, by name, with why and until when', () => {
    const rows = heldOffRows(heldOff, [peer(B, 'beta'), peer(C, 'gamma')], [B], now);
    expect(rows).toEqual([
      { id: B, label: 'beta', reason: 'blocked by the user', until: 'until you unblock it', blocked: true },
      { id: C, label: 'gamma', reason: 'trust 0.14 below 0.15', until: 'until 14:07:59 (in 4 min 59 s)', blocked: false },
    ]);
  });

  it('names a peer the node no longer lists by its short id', () => {
    expect(heldOffRows([heldOff[0]!], [], [], now)[0]!.label).toBe('CCCCCCC');
  });

  it('offers unblock by the saved setting, and by a hold without end before the settings are loaded', () => {
    expect(heldOffRows(heldOff, [], null, now).map((r) => [r.id, r.blocked])).toEqual([[B, true], [C, false]]);
    // Unblocked a moment ago: the setting no longer has it, the node's next status drops the row.
    expect(heldOffRows(heldOff, [], [], now).find((r) => r.id === B)).toMatchObject({ blocked: false, until: 'until further notice' });
  });
});

describe('isBlocked and withBlocked', () => {
  it('reads the saved setting first, the hold list before it is loaded', () => {
    expect(isBlocked(B, [B], [])).toBe(true);
    expect(isBlocked(B, [], [{ id: B, reason: 'blocked by the user', until: null }])).toBe(false);
    expect(isBlocked(B, null, [{ id: B, reason: 'blocked by the user', until: null }])).toBe(true);
    expect(isBlocked(C, null, [{ id: C, reason: 'low trust', until: 5 }])).toBe(false);
    expect(isBlocked(A, null, undefined)).toBe(false);
  });

  it('adds or removes one id and keeps the others in order', () => {
    const list = [A, B];
    expect(withBlocked(list, C, true)).toEqual([A, B, C]);
    expect(withBlocked(list, A, false)).toEqual([B]);
    expect(withBlocked(list, B, true)).toBe(list);
    expect(withBlocked(list, C, false)).toBe(list);
  });
});
