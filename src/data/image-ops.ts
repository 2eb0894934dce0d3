/**
 * Plain 2D image primitives on Float32Array slices (row-major H x W), shared by preprocessing and the CPU
 * augmentation reference. Conventions, stated once because the GPU port must match them:
 * - pixel centres sit at integer coordinates (row y, column x); resizing maps centres with
 *   src = (dst + 0.5) * (n_src / n_dst) - 0.5 (PyTorch align_corners=false);
 * - out-of-image reads use reflect-101 (mirror without repeating the edge pixel: -1 -> 1), the
 *   albumentations/OpenCV default border, unless a function says otherwise.
 */

/** Reflect-101 an integer index into [0, n). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/** Reflect-101 a continuous coordinate into [0, n-1]. */
export function reflectCoord(x: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = x % period;
  if (m < 0) m += period;
  return m <= n - 1 ? m : period - m;
}

/** Bilinear sample of one slice at continuous (y, x) with reflect-101 borders. */
export function sampleBilinear(img: Float32Array, H: number, W: number, y: number, x: number, offset = 0): number {
  const yy = reflectCoord(y, H);
  const xx = reflectCoord(x, W);
  const y0 = Math.min(Math.floor(yy), H - 1);
  const x0 = Math.min(Math.floor(xx), W - 1);
  const y1 = Math.min(y0 + 1, H - 1);
  const x1 = Math.min(x0 + 1, W - 1);
  const fy = yy - y0;
  const fx = xx - x0;
  const a = img[offset + y0 * W + x0]!;
  const b = img[offset + y0 * W + x1]!;
  const c = img[offset + y1 * W + x0]!;
  const d = img[offset + y1 * W + x1]!;
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}

/**
 * Bilinear resize of every slice of a [D, H, W] stack to [D, outH, outW] (align_corners=false, edge
 * clamp). The one bilinear resize of the engine: preprocessing's in-plane resize and the report's
 * saliency overlays (D = 1) both use it.
 */
export function resizeBilinear(src: ArrayLike<number>, D: number, H: number, W: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(D * outH * outW);
  const sy = H / outH;
  const sx = W / outW;
  // Precompute the horizontal taps once; they are the same for every row and slice.
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const s = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1);
    x0s[x] = Math.floor(s);
    x1s[x] = Math.min(x0s[x]! + 1, W - 1);
    fxs[x] = s - x0s[x]!;
  }
  for (let d = 0; d < D; d++) {
    const base = d * H * W;
    for (let y = 0; y < outH; y++) {
      const s = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1);
      const y0 = Math.floor(s);
      const y1 = Math.min(y0 + 1, H - 1);
      const fy = s - y0;
      const r0 = base + y0 * W;
      const r1 = base + y1 * W;
      const o = (d * outH + y) * outW;
      for (let x = 0; x < outW; x++) {
        const fx = fxs[x]!;
        const top = src[r0 + x0s[x]!]! * (1 - fx) + src[r0 + x1s[x]!]! * fx;
        const bot = src[r1 + x0s[x]!]! * (1 - fx) + src[r1 + x1s[x]!]! * fx;
        out[o + x] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}

export { gaussianKernel1d } from '../kernels/augment.js';

/** Separable convolution of one H x W slice (in place of `out`) with reflect-101 borders. */
export function convolveSeparable(
  img: Float32Array,
  H: number,
  W: number,
  ky: ArrayLike<number>,
  kx: ArrayLike<number>,
  out = new Float32Array(H * W),
): Float32Array {
  const tmp = new Float64Array(H * W);
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = 0; k < kx.length; k++) s += kx[k]! * img[y * W + reflectIndex(x + k - rx, W)]!;
      tmp[y * W + x] = s;
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = 0; k < ky.length; k++) s += ky[k]! * tmp[reflectIndex(y + k - ry, H) * W + x]!;
      out[y * W + x] = s;
    }
  }
  return out;
}

/** Full 2D convolution (correlation) with an odd kh x kw kernel, reflect-101 borders. */
export function convolve2d(img: Float32Array, H: number, W: number, kernel: ArrayLike<number>, kh: number, kw: number): Float32Array {
  const out = new Float32Array(H * W);
  const ry = (kh - 1) / 2;
  const rx = (kw - 1) / 2;
  const taps: { dy: number; dx: number; w: number }[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) if (kernel[i * kw + j]! !== 0) taps.push({ dy: i - ry, dx: j - rx, w: kernel[i * kw + j]! });
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (const t of taps) s += t.w * img[reflectIndex(y + t.dy, H) * W + reflectIndex(x + t.dx, W)]!;
      out[y * W + x] = s;
    }
  }
  return out;
}

/** k x k median filter of one slice, reflect-101 borders. */
export function medianFilter(img: Float32Array, H: number, W: number, k: number): Float32Array {
  if (k % 2 !== 1 || k < 1) throw new Error(`medianFilter: size must be a positive odd integer, got ${k}`);
  const out = new Float32Array(H * W);
  const r = (k - 1) / 2;
  const win = new Float32Array(k * k);
  const mid = (k * k - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let n = 0;
      for (let dy = -r; dy <= r; dy++) {
        const row = reflectIndex(y + dy, H) * W;
        for (let dx = -r; dx <= r; dx++) win[n++] = img[row + reflectIndex(x + dx, W)]!;
      }
      win.sort();
      out[y * W + x] = win[mid]!;
    }
  }
  return out;
}

/**
 * Contrast-limited adaptive histogram equalisation of one slice whose values lie in [lo, hi], as
 * OpenCV's CLAHE: `bins` histogram bins per tile, clip limit = clipLimit * tileArea / bins with the
 * excess spread evenly, and bilinear interpolation between the mappings of the four nearest tiles.
 * Output stays in [lo, hi].
 */
export function clahe(img: Float32Array, H: number, W: number, lo: number, hi: number, clipLimit: number, tiles: [number, number], bins = 256): Float32Array {
  const out = new Float32Array(H * W);
  if (!(hi > lo)) {
    out.set(img);
    return out;
  }
  const ty = Math.max(1, Math.min(tiles[0], H));
  const tx = Math.max(1, Math.min(tiles[1], W));
  const binOf = (v: number): number => Math.max(0, Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins)));
  const luts: Float64Array[] = [];
  const tileH = H / ty;
  const tileW = W / tx;
  for (let a = 0; a < ty; a++) {
    for (let b = 0; b < tx; b++) {
      const y0 = Math.floor(a * tileH);
      const y1 = Math.floor((a + 1) * tileH);
      const x0 = Math.floor(b * tileW);
      const x1 = Math.floor((b + 1) * tileW);
      const hist = new Float64Array(bins);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) hist[binOf(img[y * W + x]!)]! += 1;
      const area = (y1 - y0) * (x1 - x0);
      if (clipLimit > 0) {
        const limit = Math.max(1, (clipLimit * area) / bins);
        let excess = 0;
        for (let i = 0; i < bins; i++) {
          if (hist[i]! > limit) {
            excess += hist[i]! - limit;
            hist[i] = limit;
          }
        }
        const add = excess / bins;
        for (let i = 0; i < bins; i++) hist[i] = hist[i]! + add;
      }
      const lut = new Float64Array(bins);
      let cum = 0;
      for (let i = 0; i < bins; i++) {
        cum += hist[i]!;
        lut[i] = lo + ((hi - lo) * cum) / Math.max(area, 1);
      }
      luts.push(lut);
    }
  }
  for (let y = 0; y < H; y++) {
    // Position relative to tile centres, clamped at the borders (as OpenCV).
    const gy = (y + 0.5) / tileH - 0.5;
    const a0 = Math.max(0, Math.min(ty - 1, Math.floor(gy)));
    const a1 = Math.min(ty - 1, a0 + 1);
    const wy = Math.max(0, Math.min(1, gy - a0));
    for (let x = 0; x < W; x++) {
      const gx = (x + 0.5) / tileW - 0.5;
      const b0 = Math.max(0, Math.min(tx - 1, Math.floor(gx)));
      const b1 = Math.min(tx - 1, b0 + 1);
      const wx = Math.max(0, Math.min(1, gx - b0));
      const bin = binOf(img[y * W + x]!);
      const v00 = luts[a0 * tx + b0]![bin]!;
      const v01 = luts[a0 * tx + b1]![bin]!;
      const v10 = luts[a1 * tx + b0]![bin]!;
      const v11 = luts[a1 * tx + b1]![bin]!;
      out[y * W + x] = (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy;
    }
  }
  return out;
}

/** Percentiles (0..100) with linear interpolation between order statistics (NumPy's default). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const n = sorted.length;
  if (n === 0) throw new Error('percentiles of an empty set');
  return ps.map((p) => {
    const pos = (Math.max(0, Math.min(100, p)) / 100) * (n - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    return i + 1 < n ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
  });
}
