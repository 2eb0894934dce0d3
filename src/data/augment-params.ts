/**
 * The paper's 14 training-time augmentations (Section 2.1): seeded parameter sampling, the composed
 * displacement field of the 8 geometric ones, and a plain CPU reference that applies a parameter set to a
 * volume. The GPU engine ports `applyAugmentCpu`; this file is the contract it must match.
 *
 * One parameter set per volume: every slice gets the same transform (the volume stays coherent along D).
 * All parameters are resolution-independent (fractions of the image size, degrees, odd kernel sizes),
 * plain JSON, and the elastic field is regenerated from a stored seed.
 *
 * Pipeline, in the paper's order (albumentations semantics where they are defined):
 *  geometric (composed into ONE field, then ONE bilinear resampling per slice, reflect-101 border):
 *    elastic -> optical distortion -> grid distortion -> shift -> scale -> rotate -> crop -> hflip
 *  intensity and blurs, per slice, in this order:
 *    CLAHE -> brightness -> contrast -> motion blur -> median blur -> Gaussian blur
 * Composition: applying op_1 .. op_n in turn means output(p) = input(m_1(m_2(...m_n(p)))), where m_i maps
 * a pixel of op_i's output to where op_i samples its input. So the field is built by pushing each output
 * pixel through hflip's map first and elastic's last.
 * Coordinates: pixel centres at integers, (row y, column x); field[0] = source y, field[1] = source x.
 * Intensity ops take their statistics from the volume entering that op (whole volume, all slices):
 *    CLAHE maps [min, max] through 256 bins; brightness: x + beta * (max - min) (albumentations'
 *    "beta * max_value" with max_value = the volume's range); contrast: mean + alpha * (x - mean).
 */
import { AUGMENTATION_NAMES, type AugmentationName, type AugmentParams, gaussianKernel1d, hasGeometric, motionBlurKernel } from '../kernels/augment.js';
import { Rng } from '../util/rng.js';
import { clahe, convolve2d, convolveSeparable, medianFilter, sampleBilinear } from './image-ops.js';
import type { Volume } from './volume.js';

// The parameter contract (names, parameter set, kernel weights) lives with the GPU op, which sits below
// src/data; re-exported here for the CPU path's callers.
export { AUGMENTATION_NAMES, type AugmentationName, type AugmentParams, hasGeometric, motionBlurKernel };

/** Sampling ranges and probabilities (albumentations defaults unless noted). */
export interface AugmentConfig {
  elastic: { p: number; magnitude: [number, number]; sigma: number };
  optical: { p: number; distortLimit: number; shiftLimit: number };
  grid: { p: number; steps: number; distortLimit: number };
  shift: { p: number; limit: number };
  scale: { p: number; limit: number };
  rotate: { p: number; limit: number };
  crop: { p: number; minSize: number };
  hflip: { p: number };
  clahe: { p: number; clipLimit: [number, number]; tiles: [number, number] };
  brightness: { p: number; limit: number };
  contrast: { p: number; limit: number };
  motionBlur: { p: number; sizes: [number, number] };
  medianBlur: { p: number; sizes: [number, number] };
  gaussianBlur: { p: number; sizes: [number, number] };
}

/**
 * albumentations' defaults: p = 0.5 each; OpticalDistortion distort/shift 0.05; GridDistortion 5 steps,
 * 0.3; ShiftScaleRotate shift 0.0625, scale 0.1, rotate 45 degrees; CLAHE clip 1-4, 8x8 tiles;
 * RandomBrightnessContrast 0.2 / 0.2; Motion/Median/Gaussian blur kernels 3-7. Not albumentations:
 * elastic is given as an RMS displacement up to 1 % of the image size with sigma 8 % (its alpha/sigma
 * defaults are resolution-dependent and near no-ops at 256 px), and crop is a random square of 80-100 %
 * of the side resized back (the paper keeps 256 x 256 inputs).
 */
export const DEFAULT_AUGMENT_CONFIG: AugmentConfig = {
  elastic: { p: 0.5, magnitude: [0, 0.01], sigma: 0.08 },
  optical: { p: 0.5, distortLimit: 0.05, shiftLimit: 0.05 },
  grid: { p: 0.5, steps: 5, distortLimit: 0.3 },
  shift: { p: 0.5, limit: 0.0625 },
  scale: { p: 0.5, limit: 0.1 },
  rotate: { p: 0.5, limit: 45 },
  crop: { p: 0.5, minSize: 0.8 },
  hflip: { p: 0.5 },
  clahe: { p: 0.5, clipLimit: [1, 4], tiles: [8, 8] },
  brightness: { p: 0.5, limit: 0.2 },
  contrast: { p: 0.5, limit: 0.2 },
  motionBlur: { p: 0.5, sizes: [3, 7] },
  medianBlur: { p: 0.5, sizes: [3, 7] },
  gaussianBlur: { p: 0.5, sizes: [3, 7] },
};

/**
 * The defaults with kernel sizes scaled to an in-plane size S: albumentations' 3–7 px blur kernels (and
 * CLAHE's 8×8 tiles) assume images of about 256 px; at S = 48 a 7-px median or Gaussian erases the
 * 2–4 px structures the task depends on. Kernel sizes scale with S/256 (an odd size of 1 turns a blur
 * off) and CLAHE tiles with S/32 (at least 2×2); geometric ops are already relative to the image size.
 */
export function augmentConfigForSize(size: number, base: AugmentConfig = DEFAULT_AUGMENT_CONFIG): AugmentConfig {
  const out = structuredClone(base);
  const k = size / 256;
  const odd = (v: number) => Math.max(1, 2 * Math.floor((v * k - 1) / 2 + 0.5) + 1);
  for (const op of ['motionBlur', 'medianBlur', 'gaussianBlur'] as const) {
    out[op].sizes = [odd(base[op].sizes[0]), odd(base[op].sizes[1])];
    if (out[op].sizes[1] <= 1) out[op].p = 0;
  }
  const t = Math.max(2, Math.min(base.clahe.tiles[0], Math.round(size / 32)));
  out.clahe.tiles = [t, t];
  return out;
}

/**
 * Named subsets of the 14 augmentations. `paper`: all of them (Section 2.1). `light`: the rigid ones
 * only (shift, scale, rotate, hflip) — for short CPU-sized runs at ~1.3 mm pixels. Measured with the
 * demo's network and data (PyTorch cross-check, 4 seeds, 16 epochs): rigid only, 4/4 runs learn the
 * T3 cue (volume AUC 0.83–0.93); adding brightness/contrast, 2/4 (0.55, 0.65 in the others); the
 * elastic/grid/optical warps, CLAHE and blurs move or erase the 2–6 px extramural extension further.
 */
export const AUGMENT_SETS = {
  paper: AUGMENTATION_NAMES,
  light: ['shift', 'scale', 'rotate', 'hflip'],
} as const satisfies Record<string, readonly AugmentationName[]>;
export type AugmentSet = keyof typeof AUGMENT_SETS;
export const AUGMENT_SET_NAMES = Object.keys(AUGMENT_SETS) as AugmentSet[];

/** `config` with every augmentation outside `set` switched off (p = 0); draws stay aligned. */
export function restrictAugmentConfig(config: AugmentConfig, set: AugmentSet): AugmentConfig {
  const keep: readonly AugmentationName[] | undefined = AUGMENT_SETS[set];
  if (!keep) throw new Error(`unknown augmentation set '${String(set)}' (known: ${AUGMENT_SET_NAMES.join(', ')})`);
  const out = structuredClone(config);
  for (const name of AUGMENTATION_NAMES) if (!keep.includes(name)) out[name].p = 0;
  return out;
}

/** A parameter set that changes nothing. */
export function identityAugmentParams(): AugmentParams {
  return {
    elastic: null,
    optical: null,
    grid: null,
    shift: null,
    scale: null,
    rotate: null,
    crop: null,
    hflip: false,
    clahe: null,
    brightness: null,
    contrast: null,
    motionBlur: null,
    medianBlur: null,
    gaussianBlur: null,
  };
}

/** Merges a partial config (per op, per field) over the defaults. */
export function augmentConfig(partial: { [K in keyof AugmentConfig]?: Partial<AugmentConfig[K]> } = {}): AugmentConfig {
  const out = structuredClone(DEFAULT_AUGMENT_CONFIG);
  for (const k of Object.keys(partial) as (keyof AugmentConfig)[]) {
    if (!(k in out)) throw new Error(`augmentConfig: unknown augmentation '${String(k)}' (known: ${AUGMENTATION_NAMES.join(', ')})`);
    Object.assign(out[k], partial[k]);
  }
  return out;
}

function oddIn(rng: Rng, range: [number, number]): number {
  const lo = Math.max(1, range[0] | 1);
  const hi = Math.max(lo, range[1] % 2 ? range[1] : range[1] - 1);
  return lo + 2 * rng.int(0, (hi - lo) / 2 + 1);
}

/**
 * Draws one parameter set. Each op consumes the same number of random draws whether or not it fires,
 * so changing one probability never reshuffles the other ops' values.
 */
export function sampleAugmentParams(rng: Rng, config: AugmentConfig = DEFAULT_AUGMENT_CONFIG): AugmentParams {
  const c = config;
  const p = identityAugmentParams();
  const fire = (q: number): boolean => rng.next() < q;

  let on = fire(c.elastic.p);
  const mag = rng.uniform(c.elastic.magnitude[0], c.elastic.magnitude[1]);
  const seed = rng.nextU32();
  if (on) p.elastic = { magnitude: mag, sigma: c.elastic.sigma, seed };

  on = fire(c.optical.p);
  const k = rng.uniform(-c.optical.distortLimit, c.optical.distortLimit);
  const ody = rng.uniform(-c.optical.shiftLimit, c.optical.shiftLimit);
  const odx = rng.uniform(-c.optical.shiftLimit, c.optical.shiftLimit);
  if (on) p.optical = { k, dy: ody, dx: odx };

  on = fire(c.grid.p);
  const steps = c.grid.steps;
  const xs = Array.from({ length: steps }, () => 1 + rng.uniform(-c.grid.distortLimit, c.grid.distortLimit));
  const ys = Array.from({ length: steps }, () => 1 + rng.uniform(-c.grid.distortLimit, c.grid.distortLimit));
  if (on) p.grid = { steps, xs, ys };

  on = fire(c.shift.p);
  const sdy = rng.uniform(-c.shift.limit, c.shift.limit);
  const sdx = rng.uniform(-c.shift.limit, c.shift.limit);
  if (on) p.shift = { dy: sdy, dx: sdx };

  on = fire(c.scale.p);
  const factor = 1 + rng.uniform(-c.scale.limit, c.scale.limit);
  if (on) p.scale = { factor };

  on = fire(c.rotate.p);
  const degrees = rng.uniform(-c.rotate.limit, c.rotate.limit);
  if (on) p.rotate = { degrees };

  on = fire(c.crop.p);
  const size = rng.uniform(c.crop.minSize, 1);
  const y0 = rng.uniform(0, 1 - size);
  const x0 = rng.uniform(0, 1 - size);
  if (on) p.crop = { size, y0, x0 };

  p.hflip = fire(c.hflip.p);

  on = fire(c.clahe.p);
  const clip = rng.uniform(c.clahe.clipLimit[0], c.clahe.clipLimit[1]);
  if (on) p.clahe = { clipLimit: clip, tiles: [c.clahe.tiles[0], c.clahe.tiles[1]] };

  on = fire(c.brightness.p);
  const beta = rng.uniform(-c.brightness.limit, c.brightness.limit);
  if (on) p.brightness = { beta };

  on = fire(c.contrast.p);
  const alpha = 1 + rng.uniform(-c.contrast.limit, c.contrast.limit);
  if (on) p.contrast = { alpha };

  on = fire(c.motionBlur.p);
  const msize = oddIn(rng, c.motionBlur.sizes);
  const angle = rng.uniform(0, 180);
  if (on) p.motionBlur = { size: msize, angle };

  on = fire(c.medianBlur.p);
  const dsize = oddIn(rng, c.medianBlur.sizes);
  if (on) p.medianBlur = { size: dsize };

  on = fire(c.gaussianBlur.p);
  const gsize = oddIn(rng, c.gaussianBlur.sizes);
  if (on) p.gaussianBlur = { size: gsize, sigma: 0 };
  return p;
}

/**
 * The elastic displacement (dy, dx) on the H x W grid: uniform noise in [-1, 1] from Rng(seed), smoothed
 * by a separable Gaussian (sigma = sigma x max(H, W) px, radius 3 sigma, reflect-101), scaled so the RMS
 * displacement length is magnitude x max(H, W) px.
 */
export function elasticDisplacement(e: NonNullable<AugmentParams['elastic']>, H: number, W: number): { dy: Float32Array; dx: Float32Array } {
  const n = H * W;
  const rng = new Rng(e.seed);
  const ny = rng.uniformArray(n, -1, 1);
  const nx = rng.uniformArray(n, -1, 1);
  const sig = Math.max(1e-3, e.sigma * Math.max(H, W));
  const radius = Math.max(1, Math.ceil(3 * sig));
  const k = gaussianKernel1d(2 * radius + 1, sig);
  const dy = convolveSeparable(ny, H, W, k, k);
  const dx = convolveSeparable(nx, H, W, k, k);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += dy[i]! * dy[i]! + dx[i]! * dx[i]!;
  const rms = Math.sqrt(ss / n);
  const gain = rms > 0 ? (e.magnitude * Math.max(H, W)) / rms : 0;
  for (let i = 0; i < n; i++) {
    dy[i] = dy[i]! * gain;
    dx[i] = dx[i]! * gain;
  }
  return { dy, dx };
}

/** Piecewise-linear grid-distortion map of one axis, in edge coordinates u in [0, n] (both ends pinned). */
function gridAxisMap(factors: readonly number[], n: number): (u: number) => number {
  const steps = factors.length;
  const step = n / steps;
  const P = [0];
  for (let i = 0; i < steps; i++) P.push(P[i]! + step * factors[i]!);
  const total = P[steps]!;
  const Q = P.map((x) => (x * n) / total);
  return (u: number): number => {
    const i = Math.max(0, Math.min(steps - 1, Math.floor(u / step)));
    return Q[i]! + ((u - i * step) / step) * (Q[i + 1]! - Q[i]!);
  };
}

/**
 * Composes all geometric ops of `p` into one sampling field for an H x W slice: a Float32Array of
 * 2 x H x W where [0][y][x] is the source row and [1][y][x] the source column (pixels, centres at
 * integers) that output pixel (y, x) samples from the input. Identity when no geometric op is set.
 */
export function buildDisplacementField(p: AugmentParams, H: number, W: number): Float32Array {
  const out = new Float32Array(2 * H * W);
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const el = p.elastic ? elasticDisplacement(p.elastic, H, W) : null;
  const gx = p.grid ? gridAxisMap(p.grid.xs, W) : null;
  const gy = p.grid ? gridAxisMap(p.grid.ys, H) : null;
  const rad = p.rotate ? (p.rotate.degrees * Math.PI) / 180 : 0;
  const cosr = Math.cos(rad);
  const sinr = Math.sin(rad);
  for (let yo = 0; yo < H; yo++) {
    for (let xo = 0; xo < W; xo++) {
      let y = yo;
      let x = xo;
      if (p.hflip) x = W - 1 - x;
      if (p.crop) {
        const c = p.crop;
        y = c.y0 * H + (y + 0.5) * c.size - 0.5;
        x = c.x0 * W + (x + 0.5) * c.size - 0.5;
      }
      if (p.rotate) {
        // Content turned by +theta: sample the input at the point turned by -theta.
        const ry = y - cy;
        const rx = x - cx;
        x = cx + cosr * rx + sinr * ry;
        y = cy - sinr * rx + cosr * ry;
      }
      if (p.scale) {
        y = cy + (y - cy) / p.scale.factor;
        x = cx + (x - cx) / p.scale.factor;
      }
      if (p.shift) {
        y -= p.shift.dy * H;
        x -= p.shift.dx * W;
      }
      if (gx && gy) {
        y = gy(y + 0.5) - 0.5;
        x = gx(x + 0.5) - 0.5;
      }
      if (p.optical) {
        const o = p.optical;
        const ocy = cy + o.dy * H;
        const ocx = cx + o.dx * W;
        const ny = (y - ocy) / H;
        const nx = (x - ocx) / W;
        const r2 = nx * nx + ny * ny;
        const f = 1 + o.k * r2 + o.k * r2 * r2;
        y = ocy + ny * f * H;
        x = ocx + nx * f * W;
      }
      if (el) {
        // The elastic field lives on the grid of the elastic op's output: interpolate it at (y, x).
        const ddy = sampleBilinear(el.dy, H, W, y, x);
        const ddx = sampleBilinear(el.dx, H, W, y, x);
        y += ddy;
        x += ddx;
      }
      out[yo * W + xo] = y;
      out[H * W + yo * W + xo] = x;
    }
  }
  return out;
}

function volumeStats(data: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / data.length };
}

/** Applies one parameter set to every slice of a volume (CPU reference of the GPU augmentation). */
export function applyAugmentCpu(vol: Volume, p: AugmentParams): Volume {
  const [D, H, W] = vol.dims;
  const plane = H * W;
  let data = vol.data.slice();
  if (hasGeometric(p)) {
    const field = buildDisplacementField(p, H, W);
    const out = new Float32Array(data.length);
    for (let d = 0; d < D; d++) {
      const off = d * plane;
      for (let i = 0; i < plane; i++) out[off + i] = sampleBilinear(data, H, W, field[i]!, field[plane + i]!, off);
    }
    data = out;
  }
  const perSlice = (fn: (slice: Float32Array) => Float32Array): void => {
    for (let d = 0; d < D; d++) data.set(fn(data.subarray(d * plane, (d + 1) * plane)), d * plane);
  };
  if (p.clahe) {
    const { min, max } = volumeStats(data);
    const c = p.clahe;
    perSlice((s) => clahe(s, H, W, min, max, c.clipLimit, c.tiles));
  }
  if (p.brightness) {
    const { min, max } = volumeStats(data);
    const add = p.brightness.beta * (max - min);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + add;
  }
  if (p.contrast) {
    const { mean } = volumeStats(data);
    const a = p.contrast.alpha;
    for (let i = 0; i < data.length; i++) data[i] = mean + a * (data[i]! - mean);
  }
  if (p.motionBlur) {
    const k = motionBlurKernel(p.motionBlur.size, p.motionBlur.angle);
    const n = p.motionBlur.size;
    perSlice((s) => convolve2d(s, H, W, k, n, n));
  }
  if (p.medianBlur) {
    const n = p.medianBlur.size;
    perSlice((s) => medianFilter(s, H, W, n));
  }
  if (p.gaussianBlur) {
    const k = gaussianKernel1d(p.gaussianBlur.size, p.gaussianBlur.sigma);
    perSlice((s) => convolveSeparable(s, H, W, k, k));
  }
  return { ...vol, data, dims: [D, H, W], spacing: [...vol.spacing], affine: vol.affine.slice(), warnings: vol.warnings.slice() };
}
