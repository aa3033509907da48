/**
 * The peers this node will not link to now, as the Peers panel lists them:
 * cut off for low trust or a burst of invalid frames (until a time), or
 * blocked by the user (until unblocked, the only ones the user can lift).
 * DOM-free.
 */
import type { NodeStatus, PeerStatus } from '../main/bridge/api.js';
import { formatClock, formatUntil, nodeLabel } from './format.js';

export interface HeldOffRow {
  id: string;
  /** The peer's name when the node knows it, else its short id. */
  label: string;
  reason: string;
  /** "until 14:08:03 (in 4 min 59 s)", or "until you unblock it". */
  until: string;
  /** Blocked by the user: the row offers unblock. */
  blocked: boolean;
}

/**
 * `blockedPeers`: the saved setting, the truth about what unblock can undo;
 * null while the settings are not loaded (then a hold without end stands for a block).
 */
export function heldOffRows(heldOff: NodeStatus['heldOff'], peers: readonly PeerStatus[], blockedPeers: readonly string[] | null, now: number): HeldOffRow[] {
  const names = new Map(peers.map((p) => [p.id, p.name]));
  return heldOff
    .map((h) => {
      const blocked = blockedPeers ? blockedPeers.includes(h.id) : h.until === null;
      return {
        id: h.id,
        label: nodeLabel(names.get(h.id), h.id),
        reason: h.reason,
        until: h.until === null ? (blocked ? 'until you unblock it' : 'until further notice') : `until ${formatClock(h.until)} (${formatUntil(h.until, now)})`,
        blocked,
      };
    })
    .sort((a, b) => Number(b.blocked) - Number(a.blocked) || a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}

/** Whether the user has `peerId` blocked, by the saved setting or, before it is loaded, by the node's hold list. */
export function isBlocked(peerId: string, blockedPeers: readonly string[] | null, heldOff: NodeStatus['heldOff'] | undefined): boolean {
  if (blockedPeers) return blockedPeers.includes(peerId);
  return (heldOff ?? []).some((h) => h.id === peerId && h.until === null);
}

/** The blockedPeers setting with `peerId` added or taken out; the same array when nothing changes. */
export function withBlocked(list: readonly string[], peerId: string, blocked: boolean): readonly string[] {
  const has = list.includes(peerId);
  if (blocked === has) return list;
  return blocked ? [...list, peerId] : list.filter((id) => id !== peerId);
}
