// Shared helpers of the bench: results rows (met computed from the target text), percentiles, SVG plots.
import { loadavg } from 'node:os';

/** Parses a target like "<= 1.2", "< 5", ">= 25000000", "0.8..1.2" and checks value against it. */
export function meets(value, target) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  const range = /^\s*([-\d.e+]+)\s*\.\.\s*([-\d.e+]+)\s*$/.exec(target);
  if (range) return value >= Number(range[1]) && value <= Number(range[2]);
  const m = /^\s*(<=|>=|<|>)\s*([-\d.e+]+)\s*$/.exec(target);
  if (!m) throw new Error(`bench: cannot read target ${JSON.stringify(target)}`);
  const t = Number(m[2]);
  switch (m[1]) {
    case '<=': return value <= t;
    case '>=': return value >= t;
    case '<': return value < t;
    default: return value > t;
  }
}

export class Results {
  rows = [];
  /** target null: an informational row (no target, met null). */
  add(row, name, unit, value, target, extra = {}) {
    const r = { row, name, unit, value, target, met: target == null ? null : meets(value, target), ...extra };
    this.rows.push(r);
    const t = target == null ? '' : ` (target ${target}: ${r.met ? 'met' : 'MISSED'})`;
    const b = extra.baseline !== undefined ? ` [${extra.baselineName}: ${fmt(extra.baseline)}]` : '';
    console.log(`  ${name}: ${fmt(value)} ${unit}${t}${b}`);
    return r;
  }
}

export function fmt(v) {
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

export function percentile(values, q) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[idx];
}

export function load() {
  return loadavg().map((x) => Number(x.toFixed(2)));
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A line plot with a log y axis; series: [{label, color, points: [[x, y]], dash?}]. */
export function logPlotSvg(title, xLabel, yLabel, series, { width = 640, height = 400 } = {}) {
  const m = { l: 70, r: 20, t: 40, b: 50 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => y > 0 && Number.isFinite(y));
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const yMin = Math.min(...all.map(([, y]) => y));
  const yMax = Math.max(...all.map(([, y]) => y));
  const ly0 = Math.floor(Math.log10(yMin));
  const ly1 = Math.ceil(Math.log10(yMax));
  const X = (x) => m.l + (x / xMax) * (width - m.l - m.r);
  const Y = (y) => m.t + (1 - (Math.log10(y) - ly0) / Math.max(1, ly1 - ly0)) * (height - m.t - m.b);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n`;
  out += `<rect width="100%" height="100%" fill="white"/>\n<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>\n`;
  for (let e = ly0; e <= ly1; e++) {
    out += `<line x1="${m.l}" x2="${width - m.r}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${m.l - 6}" y="${Y(10 ** e) + 4}" text-anchor="end">1e${e}</text>\n`;
  }
  for (let i = 0; i <= 5; i++) {
    const x = (xMax * i) / 5;
    out += `<text x="${X(x)}" y="${height - m.b + 16}" text-anchor="middle">${Math.round(x)}</text>\n`;
  }
  out += `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>\n<text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>\n`;
  out += `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#888"/>\n`;
  series.forEach((s, k) => {
    const pts = s.points.filter(([, y]) => y > 0 && Number.isFinite(y)).map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    out += `<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ' stroke-dasharray="5,4"' : ''} points="${pts}"/>\n`;
    out += `<line x1="${width - m.r - 230}" x2="${width - m.r - 205}" y1="${m.t + 16 + 16 * k}" y2="${m.t + 16 + 16 * k}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,4"' : ''}/><text x="${width - m.r - 200}" y="${m.t + 20 + 16 * k}">${esc(s.label)}</text>\n`;
  });
  return out + '</svg>\n';
}

/** Histograms (log-spaced bins in ms) of several latency sample sets. */
export function histogramSvg(title, sets, { width = 640, height = 360, minMs = 0.01, maxMs = 2000 } = {}) {
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const bins = 40;
  const l0 = Math.log10(minMs);
  const l1 = Math.log10(maxMs);
  const counts = sets.map((s) => {
    const c = new Array(bins).fill(0);
    for (const v of s.values) c[Math.min(bins - 1, Math.max(0, Math.floor(((Math.log10(Math.max(v, minMs)) - l0) / (l1 - l0)) * bins)))]++;
    return c.map((x) => x / Math.max(1, s.values.length));
  });
  const yMax = Math.max(0.01, ...counts.flat());
  const X = (b) => m.l + (b / bins) * (width - m.l - m.r);
  const Y = (f) => m.t + (1 - f / yMax) * (height - m.t - m.b);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n`;
  out += `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>\n`;
  for (let e = Math.ceil(l0); e <= Math.floor(l1); e++) {
    const x = X(((e - l0) / (l1 - l0)) * bins);
    out += `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${height - m.b}" stroke="#ddd"/><text x="${x}" y="${height - m.b + 16}" text-anchor="middle">${10 ** e} ms</text>\n`;
  }
  out += `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">one-way latency (log scale)</text><text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">fraction of samples</text>\n`;
  out += `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#888"/>\n`;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  counts.forEach((c, k) => {
    const w = (width - m.l - m.r) / bins / sets.length;
    c.forEach((f, b) => {
      if (f > 0) out += `<rect x="${(X(b) + k * w).toFixed(1)}" y="${Y(f).toFixed(1)}" width="${w.toFixed(1)}" height="${(height - m.b - Y(f)).toFixed(1)}" fill="${colors[k % 4]}" opacity="0.8"/>\n`;
    });
    out += `<rect x="${width - m.r - 250}" y="${m.t + 8 + 16 * k}" width="12" height="10" fill="${colors[k % 4]}"/><text x="${width - m.r - 232}" y="${m.t + 17 + 16 * k}">${esc(sets[k].label)}</text>\n`;
  });
  return out + '</svg>\n';
}

/** A line plot with linear axes from 0 and a marker at every point; series: [{label, color, points: [[x, y]]}]; notes: lines under the legend. */
export function linePlotSvg(title, xLabel, yLabel, series, { width = 640, height = 400, notes = [] } = {}) {
  const m = { l: 70, r: 20, t: 40, b: 50 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMax = Math.max(1, ...all.map(([x]) => x)) * 1.12;
  const yMax = Math.max(1e-9, ...all.map(([, y]) => y)) * 1.15;
  const X = (x) => m.l + (x / xMax) * (width - m.l - m.r);
  const Y = (y) => m.t + (1 - y / yMax) * (height - m.t - m.b);
  const ticks = (max) => {
    const step = 10 ** Math.floor(Math.log10(max / 5));
    const nice = [1, 2, 5, 10].map((f) => f * step).find((s) => max / s <= 6);
    return Array.from({ length: Math.floor(max / nice) + 1 }, (_, i) => i * nice);
  };
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n`;
  out += `<rect width="100%" height="100%" fill="white"/>\n<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>\n`;
  for (const y of ticks(yMax)) {
    out += `<line x1="${m.l}" x2="${width - m.r}" y1="${Y(y).toFixed(1)}" y2="${Y(y).toFixed(1)}" stroke="#ddd"/><text x="${m.l - 6}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end">${Number(y.toPrecision(3))}</text>\n`;
  }
  for (const x of ticks(xMax)) {
    out += `<text x="${X(x).toFixed(1)}" y="${height - m.b + 16}" text-anchor="middle">${Number(x.toPrecision(3))}</text>\n`;
  }
  out += `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>\n<text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>\n`;
  out += `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#888"/>\n`;
  series.forEach((s, k) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    out += `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>\n`;
    for (const [x, y] of pts) out += `<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${s.color}"/><text x="${(X(x) + 5).toFixed(1)}" y="${(Y(y) + (k % 2 === 0 ? -6 : 16)).toFixed(1)}" fill="${s.color}">${Number(y.toPrecision(3))}</text>\n`;
    out += `<line x1="${width - m.r - 250}" x2="${width - m.r - 225}" y1="${m.t + 16 + 16 * k}" y2="${m.t + 16 + 16 * k}" stroke="${s.color}" stroke-width="2"/><text x="${width - m.r - 220}" y="${m.t + 20 + 16 * k}">${esc(s.label)}</text>\n`;
  });
  notes.forEach((note, i) => {
    out += `<text x="${width - m.r - 250}" y="${m.t + 20 + 16 * (series.length + i)}" fill="#555">${esc(note)}</text>\n`;
  });
  return out + '</svg>\n';
}
