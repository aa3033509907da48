/**
 * The discovery log: a bounded ring of what discovery did and saw
 * (announcements per interface, peers heard, dials and why they failed),
 * served in the status API so a user can see why two machines do not find
 * each other. Oldest entries go first; messages are cut to a fixed length.
 */
import { DISCOVERY_LOG_MAX, DISCOVERY_LOG_MESSAGE_MAX } from '../model/limits.js';
import type { DiscoveryLogEntry } from './types.js';

export class DiscoveryLog {
  private readonly entries: DiscoveryLogEntry[] = [];

  constructor(
    private readonly max: number = DISCOVERY_LOG_MAX,
    private readonly now: () => number = Date.now,
  ) {}

  add(entry: Omit<DiscoveryLogEntry, 'at'> & { at?: number }): DiscoveryLogEntry {
    const message = entry.message.length > DISCOVERY_LOG_MESSAGE_MAX ? `${entry.message.slice(0, DISCOVERY_LOG_MESSAGE_MAX - 3)}...` : entry.message;
    const stored: DiscoveryLogEntry = { ...entry, at: entry.at ?? this.now(), message };
    this.entries.push(stored);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return stored;
  }

  list(): DiscoveryLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  get size(): number {
    return this.entries.length;
  }
}
