/**
 * Local checks of the settings form: catch the obvious (not a number, a
 * fraction where an integer belongs, a cycle outside 50-200 ms) before a
 * round trip. The main process validates again and is the authority; its
 * error line is what the form shows when the two disagree. DOM-free.
 */
import type { Settings } from '../main/bridge/api.js';
import { MAX_CYCLE_MS, MAX_NAME_LENGTH, MAX_PEERS_CEILING, MIN_CYCLE_MS } from '../main/model/limits.js';

/** The form fields, in the order the form shows them. */
export const SETTINGS_FIELDS = ['name', 'cycleMs', 'alpha', 'beta', 'gamma', 'port', 'maxPeers', 'discovery'] as const satisfies readonly (keyof Settings)[];
export type SettingsField = (typeof SETTINGS_FIELDS)[number];

/** What the form holds: text for every input, a flag for the checkbox. */
export type SettingsFormValues = { [K in Exclude<SettingsField, 'discovery'>]: string } & { discovery: boolean };

export type SettingsCheck =
  | { ok: true; patch: Partial<Settings> }
  | { ok: false; field: SettingsField; error: string };

interface NumberRule {
  integer: boolean;
  min: number;
  /** Upper bounds the UI is sure of; the others are left to the main process. */
  max?: number;
  what: string;
}

const NUMBER_RULES: Record<Exclude<SettingsField, 'name' | 'discovery'>, NumberRule> = {
  cycleMs: { integer: true, min: MIN_CYCLE_MS, max: MAX_CYCLE_MS, what: `an integer from ${MIN_CYCLE_MS} to ${MAX_CYCLE_MS} (milliseconds)` },
  alpha: { integer: false, min: 0, what: 'a number of at least 0' },
  beta: { integer: false, min: 0, what: 'a number of at least 0' },
  gamma: { integer: false, min: 0, what: 'a number of at least 0' },
  port: { integer: true, min: 0, max: 65535, what: 'an integer from 0 to 65535 (0 = any free port)' },
  maxPeers: { integer: true, min: 1, max: MAX_PEERS_CEILING, what: `an integer from 1 to ${MAX_PEERS_CEILING}` },
};

/** Settings as the form shows them (numbers as plain text). */
export function settingsToForm(settings: Settings): SettingsFormValues {
  return {
    name: settings.name,
    cycleMs: String(settings.cycleMs),
    alpha: String(settings.alpha),
    beta: String(settings.beta),
    gamma: String(settings.gamma),
    port: String(settings.port),
    maxPeers: String(settings.maxPeers),
    discovery: settings.discovery,
  };
}

/**
 * Checks the form and returns the fields that differ from `loaded` (all of
 * them when nothing was loaded), or the first problem as one line.
 */
export function checkSettingsForm(values: SettingsFormValues, loaded: Settings | null): SettingsCheck {
  const candidate: Partial<Settings> = {};
  const name = values.name.trim();
  if (name.length > MAX_NAME_LENGTH) {
    return { ok: false, field: 'name', error: `name must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})` };
  }
  candidate.name = name;
  for (const field of Object.keys(NUMBER_RULES) as (keyof typeof NUMBER_RULES)[]) {
    const rule = NUMBER_RULES[field];
    const text = values[field].trim();
    const shown = text.length > 20 ? `${text.slice(0, 20)}...` : text;
    if (text === '') return { ok: false, field, error: `${field} must be ${rule.what} (it is empty)` };
    const value = Number(text);
    if (!Number.isFinite(value)) return { ok: false, field, error: `${field} must be ${rule.what} (got "${shown}")` };
    if (rule.integer && !Number.isInteger(value)) return { ok: false, field, error: `${field} must be ${rule.what} (got ${shown})` };
    if (value < rule.min || (rule.max !== undefined && value > rule.max)) {
      return { ok: false, field, error: `${field} must be ${rule.what} (got ${shown})` };
    }
    candidate[field] = value;
  }
  candidate.discovery = values.discovery;
  if (loaded === null) return { ok: true, patch: candidate };
  const patch: Partial<Settings> = {};
  for (const key of SETTINGS_FIELDS) {
    const value = candidate[key];
    if (value !== undefined && value !== loaded[key]) (patch as Record<string, unknown>)[key] = value;
  }
  return { ok: true, patch };
}
