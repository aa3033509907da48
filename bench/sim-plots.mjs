// SVG line plots for bench/sim-scale.mjs: log or linear axes, solid and dashed series, a legend.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function ticks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) ?? step * 10;
  const out = [];
  for (let v = Math.floor(lo / nice) * nice; v <= hi + 1e-9; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v) => {
  if (v === 0) return '0';
  const e = Math.log10(Math.abs(v));
  if (Number.isInteger(e) && Math.abs(e) >= 3) return `1e${e}`;
  return String(Number(v.toPrecision(3)));
};

/**
 * series: [{ label, color, points: [[x, y]], dash?, marker? }]. Options: xLog, yLog (default both true),
 * width, height. Points with y <= 0 (on a log axis) or non-finite are left out.
 */
export function linePlotSvg(title, xLabel, yLabel, series, { xLog = true, yLog = true, legendWidth = 250, width = 560 + legendWidth, height = 420 } = {}) {
  const m = { l: 70, r: 20 + legendWidth, t: 40, b: 50 };
  const ok = ([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!xLog || x > 0) && (!yLog || y > 0);
  const all = series.flatMap((s) => s.points.filter(ok));
  if (all.length === 0) all.push([1, 1]);
  let x0 = Math.min(...all.map(([x]) => x));
  let x1 = Math.max(...all.map(([x]) => x));
  let y0 = Math.min(...all.map(([, y]) => y));
  let y1 = Math.max(...all.map(([, y]) => y));
  if (xLog) [x0, x1] = [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))];
  if (yLog) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))];
  else [y0, y1] = [Math.min(0, y0), y1 * 1.05 || 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const f = (v, lo, hi, log) => (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo));
  const X = (x) => m.l + f(x, x0, x1, xLog) * (width - m.l - m.r);
  const Y = (y) => m.t + (1 - f(y, y0, y1, yLog)) * (height - m.t - m.b);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n`;
  out += `<rect width="100%" height="100%" fill="white"/>\n<text x="${m.l}" y="20" font-size="14">${esc(title)}</text>\n`;
  for (const t of ticks(y0, y1, yLog)) {
    if (t < y0 || t > y1) continue;
    out += `<line x1="${m.l}" x2="${width - m.r}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#ddd"/><text x="${m.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>\n`;
  }
  for (const t of ticks(x0, x1, xLog)) {
    if (t < x0 || t > x1) continue;
    out += `<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${m.t}" y2="${height - m.b}" stroke="#eee"/><text x="${X(t).toFixed(1)}" y="${height - m.b + 16}" text-anchor="middle">${label(t)}</text>\n`;
  }
  out += `<text x="${(width - legendWidth) / 2}" y="${height - 10}" text-anchor="middle">${esc(xLabel)}</text>\n<text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>\n`;
  out += `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#888"/>\n`;
  series.forEach((s, k) => {
    const pts = s.points.filter(ok).map(([x, y]) => [X(x), Y(y)]);
    const dash = s.dash ? ' stroke-dasharray="5,4"' : '';
    if (pts.length > 1) out += `<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${dash} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>\n`;
    if (s.marker !== false) for (const [x, y] of pts) out += `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.5" fill="${s.dash ? 'white' : s.color}" stroke="${s.color}"/>\n`;
    const ly = m.t + 10 + 16 * k;
    const lx = width - legendWidth + 10;
    out += `<line x1="${lx}" x2="${lx + 25}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text>\n`;
  });
  return out + '</svg>\n';
}
