/**
 * Minimal PNG encoder (8-bit gray, gray+alpha, RGB, RGBA) for saliency maps and report images.
 * Pure TypeScript on Uint8Arrays (deflate by fflate's zlibSync), so it runs in Node and in a page.
 * Each row gets the PNG filter (None, Sub, Up or Paeth) with the smallest sum of absolute residuals,
 * the heuristic the PNG specification recommends; smooth saliency maps shrink several-fold with it.
 */
import { zlibSync } from 'fflate';

export interface PngImage {
  width: number;
  height: number;
  /** 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA; row-major, interleaved, 8 bits per sample. */
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

const COLOR_TYPE: Record<PngImage['channels'], number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes an 8-bit image as PNG bytes. `level` is the deflate level 0–9 (default 6). */
export function encodePng(img: PngImage, options: { level?: number } = {}): Uint8Array {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(channels in COLOR_TYPE)) throw new Error(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  const rowBytes = width * channels;
  if (data.length !== rowBytes * height) {
    throw new Error(`encodePng: data has ${data.length} bytes but ${width}×${height}×${channels} needs ${rowBytes * height}`);
  }
  const level = options.level ?? 6;
  if (!(Number.isInteger(level) && level >= 0 && level <= 9)) throw new Error(`encodePng: level must be 0–9, got ${level}`);

  const raw = new Uint8Array((rowBytes + 1) * height);
  const candidate = [0, 1, 2, 4].map(() => new Uint8Array(rowBytes));
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    const prev = row - rowBytes;
    let bestType = 0;
    let bestCost = Infinity;
    for (let t = 0; t < 4; t++) {
      const type = [0, 1, 2, 4][t]!;
      const out = candidate[t]!;
      let cost = 0;
      for (let x = 0; x < rowBytes; x++) {
        const cur = data[row + x]!;
        const a = x >= channels ? data[row + x - channels]! : 0;
        const b = y > 0 ? data[prev + x]! : 0;
        const c = x >= channels && y > 0 ? data[prev + x - channels]! : 0;
        const pred = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : paeth(a, b, c);
        const v = (cur - pred) & 0xff;
        out[x] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < bestCost) {
        bestCost = cost;
        bestType = t;
      }
    }
    raw[y * (rowBytes + 1)] = [0, 1, 2, 4][bestType]!;
    raw.set(candidate[bestType]!, y * (rowBytes + 1) + 1);
  }
  const idat = zlibSync(raw, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });

  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression 0, filter method 0, no interlace
  const chunks: Array<[string, Uint8Array]> = [
    ['IHDR', ihdr],
    ['IDAT', idat],
    ['IEND', new Uint8Array(0)],
  ];
  const total = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0);
  const png = new Uint8Array(total);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const out = new DataView(png.buffer);
  let p = 8;
  for (const [type, body] of chunks) {
    out.setUint32(p, body.length);
    for (let i = 0; i < 4; i++) png[p + 4 + i] = type.charCodeAt(i);
    png.set(body, p + 8);
    out.setUint32(p + 8 + body.length, crc32(png, p + 4, p + 8 + body.length));
    p += 12 + body.length;
  }
  return png;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (RFC 4648, with padding), without Node's Buffer. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    const n = (a << 16) | (b << 8) | c;
    chunk += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=') + (i + 2 < bytes.length ? B64[n & 63]! : '=');
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

/** `data:image/png;base64,…` for embedding in HTML/SVG. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${toBase64(png)}`;
}

/**
 * Maps float values to 8-bit gray: `min`/`max` default to the data's finite range (a constant image is
 * mid-gray); values outside are clipped; NaN becomes 0.
 */
export function toGray8(values: ArrayLike<number>, range: { min?: number; max?: number } = {}): Uint8Array {
  let lo = range.min ?? Infinity;
  let hi = range.max ?? -Infinity;
  if (range.min === undefined || range.max === undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (range.min === undefined && v < lo) lo = v;
      if (range.max === undefined && v > hi) hi = v;
    }
  }
  const out = new Uint8Array(values.length);
  if (!(hi > lo)) {
    out.fill(Number.isFinite(lo) ? 128 : 0);
    return out;
  }
  const scale = 255 / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isNaN(v) ? 0 : Math.round(Math.min(255, Math.max(0, (v - lo) * scale)));
  }
  return out;
}
