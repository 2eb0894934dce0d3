/**
 * Preprocessing of Section 2.1: bias-field correction (N4-like, see bias-field.ts), crop to the region of
 * interest (a manifest box or a centred window), in-plane resize to S x S keeping the N slices, and
 * intensity normalisation (percentile clip then z-score). Every step returns a new Volume whose spacing and
 * affine describe the new grid, so saliency maps written later line up with the input in a viewer.
 */
import { correctBiasField, type BiasFieldOptions } from './bias-field.js';
import { percentiles, resizeBilinear } from './image-ops.js';
import { resolveRoi, type Roi } from './manifest.js';
import { InputError, type MemoryBudget, UNLIMITED, checkHostBytes } from '../util/errors.js';
import { type Volume, dataWarning, requireVolume3d } from './volume.js';

export { correctBiasField, type BiasFieldOptions, type BiasFieldResult } from './bias-field.js';

/** Crops to a half-open voxel box; the affine's origin moves to the box's first voxel. */
export function cropToRoi(vol: Volume, roi: Roi): Volume {
  const [D, H, W] = vol.dims;
  const r = resolveRoi(roi, vol.dims, `${vol.source ?? 'volume'}: ROI`);
  const [d0, d1] = r.d;
  const [h0, h1] = r.h;
  const [w0, w1] = r.w;
  const nd = d1 - d0;
  const nh = h1 - h0;
  const nw = w1 - w0;
  const data = new Float32Array(nd * nh * nw);
  for (let d = 0; d < nd; d++) {
    for (let h = 0; h < nh; h++) {
      const src = ((d + d0) * H + (h + h0)) * W + w0;
      data.set(vol.data.subarray(src, src + nw), (d * nh + h) * nw);
    }
  }
  void D;
  const A = vol.affine.slice();
  for (let row = 0; row < 3; row++) A[row * 4 + 3] = A[row * 4 + 3]! + A[row * 4]! * d0 + A[row * 4 + 1]! * h0 + A[row * 4 + 2]! * w0;
  return { ...vol, data, dims: [nd, nh, nw], spacing: [...vol.spacing], affine: A, warnings: vol.warnings.slice() };
}

/**
 * Crops an in-plane window of `size` = [h, w] voxels centred on the slice (all slices kept). A window
 * larger than the image along an axis keeps that axis whole (no padding).
 */
export function centredCrop(vol: Volume, size: [number, number]): Volume {
  const [, H, W] = vol.dims;
  const h = Math.min(size[0], H);
  const w = Math.min(size[1], W);
  if (!(h >= 1 && w >= 1)) throw new Error(`centredCrop: size must be positive, got ${size.join('x')}`);
  const h0 = Math.floor((H - h) / 2);
  const w0 = Math.floor((W - w) / 2);
  return cropToRoi(vol, { d: null, h: [h0, h0 + h], w: [w0, w0 + w] });
}

/**
 * Bilinear in-plane resize to outH x outW (align_corners=false), keeping D. Spacing grows by the zoom
 * factor and the affine is updated so each output voxel centre maps to the same mm position.
 */
export function resizeInPlane(vol: Volume, size: number | [number, number] = 256): Volume {
  const [outH, outW] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1)) {
    throw new Error(`resizeInPlane: size must be positive integers, got ${String(size)}`);
  }
  const [D, H, W] = vol.dims;
  if (outH === H && outW === W)
    return { ...vol, data: vol.data.slice(), dims: [D, H, W], spacing: [...vol.spacing], affine: vol.affine.slice(), warnings: vol.warnings.slice() };
  const data = resizeBilinear(vol.data, D, H, W, outH, outW);
  const fh = H / outH;
  const fw = W / outW;
  const A = vol.affine.slice();
  // Output voxel h' sits at input coordinate (h' + 0.5) * fh - 0.5.
  for (let row = 0; row < 3; row++) {
    A[row * 4 + 3] = A[row * 4 + 3]! + A[row * 4 + 1]! * (0.5 * fh - 0.5) + A[row * 4 + 2]! * (0.5 * fw - 0.5);
    A[row * 4 + 1] = A[row * 4 + 1]! * fh;
    A[row * 4 + 2] = A[row * 4 + 2]! * fw;
  }
  return {
    ...vol,
    data,
    dims: [D, outH, outW],
    spacing: [vol.spacing[0], vol.spacing[1] * fh, vol.spacing[2] * fw],
    affine: A,
    warnings: vol.warnings.slice(),
  };
}

export interface NormalizeOptions {
  /** Lower/upper clip percentiles (0..100). Defaults 0.5 and 99.5. */
  lowPercentile?: number;
  highPercentile?: number;
}

/**
 * Clips intensities to the [low, high] percentiles of the whole volume, then z-scores (mean 0, SD 1 after
 * clipping). A constant volume becomes all zeros, with a warning.
 */
export function normalizeIntensity(vol: Volume, opts: NormalizeOptions = {}): Volume {
  const lo = opts.lowPercentile ?? 0.5;
  const hi = opts.highPercentile ?? 99.5;
  if (!(lo >= 0 && hi <= 100 && lo < hi)) throw new Error(`normalizeIntensity: need 0 <= low < high <= 100, got ${lo}, ${hi}`);
  const [pl, ph] = percentiles(vol.data, [lo, hi]) as [number, number];
  const n = vol.data.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.min(ph, Math.max(pl, vol.data[i]!));
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (Math.min(ph, Math.max(pl, vol.data[i]!)) - mean) ** 2;
  const sd = Math.sqrt(ss / n);
  const data = new Float32Array(n);
  const warnings = vol.warnings.slice();
  if (sd > 0) {
    for (let i = 0; i < n; i++) data[i] = (Math.min(ph, Math.max(pl, vol.data[i]!)) - mean) / sd;
  } else {
    warnings.push(dataWarning('constant-intensities', vol.source ?? 'volume', 'constant intensities after clipping; normalised to zeros'));
  }
  return { ...vol, data, dims: [...vol.dims], spacing: [...vol.spacing], affine: vol.affine.slice(), warnings };
}

export interface PreprocessOptions {
  /** Bias-field correction first (default true); pass options or false. */
  biasField?: boolean | BiasFieldOptions;
  /** Crop box (e.g. a manifest ROI); applied after bias correction. */
  roi?: Roi;
  /** Otherwise a centred in-plane crop of this many voxels (none by default). */
  centredCrop?: [number, number];
  /** In-plane output size (default 256, the paper's). */
  size?: number | [number, number];
  /** Intensity normalisation (default true). */
  normalize?: boolean | NormalizeOptions;
  /** Memory this volume's preprocessing may use (checked before the resize allocates; default no limit). */
  budget?: MemoryBudget;
}

/**
 * Largest in-plane input size S the preprocessing produces (4× the paper's 256). A model configuration
 * asking for more (e.g. a checkpoint whose metadata says 6000) is refused before anything is resized.
 */
export const MAX_INPUT_SIZE = 1024;

/**
 * The paper's preprocessing chain: bias correction on the full field of view (N4 is run before
 * localisation), crop, resize, normalise.
 */
export function preprocessVolume(vol: Volume, opts: PreprocessOptions = {}): Volume {
  requireVolume3d(vol);
  const name = vol.source ?? 'volume';
  const [outH, outW] = typeof opts.size === 'number' ? [opts.size, opts.size] : (opts.size ?? [256, 256]);
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1 && outH <= MAX_INPUT_SIZE && outW <= MAX_INPUT_SIZE)) {
    throw new InputError(
      'invalid-field',
      `${name}: the input size ${outH}×${outW} is not a whole number of pixels between 1 and ${MAX_INPUT_SIZE}; check the model configuration's inputSize`,
      name,
    );
  }
  // The bias field, the resized and the normalised volume each hold a float32 copy at the larger size.
  const D = vol.dims[0];
  checkHostBytes(
    4 * D * (2 * vol.dims[1] * vol.dims[2] + 2 * outH * outW),
    opts.budget ?? UNLIMITED,
    `preprocessing ${D} slices to ${outH}×${outW}`,
    name,
    'use a smaller input size or free memory',
  );
  let v = vol;
  if (opts.biasField !== false) {
    v = correctBiasField(v, typeof opts.biasField === 'object' ? opts.biasField : {}).volume;
  }
  if (opts.roi) v = cropToRoi(v, opts.roi);
  else if (opts.centredCrop) v = centredCrop(v, opts.centredCrop);
  v = resizeInPlane(v, opts.size ?? 256);
  if (opts.normalize !== false) v = normalizeIntensity(v, typeof opts.normalize === 'object' ? opts.normalize : {});
  return v;
}
