/**
 * The demo's settings: their bounds, and the validation every value goes
 * through, whether it comes from a control of the page or from the page's
 * query string (`?nodes=100&links=4&weighting=seed&cycle=50&liar=1&seed=7`,
 * so a configuration can be linked to). DOM-free.
 */
import {
  DEMO_DEFAULT_DEGREE,
  DEMO_DEFAULT_NODES,
  DEMO_MAX_DEGREE,
  DEMO_MAX_NODES,
  DEMO_MIN_DEGREE,
  DEMO_MIN_NODES,
  MAX_CYCLE_MS,
  MIN_CYCLE_MS,
} from '../../main/model/limits.js';
import { DEFAULT_WEIGHTING, isWeighting, WEIGHTINGS, type Weighting } from '../../main/model/weights.js';

/** A real node's default period (main/store/schema.ts). */
export const DEFAULT_DEMO_CYCLE_MS = 100;
/** Longest query string value looked at; longer ones are refused unread. */
const MAX_QUERY_VALUE_LENGTH = 32;
/** Query parameters looked at; the page knows six. */
const MAX_QUERY_PARAMS = 16;

export interface DemoSettings {
  readonly nodes: number;
  readonly degree: number;
  readonly weighting: Weighting;
  readonly liar: boolean;
  readonly cycleMs: number;
}

export const DEFAULT_DEMO_SETTINGS: DemoSettings = {
  nodes: DEMO_DEFAULT_NODES,
  degree: DEMO_DEFAULT_DEGREE,
  weighting: DEFAULT_WEIGHTING,
  liar: false,
  cycleMs: DEFAULT_DEMO_CYCLE_MS,
};

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail: string };

/** A decimal integer in [min, max], as typed (no signs, exponents or fractions). */
export function checkInteger(text: string, min: number, max: number, name: string): Checked<number> {
  if (text.length > MAX_QUERY_VALUE_LENGTH || !/^[0-9]{1,10}$/.test(text)) return { ok: false, detail: `${name} must be a whole number ${min}-${max}` };
  const value = Number(text);
  if (value < min || value > max) return { ok: false, detail: `${name} ${value} is outside ${min}-${max}` };
  return { ok: true, value };
}

export function checkNodes(text: string): Checked<number> {
  return checkInteger(text, DEMO_MIN_NODES, DEMO_MAX_NODES, 'nodes');
}

export function checkDegree(text: string): Checked<number> {
  return checkInteger(text, DEMO_MIN_DEGREE, DEMO_MAX_DEGREE, 'links per node');
}

export function checkCycleMs(text: string): Checked<number> {
  return checkInteger(text, MIN_CYCLE_MS, MAX_CYCLE_MS, 'cycle ms');
}

export function checkWeighting(text: string): Checked<Weighting> {
  return isWeighting(text) ? { ok: true, value: text } : { ok: false, detail: `weighting must be one of ${WEIGHTINGS.join(', ')}` };
}

export function checkFlag(text: string, name: string): Checked<boolean> {
  if (text === '1' || text === 'true' || text === 'on') return { ok: true, value: true };
  if (text === '0' || text === 'false' || text === 'off') return { ok: true, value: false };
  return { ok: false, detail: `${name} must be 1 or 0` };
}

/** A seed for the graph and the entropy: an unsigned 32-bit integer. */
export function checkSeed(text: string): Checked<number> {
  return checkInteger(text, 0, 0xffffffff, 'seed');
}

export interface QueryOptions {
  readonly settings: DemoSettings;
  /** Given by ?seed=, else null (the page draws one). */
  readonly seed: number | null;
  /** One line per ignored parameter, for the page to show. */
  readonly problems: readonly string[];
}

/** Reads the query string; what is wrong is ignored with a reason, never fatal. */
export function parseQuery(search: string): QueryOptions {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  let settings: DemoSettings = DEFAULT_DEMO_SETTINGS;
  let seed: number | null = null;
  const seen = new Set<string>();
  let count = 0;
  for (const [key, value] of params) {
    if (++count > MAX_QUERY_PARAMS) {
      problems.push(`more than ${MAX_QUERY_PARAMS} query parameters: the rest are ignored`);
      break;
    }
    if (seen.has(key)) {
      problems.push(`?${key} given twice: the first is used`);
      continue;
    }
    seen.add(key);
    const take = <T>(result: Checked<T>, apply: (v: T) => void): void => {
      if (result.ok) apply(result.value);
      else problems.push(`?${key} ignored: ${result.detail}`);
    };
    switch (key) {
      case 'nodes':
        take(checkNodes(value), (v) => (settings = { ...settings, nodes: v }));
        break;
      case 'links':
        take(checkDegree(value), (v) => (settings = { ...settings, degree: v }));
        break;
      case 'weighting':
        take(checkWeighting(value), (v) => (settings = { ...settings, weighting: v }));
        break;
      case 'cycle':
        take(checkCycleMs(value), (v) => (settings = { ...settings, cycleMs: v }));
        break;
      case 'liar':
        take(checkFlag(value, 'liar'), (v) => (settings = { ...settings, liar: v }));
        break;
      case 'seed':
        take(checkSeed(value), (v) => (seed = v));
        break;
      default:
        problems.push(`?${key.slice(0, MAX_QUERY_VALUE_LENGTH)} ignored: the page knows nodes, links, weighting, cycle, liar and seed`);
    }
  }
  return { settings, seed, problems };
}
