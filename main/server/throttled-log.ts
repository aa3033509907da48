/**
 * Logs a message at most once per key per interval, for at most `maxKeys`
 * distinct keys per interval, so a stranger who varies the key (an Origin
 * header, say) cannot fill the log or this table. Suppressed lines are
 * only counted (the status counters carry the totals).
 */
export class ThrottledLog {
  private readonly lastAt = new Map<string, number>();
  /** Lines not logged because their key was logged recently or the table was full. */
  suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
    private readonly write: (message: string) => void,
  ) {}

  /** Logs `message` unless `key` was logged less than the interval ago; says whether it did. */
  maybe(key: string, message: string, now: number): boolean {
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    if (last === undefined && this.lastAt.size >= this.maxKeys) {
      for (const [k, at] of this.lastAt) if (now - at >= this.intervalMs) this.lastAt.delete(k);
      if (this.lastAt.size >= this.maxKeys) {
        this.suppressed++;
        return false;
      }
    }
    this.lastAt.delete(key);
    this.lastAt.set(key, now);
    this.write(message);
    return true;
  }
}
