/**
 * The drift plane: a devicePixelRatio-aware canvas that draws this node and
 * its peers as dots (colour = entropy intensity), links from this node to
 * each linked peer, faint trails, and a light grid. The rest of the network
 * (nodes known from the network memory) is drawn too: smaller, with the
 * links their records list, faded when stale and hollow when offline. Runs a
 * requestAnimationFrame loop only while started (the app stops it while the
 * page is hidden). The view follows the cloud until the user zooms or pans;
 * "fit" (or a double-click) follows it again.
 */
import { intensityCss, legendStops } from './colour.js';
import { fitCanvas } from './dom.js';
import type { Point } from './interpolate.js';
import { isDirect, type DashboardModel, type PlaneNode } from './model.js';
import {
  fitView,
  formatTick,
  niceStep,
  panBy,
  smoothView,
  ticks,
  visibleBounds,
  wheelFactor,
  worldToScreen,
  zoomAt,
  type Size,
  type View,
} from './view.js';

const COLOURS = {
  background: '#0b0e13',
  grid: 'rgba(140, 160, 190, 0.07)',
  axis: 'rgba(140, 160, 190, 0.22)',
  tickText: 'rgba(150, 165, 190, 0.75)',
  link: 'rgba(140, 175, 215, 0.38)',
  linkStale: 'rgba(140, 175, 215, 0.2)',
  graphLink: 'rgba(140, 175, 215, 0.16)',
  known: 'rgba(170, 185, 210, 0.85)',
  label: 'rgba(216, 222, 233, 0.92)',
  labelDim: 'rgba(216, 222, 233, 0.5)',
  selfRing: 'rgba(255, 255, 255, 0.9)',
};
const FONT = '12px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';
const TICK_FONT = '10px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace';
const DOT_RADIUS = 5.5;
const SELF_RADIUS = 7;
/** Nodes known only from the network memory: no live replica, no intensity. */
const KNOWN_RADIUS = 4;
/** Above this many dots, only this node and its linked peers are labelled. */
const LABEL_KNOWN_MAX = 40;
const BUTTON_ZOOM = 1.5;

export interface PlaneControls {
  zoomIn: HTMLButtonElement;
  zoomOut: HTMLButtonElement;
  fit: HTMLButtonElement;
}

interface Placed {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class PlaneView {
  private view: View | null = null;
  private auto = true;
  private sawNodes = false;
  private raf = 0;
  private lastFrame: number | null = null;
  private size: Size = { width: 1, height: 1 };
  private drag: { pointer: number; x: number; y: number; moved: boolean } | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly model: DashboardModel,
    private readonly controls: PlaneControls,
  ) {
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    canvas.addEventListener('pointermove', (e) => this.onPointerMove(e));
    canvas.addEventListener('pointerup', (e) => this.onPointerUp(e));
    canvas.addEventListener('pointercancel', (e) => this.onPointerUp(e));
    canvas.addEventListener('dblclick', () => this.setAuto(true));
    controls.zoomIn.addEventListener('click', () => this.zoomCentre(BUTTON_ZOOM));
    controls.zoomOut.addEventListener('click', () => this.zoomCentre(1 / BUTTON_ZOOM));
    controls.fit.addEventListener('click', () => this.setAuto(true));
    this.syncFitButton();
  }

  get running(): boolean {
    return this.raf !== 0;
  }

  get autoFit(): boolean {
    return this.auto;
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

  private setAuto(auto: boolean): void {
    this.auto = auto;
    this.syncFitButton();
  }

  private syncFitButton(): void {
    this.controls.fit.setAttribute('aria-pressed', String(this.auto));
  }

  private zoomCentre(factor: number): void {
    const view = this.view;
    if (!view) return;
    this.view = zoomAt(view, this.size, factor, [this.size.width / 2, this.size.height / 2]);
    this.setAuto(false);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    if (!this.view) return;
    this.view = zoomAt(this.view, this.size, wheelFactor(e.deltaY, e.deltaMode), [e.offsetX, e.offsetY]);
    this.setAuto(false);
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.drag = { pointer: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    this.canvas.setPointerCapture(e.pointerId);
  }

  private onPointerMove(e: PointerEvent): void {
    const drag = this.drag;
    if (!drag || drag.pointer !== e.pointerId || !this.view) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 3) return;
    if (!drag.moved) {
      drag.moved = true;
      this.canvas.classList.add('dragging');
      this.setAuto(false);
    }
    drag.x = e.clientX;
    drag.y = e.clientY;
    this.view = panBy(this.view, dx, dy);
  }

  private onPointerUp(e: PointerEvent): void {
    if (!this.drag || this.drag.pointer !== e.pointerId) return;
    this.drag = null;
    this.canvas.classList.remove('dragging');
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
  }

  /** Draws one frame at time `now` (performance.now() clock). */
  draw(now: number): void {
    const fitted = fitCanvas(this.canvas);
    if (!fitted) return;
    const { ctx, width, height } = fitted;
    const size: Size = { width, height };
    this.size = size;
    const dt = this.lastFrame === null ? 0 : now - this.lastFrame;
    this.lastFrame = now;

    const nodes = [...this.model.nodes.values()];
    const shown = new Map<string, Point>();
    const fitPoints: Point[] = [];
    for (const node of nodes) {
      const p = node.glide.at(now);
      shown.set(node.id, p);
      node.trail.sample(p, now);
      fitPoints.push(p, node.glide.target);
    }

    const target = fitView(fitPoints, size);
    // The first frame with dots starts fitted (rather than gliding in from the origin).
    if (this.view === null || (this.auto && !this.sawNodes && nodes.length > 0)) this.view = target;
    else if (this.auto) this.view = smoothView(this.view, target, dt);
    if (nodes.length > 0) this.sawNodes = true;
    const view = this.view;

    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, width, height);
    this.drawGrid(ctx, view, size);

    for (const node of nodes) if (isDirect(node.link)) this.drawTrail(ctx, view, size, node, shown.get(node.id)!);

    // The network beyond our own links, faint and under everything else.
    ctx.save();
    ctx.strokeStyle = COLOURS.graphLink;
    ctx.lineWidth = 1;
    for (const link of this.model.graphLinks()) {
      const pa = shown.get(link.a);
      const pb = shown.get(link.b);
      if (!pa || !pb) continue;
      const a = worldToScreen(view, size, pa);
      const b = worldToScreen(view, size, pb);
      ctx.setLineDash(link.source === 'nbrs' ? [2, 4] : []);
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }
    ctx.restore();

    const selfId = this.model.selfId;
    const selfPos = selfId ? shown.get(selfId) : undefined;
    if (selfPos) {
      const a = worldToScreen(view, size, selfPos);
      for (const node of nodes) {
        if (node.self || !isDirect(node.link)) continue;
        const b = worldToScreen(view, size, shown.get(node.id)!);
        ctx.save();
        ctx.strokeStyle = node.link === 'stale' ? COLOURS.linkStale : COLOURS.link;
        ctx.lineWidth = node.link === 'stale' ? 1 : 1.25;
        if (node.link === 'stale') ctx.setLineDash([4, 5]);
        ctx.beginPath();
        ctx.moveTo(a[0], a[1]);
        ctx.lineTo(b[0], b[1]);
        ctx.stroke();
        ctx.restore();
      }
    }

    // Peers first, this node on top.
    const ordered = [...nodes].sort((a, b) => Number(a.self) - Number(b.self));
    const screen = new Map<string, [number, number]>();
    for (const node of ordered) {
      const s = worldToScreen(view, size, shown.get(node.id)!);
      screen.set(node.id, s);
      this.drawDot(ctx, node, s);
    }
    this.drawLabels(ctx, ordered, screen, size);
  }

  private drawGrid(ctx: CanvasRenderingContext2D, view: View, size: Size): void {
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
      // Keep clear of the corner labels and of the zoom buttons at the top right.
      if (sx < 40 || sx > size.width - 130) continue;
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

  private drawTrail(ctx: CanvasRenderingContext2D, view: View, size: Size, node: PlaneNode, head: Point): void {
    const pts = node.trail.points();
    pts.push(head);
    if (pts.length < 2) return;
    const screen = pts.map((p) => worldToScreen(view, size, p));
    const peak = node.link === 'stale' ? 0.15 : 0.3;
    // Ten alpha bands from faint (oldest) to stronger (newest): few strokes, smooth fade.
    const bands = 10;
    const per = Math.max(1, Math.ceil((screen.length - 1) / bands));
    ctx.save();
    ctx.lineWidth = node.self ? 1.4 : 1.1;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (let start = 0; start < screen.length - 1; start += per) {
      const end = Math.min(screen.length - 1, start + per);
      const age = 1 - end / (screen.length - 1);
      ctx.strokeStyle = intensityCss(node.intensity, peak * (1 - age) ** 1.5);
      ctx.beginPath();
      ctx.moveTo(screen[start]![0], screen[start]![1]);
      for (let i = start + 1; i <= end; i++) ctx.lineTo(screen[i]![0], screen[i]![1]);
      ctx.stroke();
    }
    ctx.restore();
  }

  private drawDot(ctx: CanvasRenderingContext2D, node: PlaneNode, s: [number, number]): void {
    if (!isDirect(node.link)) return this.drawKnownDot(ctx, node, s);
    const r = node.self ? SELF_RADIUS : DOT_RADIUS;
    const dim = node.link === 'stale';
    ctx.save();
    const halo = ctx.createRadialGradient(s[0], s[1], r * 0.5, s[0], s[1], r * 3);
    halo.addColorStop(0, intensityCss(node.intensity, dim ? 0.12 : 0.3));
    halo.addColorStop(1, intensityCss(node.intensity, 0));
    ctx.fillStyle = halo;
    ctx.beginPath();
    ctx.arc(s[0], s[1], r * 3, 0, Math.PI * 2);
    ctx.fill();
    ctx.globalAlpha = dim ? 0.45 : 1;
    ctx.fillStyle = intensityCss(node.intensity);
    ctx.beginPath();
    ctx.arc(s[0], s[1], r, 0, Math.PI * 2);
    ctx.fill();
    if (node.self) {
      ctx.strokeStyle = COLOURS.selfRing;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(s[0], s[1], r + 2.5, 0, Math.PI * 2);
      ctx.stroke();
    } else if (dim) {
      ctx.globalAlpha = 0.8;
      ctx.strokeStyle = COLOURS.labelDim;
      ctx.setLineDash([2, 2]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(s[0], s[1], r + 2, 0, Math.PI * 2);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** A node known from the network memory: a small grey dot, faded when stale, a hollow ring when offline. */
  private drawKnownDot(ctx: CanvasRenderingContext2D, node: PlaneNode, s: [number, number]): void {
    ctx.save();
    ctx.globalAlpha = node.link === 'known' ? 1 : node.link === 'known-stale' ? 0.4 : 0.7;
    ctx.beginPath();
    ctx.arc(s[0], s[1], KNOWN_RADIUS, 0, Math.PI * 2);
    if (node.link === 'offline') {
      ctx.strokeStyle = COLOURS.known;
      ctx.lineWidth = 1.25;
      ctx.stroke();
    } else {
      ctx.fillStyle = COLOURS.known;
      ctx.fill();
    }
    ctx.restore();
  }

  /** Labels beside their dots, moved to another side when they would overlap one already placed. */
  private drawLabels(ctx: CanvasRenderingContext2D, nodes: PlaneNode[], screen: Map<string, [number, number]>, size: Size): void {
    ctx.save();
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const placed: Placed[] = [];
    for (const node of nodes) {
      const s = screen.get(node.id);
      const r = (node.self ? SELF_RADIUS + 3 : DOT_RADIUS) + 1;
      if (s) placed.push({ x: s[0] - r, y: s[1] - r, w: 2 * r, h: 2 * r });
    }
    // This node's label first so it gets the best spot.
    const order = [...nodes].sort((a, b) => Number(b.self) - Number(a.self));
    for (const node of order) {
      const s = screen.get(node.id);
      if (!s) continue;
      // A large network's known nodes go unlabelled: their names would cover the plane.
      if (!isDirect(node.link) && nodes.length > LABEL_KNOWN_MAX) continue;
      const text = node.self ? `${node.label} (this node)` : node.link === 'offline' ? `${node.label} (offline)` : node.label;
      const font = node.self ? `600 ${FONT}` : FONT;
      ctx.font = font;
      const w = ctx.measureText(text).width;
      const h = 14;
      const gap = node.self ? SELF_RADIUS + 7 : DOT_RADIUS + 6;
      const candidates: Placed[] = [
        { x: s[0] + gap, y: s[1] - h / 2, w, h },
        { x: s[0] - gap - w, y: s[1] - h / 2, w, h },
        { x: s[0] - w / 2, y: s[1] - gap - h, w, h },
        { x: s[0] - w / 2, y: s[1] + gap, w, h },
        { x: s[0] + gap, y: s[1] - h * 1.5, w, h },
        { x: s[0] + gap, y: s[1] + h * 0.5, w, h },
      ];
      const inside = (c: Placed) => c.x >= 2 && c.y >= 2 && c.x + c.w <= size.width - 2 && c.y + c.h <= size.height - 2;
      const free = (c: Placed) => !placed.some((p) => c.x < p.x + p.w && c.x + c.w > p.x && c.y < p.y + p.h && c.y + c.h > p.y);
      const spot = candidates.find((c) => inside(c) && free(c)) ?? candidates.find(inside) ?? candidates[0]!;
      placed.push(spot);
      ctx.fillStyle = node.link === 'stale' || node.link === 'known-stale' || node.link === 'offline' ? COLOURS.labelDim : COLOURS.label;
      ctx.fillText(text, spot.x, spot.y + h / 2);
    }
    ctx.restore();
  }
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
