/**
 * The log lines the dashboard keeps, in time order (oldest first) however
 * they arrive. They do not arrive in order: a dashboard's own line
 * ("connected to the node") comes before the node's recent lines that the
 * bridge replays to a new subscriber, and after a reconnect the node
 * replays lines the dashboard already holds. Ordering by time, and skipping
 * a line already held, keeps the log one story. DOM-free.
 */
import type { LogLevel } from '../main/bridge/api.js';

export interface LogEntry {
  /** Arrival number, unique per book: the key a view keeps its element by. */
  seq: number;
  level: LogLevel;
  message: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export class LogBook {
  /** Sorted by time, then by arrival (lines of one millisecond keep the order they came in). */
  private entries: LogEntry[] = [];
  /** Lines held, by time, level and text: the same line replayed again is not kept twice. */
  private readonly held = new Set<string>();
  private seq = 0;
  /** Bumped on every change, so a view can skip a render that would change nothing. */
  version = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer (got ${capacity})`);
  }

  get length(): number {
    return this.entries.length;
  }

  /** The i-th oldest line (0 = oldest). */
  at(i: number): LogEntry | undefined {
    return this.entries[i];
  }

  /** Oldest first. */
  toArray(): LogEntry[] {
    return [...this.entries];
  }

  /**
   * Keeps a line at its place in time. Returns it, or null when it is a line
   * already held (same time, level and text: a replay) or older than every
   * line of a full book. A time that is not a finite number counts as the
   * newest held.
   */
  add(level: LogLevel, message: string, at: number): LogEntry | null {
    const last = this.entries[this.entries.length - 1];
    const time = Number.isFinite(at) ? at : (last?.at ?? 0);
    const key = `${time}\u0000${level}\u0000${message}`;
    if (this.held.has(key)) return null;
    const index = this.insertionIndex(time);
    if (index === 0 && this.entries.length >= this.capacity) return null;
    const entry: LogEntry = { seq: ++this.seq, level, message, at: time };
    this.entries.splice(index, 0, entry);
    this.held.add(key);
    while (this.entries.length > this.capacity) {
      const dropped = this.entries.shift()!;
      this.held.delete(`${dropped.at}\u0000${dropped.level}\u0000${dropped.message}`);
    }
    this.version++;
    return entry;
  }

  clear(): void {
    this.entries = [];
    this.held.clear();
    this.version++;
  }

  /** After every line of time <= `time` (binary search; new lines usually go last). */
  private insertionIndex(time: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.at <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
