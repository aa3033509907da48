/**
 * Debian's Chromium driven by playwright-core. Without the browser, local
 * runs skip browser tests with one line saying why; CI (CI=true) and
 * `npm run screenshot` fail.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { writesCommittedScreenshot } from './artifacts.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const reason = `browser tests skipped: ${CHROMIUM_PATH} not found (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must install it`);
  if (writesCommittedScreenshot()) throw new Error(`${reason}; \`npm run screenshot\` needs it`);
  console.warn(reason);
  return reason;
}

/** Playwright gives the browser a fresh temporary profile and removes it on close. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}
