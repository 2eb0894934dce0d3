import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng, pngDataUrl, toBase64, toGray8, type PngImage } from '../../src/util/png.js';
import { Rng } from '../../src/util/rng.js';

/** Bit-by-bit CRC-32 (no table), independent of the encoder's table version. */
function crcBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Independent PNG decoder for 8-bit non-interlaced images: chunk CRCs, zlib via Node, all 5 filters. */
function decodePng(png: Uint8Array): PngImage & { filters: number[] } {
  expect(Array.from(png.slice(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  const types: string[] = [];
  while (p < png.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...png.slice(p + 4, p + 8));
    const body = png.slice(p + 8, p + 8 + len);
    expect(dv.getUint32(p + 8 + len)).toBe(crcBitwise(png.slice(p + 4, p + 8 + len)));
    types.push(type);
    if (type === 'IHDR') {
      const h = new DataView(body.buffer);
      width = h.getUint32(0);
      height = h.getUint32(4);
      expect(body[8]).toBe(8);
      colorType = body[9]!;
      expect([body[10], body[11], body[12]]).toEqual([0, 0, 0]);
    } else if (type === 'IDAT') idat.push(body);
    p += 12 + len;
  }
  expect(types[0]).toBe('IHDR');
  expect(types[types.length - 1]).toBe('IEND');
  const channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as Record<number, 1 | 2 | 3 | 4>)[colorType]!;
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const data = new Uint8Array(stride * height);
  const filters: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    filters.push(f);
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? data[y * stride + x - channels]! : 0;
      const b = y > 0 ? data[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = Math.floor((a + b) / 2);
      else if (f === 4) {
        const pp = a + b - c;
        const pa = Math.abs(pp - a);
        const pb = Math.abs(pp - b);
        const pc = Math.abs(pp - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      data[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { width, height, channels, data, filters };
}

describe('encodePng', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    it(`round-trips a ${channels}-channel image`, () => {
      const rng = new Rng(channels);
      const width = 37;
      const height = 23;
      const data = new Uint8Array(width * height * channels);
      // half smooth gradient (favours Sub/Up/Paeth), half noise (favours None)
      for (let i = 0; i < data.length; i++) data[i] = i < data.length / 2 ? (i * 3) & 0xff : rng.int(0, 256);
      const png = encodePng({ width, height, channels, data });
      const dec = decodePng(png);
      expect([dec.width, dec.height, dec.channels]).toEqual([width, height, channels]);
      expect(Array.from(dec.data)).toEqual(Array.from(data));
    });
  }

  it('uses prediction filters on smooth images and compresses them', () => {
    const width = 128;
    const height = 128;
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (x + y) & 0xff;
    const png = encodePng({ width, height, channels: 1, data });
    const dec = decodePng(png);
    expect(dec.filters.some((f) => f !== 0)).toBe(true);
    expect(png.length).toBeLessThan(data.length / 10);
    expect(Array.from(dec.data)).toEqual(Array.from(data));
  });

  it('rejects inconsistent input', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).toThrow(/data has 3 bytes but 2×2×1 needs 4/);
    expect(() => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) })).toThrow(/positive integers/);
  });
});

describe('base64 and gray mapping', () => {
  it('matches Node base64', () => {
    const rng = new Rng(9);
    for (const n of [0, 1, 2, 3, 4, 5, 100, 10000]) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(0, 256));
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
    expect(pngDataUrl(new Uint8Array([1, 2]))).toBe('data:image/png;base64,AQI=');
  });

  it('maps floats to 0–255 over the data range or a given range', () => {
    expect(Array.from(toGray8([-1, 0, 1]))).toEqual([0, 128, 255]);
    expect(Array.from(toGray8([0, 0.5, 2], { min: 0, max: 1 }))).toEqual([0, 128, 255]);
    expect(Array.from(toGray8([3, 3]))).toEqual([128, 128]);
    expect(Array.from(toGray8([NaN, 0, 1]))).toEqual([0, 0, 255]);
  });
});
