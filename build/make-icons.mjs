#!/usr/bin/env node
// Writes the packaging icons from the same drawing the tray uses
// (main/electron/icon.ts, plain Node + zlib): build/icon.png for macOS and
// Windows (electron-builder converts it), build/icons/NxN.png for Linux.
// Run after `tsc -b`: node build/make-icons.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iconPng } from '../dist/main/electron/icon.js';

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'icons'), { recursive: true });
writeFileSync(join(here, 'icon.png'), iconPng(512));
for (const size of [256, 512]) writeFileSync(join(here, 'icons', `${size}x${size}.png`), iconPng(size));
console.log('wrote build/icon.png and build/icons/{256x256,512x512}.png');
