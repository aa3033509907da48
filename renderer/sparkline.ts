/** Draws the spread history as a log-scale sparkline on a small canvas. */
import { fitCanvas } from './dom.js';
import { formatSig } from './format.js';
import { sparkPoints, sparkScale, type SpreadHistory } from './spread-history.js';

const LINE = 'rgba(98, 182, 224, 0.95)';
const FILL_TOP = 'rgba(98, 182, 224, 0.22)';
const FILL_BOTTOM = 'rgba(98, 182, 224, 0.0)';
const GUIDE = 'rgba(140, 160, 190, 0.12)';
const TEXT = 'rgba(150, 165, 190, 0.8)';

/**
 * Paints the history; returns "min – max" of what is shown (for a caption),
 * or an empty string while there is nothing to show.
 */
export function drawSparkline(canvas: HTMLCanvasElement, history: SpreadHistory, now: number, spanMs: number, emptyText = 'collecting…'): string {
  const fitted = fitCanvas(canvas);
  if (!fitted) return '';
  const { ctx, width, height } = fitted;
  ctx.clearRect(0, 0, width, height);
  const samples = history.samples();
  const scale = sparkScale(samples.map((s) => s.value));
  if (!scale || samples.length === 0) {
    ctx.fillStyle = TEXT;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillText(emptyText, 8, height / 2);
    return '';
  }
  // Decade guides (0.01, 0.1, 1, ...) inside the range.
  ctx.strokeStyle = GUIDE;
  ctx.lineWidth = 1;
  ctx.font = '9px ui-monospace, "DejaVu Sans Mono", monospace';
  ctx.fillStyle = TEXT;
  ctx.textBaseline = 'middle';
  const pad = 3;
  const h = height - 2 * pad;
  for (let d = Math.ceil(scale.logMin); d <= Math.floor(scale.logMax); d++) {
    const y = Math.round(pad + (1 - (d - scale.logMin) / (scale.logMax - scale.logMin)) * h) + 0.5;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(width, y);
    ctx.stroke();
    ctx.fillText(formatDecade(d), 4, y - 6 < 4 ? y + 6 : y - 6);
  }
  const pts = sparkPoints(samples, width, height, spanMs, scale, now, pad);
  if (pts.length === 0) return '';
  const grad = ctx.createLinearGradient(0, 0, 0, height);
  grad.addColorStop(0, FILL_TOP);
  grad.addColorStop(1, FILL_BOTTOM);
  ctx.beginPath();
  ctx.moveTo(pts[0]![0], height);
  for (const [x, y] of pts) ctx.lineTo(x, y);
  ctx.lineTo(pts[pts.length - 1]![0], height);
  ctx.closePath();
  ctx.fillStyle = grad;
  ctx.fill();
  ctx.beginPath();
  pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
  ctx.strokeStyle = LINE;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  ctx.stroke();
  const [lx, ly] = pts[pts.length - 1]!;
  ctx.fillStyle = LINE;
  ctx.beginPath();
  ctx.arc(Math.min(lx, width - 3), ly, 2.5, 0, Math.PI * 2);
  ctx.fill();
  const values = samples.map((s) => s.value);
  return `min ${formatSig(Math.min(...values))} · max ${formatSig(Math.max(...values))} (log)`;
}

function formatDecade(d: number): string {
  return d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d);
}
