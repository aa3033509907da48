/**
 * Window size and position, kept in `<userData>/window-state.json`: a file
 * of its own, so the node store (lvs-node.json, shared with the headless
 * node) keeps exactly its schema. Whatever is in the file is checked before
 * use, and the window is moved back onto a display if it would open off-screen
 * (a monitor unplugged since, a resolution change, a hand-edited file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const WINDOW_STATE_FILE = 'window-state.json';
export const MIN_WIDTH = 640;
export const MIN_HEIGHT = 420;
export const DEFAULT_WIDTH = 1200;
export const DEFAULT_HEIGHT = 800;
const MAX_SIZE = 16384;
const MAX_OFFSET = 100000;
/** At least this much of the window (in px, each way) must lie on a display, or it is recentred. */
const MIN_VISIBLE = 120;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the window manager place it. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

/** The slice of Electron's `screen` this module needs. */
export interface ScreenLike {
  getDisplayMatching(rect: Rect): { workArea: Rect };
  getPrimaryDisplay(): { workArea: Rect };
}

const offset = z.number().int().min(-MAX_OFFSET).max(MAX_OFFSET);
const windowStateSchema = z.object({
  x: offset.optional(),
  y: offset.optional(),
  width: z.number().int().min(MIN_WIDTH).max(MAX_SIZE),
  height: z.number().int().min(MIN_HEIGHT).max(MAX_SIZE),
  maximized: z.boolean().default(false),
});

export const DEFAULT_WINDOW_STATE: Readonly<WindowState> = Object.freeze({
  width: DEFAULT_WIDTH,
  height: DEFAULT_HEIGHT,
  maximized: false,
});

/** Any value in, a usable state out: garbage falls back to the defaults. */
export function parseWindowState(raw: unknown): WindowState {
  const parsed = windowStateSchema.safeParse(raw);
  if (!parsed.success) return { ...DEFAULT_WINDOW_STATE };
  const { x, y, width, height, maximized } = parsed.data;
  // A position needs both coordinates.
  return x !== undefined && y !== undefined ? { x, y, width, height, maximized } : { width, height, maximized };
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Shrinks the window to the display it is mostly on and, if too little of it
 * (or none) would be visible there, centres it on that display.
 */
export function fitToDisplay(state: WindowState, screen: ScreenLike): WindowState {
  if (state.x === undefined || state.y === undefined) {
    const area = screen.getPrimaryDisplay().workArea;
    return {
      ...state,
      width: Math.max(Math.min(state.width, area.width), Math.min(MIN_WIDTH, area.width)),
      height: Math.max(Math.min(state.height, area.height), Math.min(MIN_HEIGHT, area.height)),
    };
  }
  const rect: Rect = { x: state.x, y: state.y, width: state.width, height: state.height };
  const area = screen.getDisplayMatching(rect).workArea;
  const width = Math.min(state.width, area.width);
  const height = Math.min(state.height, area.height);
  const seen = overlap({ ...rect, width, height }, area);
  // Enough of it on screen, and the title bar not above the work area's top edge (it could not be dragged back).
  if (seen.width >= Math.min(MIN_VISIBLE, width) && seen.height >= Math.min(MIN_VISIBLE, height) && state.y >= area.y) {
    return { ...state, width, height };
  }
  return {
    ...state,
    width,
    height,
    x: Math.round(area.x + (area.width - width) / 2),
    y: Math.round(area.y + (area.height - height) / 2),
  };
}

/** Reads, validates and fits the saved state; a missing or broken file gives the defaults. */
export function loadWindowState(dir: string, screen: ScreenLike): WindowState {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.join(dir, WINDOW_STATE_FILE), 'utf8'));
  } catch {
    raw = undefined;
  }
  return fitToDisplay(parseWindowState(raw), screen);
}

/** Writes atomically (temp file + rename); failing to remember a window size is not worth an error. */
export function saveWindowState(dir: string, bounds: Rect, maximized: boolean): boolean {
  const state = parseWindowState({
    x: Math.round(bounds.x),
    y: Math.round(bounds.y),
    width: Math.round(bounds.width),
    height: Math.round(bounds.height),
    maximized,
  });
  const file = path.join(dir, WINDOW_STATE_FILE);
  const temp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    fs.renameSync(temp, file);
    return true;
  } catch {
    fs.rmSync(temp, { force: true });
    return false;
  }
}
