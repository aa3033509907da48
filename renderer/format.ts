/** Text formatting for the dashboard. DOM-free and locale-free (the same output everywhere). */

/**
 * A non-negative measure with at least three significant digits, as plain
 * text that Number() parses back: 0.0523, 1.27, 12.3, 1234, 1.23e-5.
 */
export function formatSig(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (value === 0) return (0).toFixed(digits);
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return value.toFixed(0);
  if (abs < 1e-4) return value.toExponential(digits - 1);
  return value.toPrecision(digits);
}

/** A fixed-decimals number with an explicit sign, e.g. "+0.125" or "-3.400". */
export function formatSigned(value: number, decimals = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const text = Math.abs(value).toFixed(decimals);
  // No "-0.000": a value that rounds to zero has no sign worth showing.
  if (Number(text) === 0) return `\u2007${text}`;
  return `${value < 0 ? '-' : '+'}${text}`;
}

/** A drift position, "(+0.125, -3.400)". */
export function formatPoint(point: readonly [number, number], decimals = 3): string {
  return `(${formatSigned(point[0], decimals)}, ${formatSigned(point[1], decimals)})`;
}

/** A value in 0..1 (vu, tc, intensity) with three decimals. */
export function formatUnit(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '—';
}

/**
 * Node ids look like "ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ" (docs/store.md, "identity"); the
 * first group is enough to tell peers apart on screen.
 */
export function shortId(id: string): string {
  const dash = id.indexOf('-');
  if (dash > 0) return id.slice(0, dash);
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** What to call a node on screen: its name, else its short id. */
export function nodeLabel(name: string | null | undefined, id: string): string {
  const trimmed = (name ?? '').trim();
  return trimmed.length > 0 ? trimmed : shortId(id);
}

/** A duration in ms, short: "850 ms", "4.2 s", "3 min 5 s", "2 h 4 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.max(0, ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 10_000) return `${(abs / 1000).toFixed(1)} s`;
  const s = Math.round(abs / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/** When the next dial happens, relative to now: "now", "in 4.2 s". */
export function formatUntil(at: number | null, now: number): string {
  if (at === null) return 'not scheduled';
  const ms = at - now;
  return ms <= 250 ? 'now' : `in ${formatDuration(ms)}`;
}

/** How long ago a peer was last heard, in its own cycles. */
export function formatLastSeen(cycles: number | null): string {
  if (cycles === null) return 'never';
  if (cycles <= 0) return 'this cycle';
  return cycles === 1 ? '1 cycle ago' : `${cycles} cycles ago`;
}

/** Wall-clock time of a log line, "14:03:27". */
export function formatClock(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Cycles per second, "9.98/s". */
export function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond) ? `${perSecond.toFixed(2)}/s` : '—';
}

/**
 * An address another node can dial to reach this one, from the listen
 * address ("0.0.0.0:7710" says any interface, so the page's own host name
 * stands in for it; failing that, a placeholder the user replaces).
 */
export function dialableAddress(listen: string, pageHostname: string): string {
  const colon = listen.lastIndexOf(':');
  if (colon <= 0) return listen;
  const port = listen.slice(colon + 1);
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const unspecified = host === '' || host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
  if (!unspecified) return listen;
  const page = pageHostname.replace(/^\[|\]$/g, '');
  const stand = page !== '' ? page : 'THIS-MACHINE';
  return stand.includes(':') ? `[${stand}]:${port}` : `${stand}:${port}`;
}

/**
 * The node's /join page (docs/browser-nodes.md) as this page can reach it: a
 * node listening on every address is reached at this page's host, or at
 * 127.0.0.1 from the desktop app (whose page is not served over http).
 */
export function joinPageHref(listen: string, pageHostname: string): string {
  return `http://${dialableAddress(listen, pageHostname === '' ? '127.0.0.1' : pageHostname)}/join`;
}
