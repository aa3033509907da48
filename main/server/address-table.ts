/**
 * Per-remote-address state with a hard cap on the number of addresses. An
 * entry may be forgotten only when it is idle (it holds no live socket and
 * its rate state is back to the start), so forgetting loses nothing; when
 * the table is full and every entry is busy, a new address is refused.
 * Entries are kept in least-recently-used order.
 */
import { isIP } from 'node:net';

/** The key of a socket's remote address: IPv4-mapped IPv6 as IPv4, IPv6 in lower case; null when the socket has none (already gone). */
export function addressKey(remoteAddress: string | undefined): string | null {
  if (!remoteAddress) return null;
  if (remoteAddress.startsWith('::ffff:') && isIP(remoteAddress.slice(7)) === 4) return remoteAddress.slice(7);
  return remoteAddress.toLowerCase();
}

export class AddressTable<E> {
  private readonly entries = new Map<string, E>();

  constructor(
    private readonly max: number,
    private readonly create: (now: number) => E,
    private readonly isIdle: (entry: E, now: number) => boolean,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `key` if there is one (does not count as use). */
  peek(key: string): E | undefined {
    return this.entries.get(key);
  }

  /** The entry of `key`, created if needed; null when the table is full of busy entries. */
  get(key: string, now: number): E | null {
    const found = this.entries.get(key);
    if (found !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, found);
      return found;
    }
    if (this.entries.size >= this.max && !this.evictOne(now)) return null;
    const entry = this.create(now);
    this.entries.set(key, entry);
    return entry;
  }

  /** Forgets every idle entry. */
  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (this.isIdle(entry, now)) this.entries.delete(key);
  }

  private evictOne(now: number): boolean {
    for (const [key, entry] of this.entries) {
      if (this.isIdle(entry, now)) {
        this.entries.delete(key);
        return true;
      }
    }
    return false;
  }
}
