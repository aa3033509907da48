/**
 * Where tests put what they produce. A test run writes to the ignored out/
 * folder only; the dashboard picture the README shows (docs/dashboard.png)
 * is taken again only when asked for (`npm run screenshot`, which sets
 * LVS_WRITE_SCREENSHOT=1).
 */
import { join, resolve } from 'node:path';
import { OUT_DIR } from '../../bench/output.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Set to 1 to update the committed screenshot. */
export const WRITE_SCREENSHOT_ENV = 'LVS_WRITE_SCREENSHOT';
export const COMMITTED_SCREENSHOT = 'docs/dashboard.png';
export const SCRATCH_SCREENSHOT = join(OUT_DIR, 'dashboard.png');

export function writesCommittedScreenshot(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WRITE_SCREENSHOT_ENV] === '1';
}

/** The absolute path the dashboard test saves its picture to. */
export function screenshotPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(ROOT, writesCommittedScreenshot(env) ? COMMITTED_SCREENSHOT : SCRATCH_SCREENSHOT);
}
