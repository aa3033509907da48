/** The dashboard's log lines (renderer/log-book.ts): time order whatever the arrival order, replays not kept twice. */
import { describe, expect, it } from 'vitest';
import { LogBook } from '../renderer/log-book.js';
import { DashboardModel, LOG_CAPACITY } from '../renderer/model.js';

const messages = (book: LogBook) => book.toArray().map((e) => e.message);

describe('LogBook', () => {
  it('keeps lines oldest first when a newer one arrives before older ones', () => {
    const book = new LogBook(10);
    book.add('info', 'connected to the node', 5_000);
    // The node's recent lines, replayed after the page's own line.
    book.add('info', 'listening', 1_000);
    book.add('info', 'linked to beta', 2_000);
    book.add('warn', 'beta is stale', 3_000);
    book.add('info', 'a live line', 6_000);
    expect(messages(book)).toEqual(['listening', 'linked to beta', 'beta is stale', 'connected to the node', 'a live line']);
    const times = book.toArray().map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps lines of one millisecond in the order they came', () => {
    const book = new LogBook(10);
    for (const m of ['first', 'second', 'third']) book.add('info', m, 100);
    book.add('info', 'earlier', 99);
    expect(messages(book)).toEqual(['earlier', 'first', 'second', 'third']);
  });

  it('does not keep a replayed line twice (a reconnect replays what the page holds)', () => {
    const book = new LogBook(10);
    const replay = () => {
      book.add('info', 'listening', 1_000);
      book.add('info', 'linked to beta', 2_000);
    };
    replay();
    book.add('info', 'reconnected to the node', 9_000);
    const version = book.version;
    replay();
    expect(book.version).toBe(version);
    expect(messages(book)).toEqual(['listening', 'linked to beta', 'reconnected to the node']);
    // The same text at another time, or at another level, is another line.
    expect(book.add('info', 'listening', 1_001)).not.toBeNull();
    expect(book.add('warn', 'listening', 1_000)).not.toBeNull();
    expect(book.length).toBe(5);
  });

  it('holds the newest `capacity` lines by time, and a line older than all of a full book is dropped', () => {
    const book = new LogBook(3);
    for (let i = 1; i <= 5; i++) book.add('info', `line ${i}`, i * 10);
    expect(messages(book)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(book.add('info', 'ancient', 1)).toBeNull();
    expect(messages(book)).toEqual(['line 3', 'line 4', 'line 5']);
    book.add('info', 'between', 35);
    expect(messages(book)).toEqual(['between', 'line 4', 'line 5']);
    // A dropped line is forgotten, so it may come back (it is older than the book then, though).
    expect(book.add('info', 'line 5', 50)).toBeNull();
  });

  it('gives every line its own arrival number, and puts a line without a usable time last', () => {
    const book = new LogBook(5);
    const a = book.add('info', 'a', 10)!;
    const b = book.add('info', 'b', Number.NaN)!;
    expect(b.at).toBe(10);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(messages(book)).toEqual(['a', 'b']);
    book.clear();
    expect(book.length).toBe(0);
    expect(() => new LogBook(0)).toThrow(RangeError);
  });
});

describe('the dashboard model\'s log', () => {
  it('shows a late dashboard\'s replayed lines before its own "connected" line, and a second replay changes nothing', () => {
    const m = new DashboardModel();
    m.addLog('info', 'connected to the node (ws://127.0.0.1:7710/bridge)', 50_000);
    const replayed = Array.from({ length: 20 }, (_, i) => ({ type: 'log' as const, level: 'info' as const, message: `node line ${i}`, at: 10_000 + i * 100 }));
    for (const e of replayed) m.applyEvent(e, 0);
    m.applyEvent({ type: 'log', level: 'info', message: 'live', at: 51_000 }, 0);
    const revision = m.revision;
    for (const e of replayed) m.applyEvent(e, 0);
    expect(m.revision).toBe(revision);
    const lines = m.logs.toArray().map((e) => e.message);
    expect(lines).toEqual([...replayed.map((e) => e.message), 'connected to the node (ws://127.0.0.1:7710/bridge)', 'live']);
    expect(m.logs.length).toBeLessThanOrEqual(LOG_CAPACITY);
  });
});
