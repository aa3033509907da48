/**
 * Per-peer trust (VaultGuard Lite): a Beta-reputation score (Jøsang & Ismail,
 * "The Beta Reputation System", 2002) over evidence that decays with a
 * half-life, and a sliding-window counter of rejected frames. Pure: time is
 * passed in as milliseconds of a monotonic clock, never read here.
 *
 * value = (good + 1) / (good + bad + 2): 0.5 for a newcomer, toward 1 with
 * good evidence, toward 0 with bad. Both sums halve every TRUST_HALF_LIFE_MS.
 */
import { REJECT_BURST_FRAMES, REJECT_BURST_WINDOW_MS, TRUST_HALF_LIFE_MS } from './limits.js';

/** What a node can observe about a peer. */
export type TrustEvidence = 'fresh-message' | 'outlier' | 'stale' | 'rejected-frame' | 'failed-proof';

/**
 * Weight of one observation of each kind: positive is good evidence,
 * negative bad. Calibrated for the default 100 ms cycle (test/trust.test.ts
 * checks the consequences; docs/drift-model.md quotes them):
 * - 'fresh-message': a valid, in-order message whose value is not an outlier.
 *   At 10 messages/s an honest peer's good evidence settles at
 *   10 * 0.1 * TRUST_HALF_LIFE_MS / (1000 ln 2) = 87, a score of 0.99.
 * - 'outlier': once per own cycle for a peer whose value W-MSR dropped as a
 *   far outlier (wmsrEvaluate().outliers); its messages then are not
 *   'fresh-message'. 0.02 is small enough that an honest newcomer who
 *   starts far away (46 outlier cycles from 100 units) keeps its pull, large
 *   enough that a newcomer lying on every cycle is dropped within half a
 *   minute.
 * - 'stale': once per own cycle a linked peer is stale (silent for more than
 *   staleCycles); a link dies after DEAD_LINK_CYCLES anyway, so this only
 *   marks peers that keep going silent.
 * - 'rejected-frame': a frame that failed validation. The same code never
 *   sends one; a peer that sends one per message it sends well ends near
 *   0.17 (just above TRUST_DROP_MIN), more and it is dropped. Bursts are
 *   RejectBurst's job.
 * - 'failed-proof': a handshake whose identity proof failed. It drops a
 *   newcomer below TRUST_DROP_MIN at once (1 / 12); charge it to the remote
 *   address's score, not to the id it claimed (anyone can claim any id).
 */
export const TRUST_EVIDENCE_WEIGHT: { readonly [K in TrustEvidence]: number } = {
  'fresh-message': 0.1,
  outlier: -0.02,
  stale: -0.05,
  'rejected-frame': -0.5,
  'failed-proof': -10,
};

export const TRUST_EVIDENCE_KINDS = Object.keys(TRUST_EVIDENCE_WEIGHT) as readonly TrustEvidence[];

export function isTrustEvidence(value: unknown): value is TrustEvidence {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TRUST_EVIDENCE_WEIGHT, value);
}

/** Beta-reputation mean of decayed good and bad evidence. */
export function betaTrust(good: number, bad: number): number {
  return (good + 1) / (good + bad + 2);
}

/** One peer's trust score. */
export class TrustScore {
  private good = 0;
  private bad = 0;
  /** Time the sums were last decayed to; never moves backwards. */
  private at: number;

  constructor(nowMs: number, private readonly halfLifeMs: number = TRUST_HALF_LIFE_MS) {
    if (!(halfLifeMs > 0) || !Number.isFinite(halfLifeMs)) throw new RangeError(`half-life must be a positive number of ms, got ${halfLifeMs}`);
    this.at = Number.isFinite(nowMs) ? nowMs : 0;
  }

  /**
   * Adds `count` observations of `kind` at `nowMs`. A count that is not a
   * finite non-negative number is ignored; so is a clock that went
   * backwards (the evidence is added at the latest time seen).
   */
  observe(kind: TrustEvidence, nowMs: number, count = 1): void {
    if (!(count >= 0) || !Number.isFinite(count)) return;
    const w = TRUST_EVIDENCE_WEIGHT[kind];
    if (w === undefined) return;
    this.decayTo(nowMs);
    if (w > 0) this.good += w * count;
    else this.bad -= w * count;
  }

  /** The score in (0, 1) at `nowMs`. */
  value(nowMs: number): number {
    this.decayTo(nowMs);
    return betaTrust(this.good, this.bad);
  }

  /** The decayed evidence sums at `nowMs` (for the dashboard and the tests). */
  evidence(nowMs: number): { good: number; bad: number } {
    this.decayTo(nowMs);
    return { good: this.good, bad: this.bad };
  }

  private decayTo(nowMs: number): void {
    if (!Number.isFinite(nowMs) || nowMs <= this.at) return;
    const f = Math.pow(2, -(nowMs - this.at) / this.halfLifeMs);
    this.good *= f;
    this.bad *= f;
    this.at = nowMs;
  }
}

/**
 * Rejected frames of one peer in a sliding window: `record` says when the
 * frame just recorded makes `frames` of them within `windowMs`. Holds one
 * timestamp per frame of the threshold (a ring), whatever the peer sends.
 */
export class RejectBurst {
  private readonly times: Float64Array;
  private next = 0;
  private filled = 0;
  private latest = -Infinity;

  constructor(
    private readonly frames: number = REJECT_BURST_FRAMES,
    private readonly windowMs: number = REJECT_BURST_WINDOW_MS,
  ) {
    if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`burst frames must be a positive integer, got ${frames}`);
    if (!(windowMs > 0)) throw new RangeError(`burst window must be positive, got ${windowMs}`);
    this.times = new Float64Array(frames);
  }

  /** Records one rejected frame at `nowMs`; true when it is the `frames`-th within `windowMs`. */
  record(nowMs: number): boolean {
    const t = Number.isFinite(nowMs) && nowMs > this.latest ? nowMs : this.latest === -Infinity ? 0 : this.latest;
    this.latest = t;
    this.times[this.next] = t;
    this.next = (this.next + 1) % this.frames;
    if (this.filled < this.frames) this.filled++;
    // The oldest of the last `frames` timestamps is the one `next` now points at.
    return this.filled === this.frames && t - this.times[this.next]! < this.windowMs;
  }

  /** Rejected frames recorded within the window ending at `nowMs` (at most `frames`). */
  inWindow(nowMs: number): number {
    let count = 0;
    for (let k = 0; k < this.filled; k++) if (nowMs - this.times[k]! < this.windowMs) count++;
    return count;
  }
}
