/**
 * The app icon, drawn in code: dots on three spiral arms converging on a
 * bright centre (warm = high entropy far out, cool = agreement at the
 * centre), on a dark rounded square. Plain Node (zlib only) so the tray can
 * draw it at run time and build/make-icons.mjs can write the packaging PNGs.
 */
import { crc32, deflateSync } from 'node:zlib';

type Rgb = [number, number, number];

interface Dot {
  x: number;
  y: number;
  r: number;
  color: Rgb;
  alpha: number;
}

const BACKGROUND: Rgb = [0x0e, 0x15, 0x24];
const CENTRE: Rgb = [0xb8, 0xf6, 0xff];
const INNER: Rgb = [0x5c, 0xd6, 0xf0];
const OUTER: Rgb = [0xff, 0xa8, 0x4a];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The dots, in units of the icon size (0..1). */
function dots(): Dot[] {
  const list: Dot[] = [];
  const arms = 3;
  const perArm = 4;
  for (let arm = 0; arm < arms; arm++) {
    for (let j = 1; j <= perArm; j++) {
      const t = j / perArm;
      const angle = (arm * 2 * Math.PI) / arms - Math.PI / 2 + t * 1.9;
      const radius = 0.1 + t * 0.27;
      list.push({
        x: 0.5 + radius * Math.cos(angle),
        y: 0.5 + radius * Math.sin(angle),
        r: 0.058 - t * 0.026,
        color: mix(INNER, OUTER, t),
        alpha: 1 - t * 0.15,
      });
    }
  }
  list.push({ x: 0.5, y: 0.5, r: 0.085, color: CENTRE, alpha: 1 });
  return list;
}

/** Signed distance to a rounded square filling the icon, in pixels (negative inside). */
function roundedSquareDistance(px: number, py: number, size: number): number {
  const half = size * 0.47;
  const corner = size * 0.2;
  const qx = Math.abs(px - size / 2) - (half - corner);
  const qy = Math.abs(py - size / 2) - (half - corner);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - corner;
}

function coverage(signedDistance: number): number {
  return Math.min(1, Math.max(0, 0.5 - signedDistance));
}

/** RGBA pixels, row by row. */
export function drawIcon(size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 8 || size > 2048) throw new RangeError(`icon size must be an integer from 8 to 2048, got ${size}`);
  const pixels = new Uint8Array(size * size * 4);
  const scaled = dots().map((d) => ({ ...d, x: d.x * size, y: d.y * size, r: Math.max(0.9, d.r * size) }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const base = coverage(roundedSquareDistance(px, py, size));
      if (base === 0) continue;
      let [r, g, b] = BACKGROUND;
      for (const d of scaled) {
        const a = coverage(Math.hypot(px - d.x, py - d.y) - d.r) * d.alpha;
        if (a === 0) continue;
        r += (d.color[0] - r) * a;
        g += (d.color[1] - g) * a;
        b += (d.color[2] - b) * a;
      }
      const i = (y * size + x) * 4;
      pixels[i] = Math.round(r);
      pixels[i + 1] = Math.round(g);
      pixels[i + 2] = Math.round(b);
      pixels[i + 3] = Math.round(base * 255);
    }
  }
  return pixels;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG file (8-bit RGBA, no filtering) of the icon at `size` x `size` pixels. */
export function iconPng(size: number): Buffer {
  const pixels = drawIcon(size);
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  header[10] = 0; // compression
  header[11] = 0; // filter method
  header[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
