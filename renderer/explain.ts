/**
 * Plain words for the numbers the dashboard shows (vu, tc, intensity, a
 * peer's trust): a short legend line and a fuller tooltip each. The
 * thresholds come from main/model/limits.ts, so the words cannot drift from
 * what the node does. DOM-free.
 */
import { TRUST_DROP_MIN, TRUST_ESTABLISHED_MIN, TRUST_HALF_LIFE_MS, TRUST_HOLD_OFF_MS, TRUST_PULL_MIN } from '../main/model/limits.js';
import { formatDuration } from './format.js';

/** A newcomer's trust: the Beta-reputation mean with no evidence yet (docs/drift-model.md "Trust evidence"). */
export const NEWCOMER_TRUST = 0.5;

export interface Explanation {
  /** One short line for the legend under the figures. */
  legend: string;
  /** The fuller text of the tooltip (title) on the figure and its label. */
  tooltip: string;
}

export type Term = 'vu' | 'tc' | 'intensity' | 'trust';

export const EXPLAIN: Readonly<Record<Term, Explanation>> = {
  vu: {
    legend: 'agreement with the peers: 1 at their mean, lower the farther off; 1 when alone',
    tooltip:
      "vu: how closely this node agrees with its peers. vu = 1 / (1 + distance from this node's drift to the mean of its peers' drifts). " +
      '1 means right at their mean; 0.5 means one drift unit away. A node with no linked peers has vu 1.',
  },
  tc: {
    legend: `mean trust of the linked peers (a newcomer starts at ${NEWCOMER_TRUST}); 1 when alone`,
    tooltip:
      `tc: how much this node trusts its peers, the mean trust score of the peers linked now (1 when none is). ` +
      `A newcomer starts at ${NEWCOMER_TRUST}; fresh, plausible messages raise its score; outliers, invalid frames and silence lower it. ` +
      `Below ${TRUST_PULL_MIN} a peer stops pulling; below ${TRUST_DROP_MIN} it is cut off and held off for ${formatDuration(TRUST_HOLD_OFF_MS)}.`,
  },
  intensity: {
    legend: 'smoothed size of the entropy pushes; the colour of the dot',
    tooltip:
      'intensity: how hard the entropy pushes this node, the smoothed |entropy sample| of each cycle (0 to about 1.4). ' +
      'It is the colour of the dots on the plane (see the colour bar there).',
  },
  trust: {
    legend: `trust: ${NEWCOMER_TRUST} for a newcomer; under ${TRUST_PULL_MIN} it stops pulling, under ${TRUST_DROP_MIN} it is cut off`,
    tooltip:
      `trust in this peer, 0 to 1: ${NEWCOMER_TRUST} for a newcomer, earned by fresh, plausible messages, lost by outliers, invalid frames and silence ` +
      `(evidence halves every ${formatDuration(TRUST_HALF_LIFE_MS)}, so the score tells of the last few minutes). Below ${TRUST_PULL_MIN} the peer stops pulling this node; ` +
      `below ${TRUST_DROP_MIN} it is cut off and held off for ${formatDuration(TRUST_HOLD_OFF_MS)}.`,
  },
};

/** How a trust figure reads at a glance: low (does not pull), new (not yet established), trusted. */
export type TrustLevel = 'low' | 'new' | 'trusted';

export function trustLevel(trust: number): TrustLevel {
  if (!Number.isFinite(trust) || trust < TRUST_PULL_MIN) return 'low';
  return trust >= TRUST_ESTABLISHED_MIN ? 'trusted' : 'new';
}

/** A peer's trust as its row shows it: "trust 0.62". */
export function formatTrust(trust: number): string {
  return Number.isFinite(trust) ? `trust ${trust.toFixed(2)}` : 'trust —';
}
