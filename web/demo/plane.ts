/**
 * The demo's drift plane: every simulated node as a dot coloured by its
 * entropy intensity (the dashboard's scale, renderer/colour.ts), its links
 * as faint lines, the honest centroid as a small cross and the liar, when
 * on, ringed in red. Dots glide between cycles (renderer/interpolate.ts) and
 * the view follows the cloud as the dashboard's does (renderer/view.ts).
 * Draws only while started (the page stops it while hidden).
 */
import { intensityCss, legendStops } from '../../renderer/colour.js';
import { fitCanvas } from '../../renderer/dom.js';
import { Glide, type Point } from '../../renderer/interpolate.js';
import { fitView, formatTick, niceStep, smoothView, ticks, visibleBounds, worldToScreen, type Size, type View } from '../../renderer/view.js';
import type { DemoNetwork } from './network.js';

const COLOURS = {
  background: '#0b0e13',
  grid: 'rgba(140, 160, 190, 0.07)',
  axis: 'rgba(140, 160, 190, 0.22)',
  tickText: 'rgba(150, 165, 190, 0.75)',
  link: 'rgba(140, 175, 215, 0.11)',
  liarLink: 'rgba(239, 123, 107, 0.45)',
  liar: 'rgb(239, 123, 107)',
  centroid: 'rgba(216, 222, 233, 0.7)',
  label: 'rgba(216, 222, 233, 0.92)',
};
const TICK_FONT = '10px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace';
const LABEL_FONT = '12px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';

/** Dot radius in CSS pixels: smaller dots for bigger networks, so a converged cloud stays readable. */
function dotRadius(n: number): number {
  return n <= 50 ? 5 : n <= 100 ? 4 : 3.2;
}

export class DemoPlane {
  private glides: Glide[] = [];
  private view: View | null = null;
  private raf = 0;
  private lastFrame: number | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly network: DemoNetwork,
    private readonly cycleMs: () => number,
  ) {}

  /** Sends every dot toward its node's current drift; call after each cycle and after a rebuild. */
  update(now: number): void {
    const n = this.network.nodeCount;
    if (this.glides.length > n) this.glides.length = n;
    for (let i = 0; i < n; i++) {
      const p = this.network.position(i);
      const target: Point = [p[0], p[1]];
      const glide = this.glides[i];
      if (glide) glide.retarget(target, now, this.cycleMs());
      else this.glides[i] = new Glide(target, now, this.cycleMs());
    }
  }

  start(): void {
    if (this.raf !== 0) return;
    this.lastFrame = null;
    this.raf = requestAnimationFrame(this.frame);
  }

  stop(): void {
    if (this.raf !== 0) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  private readonly frame = (now: number): void => {
    this.raf = 0;
    try {
      this.draw(now);
    } finally {
      this.raf = requestAnimationFrame(this.frame);
    }
  };

  /** Draws one frame at `now` (performance.now() clock). */
  draw(now: number): void {
    const fitted = fitCanvas(this.canvas);
    if (!fitted) return;
    const { ctx, width, height } = fitted;
    const size: Size = { width, height };
    const dt = this.lastFrame === null ? 0 : now - this.lastFrame;
    this.lastFrame = now;

    const shown = this.glides.map((g) => g.at(now));
    const fitPoints: Point[] = [...shown, ...this.glides.map((g) => g.target)];
    const target = fitView(fitPoints, size);
    this.view = this.view === null ? target : smoothView(this.view, target, dt);
    const view = this.view;
    const screen = shown.map((p) => worldToScreen(view, size, p));

    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, width, height);
    drawGrid(ctx, view, size);

    const network = this.network;
    ctx.save();
    ctx.lineWidth = 1;
    ctx.strokeStyle = COLOURS.link;
    ctx.beginPath();
    const liarLinks: [number, number][] = [];
    for (const [a, b] of network.links()) {
      const sa = screen[a];
      const sb = screen[b];
      if (!sa || !sb) continue;
      if (network.isLiar(a) || network.isLiar(b)) {
        liarLinks.push([a, b]);
        continue;
      }
      ctx.moveTo(sa[0], sa[1]);
      ctx.lineTo(sb[0], sb[1]);
    }
    ctx.stroke();
    if (liarLinks.length > 0) {
      ctx.strokeStyle = COLOURS.liarLink;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      for (const [a, b] of liarLinks) {
        ctx.moveTo(screen[a]![0], screen[a]![1]);
        ctx.lineTo(screen[b]![0], screen[b]![1]);
      }
      ctx.stroke();
    }
    ctx.restore();

    // The honest centroid of the dots as shown, so the cross glides with them.
    let mx = 0;
    let my = 0;
    let honest = 0;
    for (let i = 0; i < shown.length; i++) {
      if (network.isLiar(i)) continue;
      mx += shown[i]![0];
      my += shown[i]![1];
      honest++;
    }
    const [cx, cy] = worldToScreen(view, size, honest > 0 ? [mx / honest, my / honest] : [0, 0]);
    ctx.save();
    ctx.strokeStyle = COLOURS.centroid;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    ctx.moveTo(cx - 6, cy);
    ctx.lineTo(cx + 6, cy);
    ctx.moveTo(cx, cy - 6);
    ctx.lineTo(cx, cy + 6);
    ctx.stroke();
    ctx.restore();

    const r = dotRadius(screen.length);
    let liar: [number, number] | null = null;
    for (let i = 0; i < screen.length; i++) {
      const s = screen[i]!;
      if (network.isLiar(i)) {
        liar = s;
        continue;
      }
      const intensity = network.intensityOf(i);
      ctx.fillStyle = intensityCss(intensity, 0.16);
      ctx.beginPath();
      ctx.arc(s[0], s[1], r * 2.4, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = intensityCss(intensity);
      ctx.beginPath();
      ctx.arc(s[0], s[1], r, 0, Math.PI * 2);
      ctx.fill();
    }
    if (liar) {
      ctx.save();
      ctx.fillStyle = COLOURS.liar;
      ctx.beginPath();
      ctx.arc(liar[0], liar[1], r + 1, 0, Math.PI * 2);
      ctx.fill();
      ctx.strokeStyle = COLOURS.liar;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(liar[0], liar[1], r + 5, 0, Math.PI * 2);
      ctx.stroke();
      ctx.font = LABEL_FONT;
      ctx.fillStyle = COLOURS.label;
      ctx.textBaseline = 'middle';
      ctx.fillText('liar', liar[0] + r + 10, liar[1]);
      ctx.restore();
    }
  }
}

function drawGrid(ctx: CanvasRenderingContext2D, view: View, size: Size): void {
  const b = visibleBounds(view, size);
  const step = niceStep(b.maxX - b.minX, Math.max(2, size.width / 120));
  const xs = ticks(b.minX, b.maxX, step);
  const ys = ticks(b.minY, b.maxY, step);
  ctx.save();
  ctx.lineWidth = 1;
  for (const x of xs) {
    const [sx] = worldToScreen(view, size, [x, 0]);
    ctx.strokeStyle = x === 0 ? COLOURS.axis : COLOURS.grid;
    ctx.beginPath();
    ctx.moveTo(Math.round(sx) + 0.5, 0);
    ctx.lineTo(Math.round(sx) + 0.5, size.height);
    ctx.stroke();
  }
  for (const y of ys) {
    const [, sy] = worldToScreen(view, size, [0, y]);
    ctx.strokeStyle = y === 0 ? COLOURS.axis : COLOURS.grid;
    ctx.beginPath();
    ctx.moveTo(0, Math.round(sy) + 0.5);
    ctx.lineTo(size.width, Math.round(sy) + 0.5);
    ctx.stroke();
  }
  ctx.font = TICK_FONT;
  ctx.fillStyle = COLOURS.tickText;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'center';
  for (const x of xs) {
    const [sx] = worldToScreen(view, size, [x, 0]);
    if (sx < 40 || sx > size.width - 40) continue;
    ctx.fillText(formatTick(x, step), sx, 6);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const y of ys) {
    const [, sy] = worldToScreen(view, size, [0, y]);
    if (sy < 28 || sy > size.height - 20) continue;
    ctx.fillText(formatTick(y, step), 6, sy);
  }
  ctx.restore();
}

/** Paints the intensity legend bar from the same colour scale as the dots. */
export function drawLegend(canvas: HTMLCanvasElement): void {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  const gradient = ctx.createLinearGradient(0, 0, width, 0);
  for (const [offset, colour] of legendStops()) gradient.addColorStop(offset, colour);
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, width, height);
}
