/** Tiny DOM helpers: find the page's fixed elements, make small ones. No innerHTML anywhere. */

/** The element with this id, of this type; throws at start-up if the page and the code disagree. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`dashboard page is missing #${id} (${type.name})`);
  return el;
}

export interface ElOptions {
  className?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, options: ElOptions = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title !== undefined) node.title = options.title;
  if (options.attrs) for (const [k, v] of Object.entries(options.attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

/** Sets text only when it changed (keeps selections and avoids layout work). */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Sets an attribute only when it changed. */
export function setAttr(node: Element, name: string, value: string): void {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/**
 * Sizes a canvas's backing store to its CSS box times devicePixelRatio and
 * returns a context scaled so drawing happens in CSS pixels.
 */
export function fitCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } | null {
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, Math.round(rect.width));
  const height = Math.max(1, Math.round(rect.height));
  const dpr = Math.max(1, Math.min(4, window.devicePixelRatio || 1));
  const bw = Math.round(width * dpr);
  const bh = Math.round(height * dpr);
  if (canvas.width !== bw || canvas.height !== bh) {
    canvas.width = bw;
    canvas.height = bh;
  }
  ctx.setTransform(bw / width, 0, 0, bh / height, 0, 0);
  return { ctx, width, height };
}

/** The host name the page was loaded from, when that is a network address (not Electron's app protocol). */
export function pageHostname(): string {
  return location.protocol === 'http:' || location.protocol === 'https:' ? location.hostname : '';
}
