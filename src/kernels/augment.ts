/**
 * The paper's 14 training augmentations on the GPU: `augmentBatchGpu` applies one parameter set per
 * volume of a [B, 1, D, H, W] batch, the same transform on every slice, matching the CPU contract
 * `applyAugmentCpu` of src/data/augment-params.ts (same order, reflect-101 borders, whole-volume
 * statistics per intensity op).
 *
 * Per volume, only the ops that fire are dispatched, ping-ponging between the output and one
 * volume-sized scratch buffer (the last op lands in the output):
 *  - geometric: ONE sampling field (augment/field.wgsl, H×W, built on the GPU from the parameters),
 *    then ONE bilinear resampling of all slices (augment/resample.wgsl). Elastic noise is drawn on the
 *    host (it must be the contract's Rng stream: 2·H·W uniforms, ~1 ms at 256²) and uploaded; its
 *    Gaussian smoothing (up to 125 taps at 256²) and RMS normalisation run on the GPU. Building the
 *    whole field on the host costs ~290 ms per 256² volume with elastic on (measured), more than
 *    everything else together, hence the GPU field.
 *  - CLAHE on the GPU: whole-volume min/max (a two-stage reduction), one workgroup per tile and slice
 *    for the clipped histogram and its cumulative map, one pass for the bilinear tile interpolation.
 *  - brightness + contrast: one reduction (min, max, mean) and one fused affine pass.
 *  - motion blur: a small 2-D kernel; median: K×K forgetful selection (K ≤ 11); Gaussian: two 1-D passes.
 * Statistics stay on the GPU (kernels read them from a small buffer), so nothing is read back.
 *
 * Host-built constants (grid-distortion cell maps, blur and smoothing weights, elastic noise) go up in
 * ONE table upload per batch.
 *
 * Measured against the CPU path (scripts/augment-bench.mjs; lavapipe, i.e. the same 2 shared CPU cores
 * emulating the GPU, load ~7; median of 3 batches, ms CPU → GPU): [8, 1, 12, 48, 48] CLI config
 * 23–43 → 18–28, all 14 on 262–351 → 197–243; [4, 1, 24, 256, 256] CLI config 1292–1403 → 864–1203,
 * all 14 on 7194–9094 → 7246–7872. On an emulated adapter the two paths are about even (the median
 * window dominates both); the GPU path is built for a real GPU, where every kernel is a few passes
 * over the batch.
 *
 * The op's contract — the augmentation names, the parameter set, and the blur weights both paths apply —
 * is defined here, below src/data; the CPU reference (data/augment-params.ts, data/image-ops.ts) imports
 * it from this module.
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { Rng } from '../util/rng.js';
import { defineKernel, ELEMENT_WG as WG, grid1d } from './define.js';
import { copyKernel } from './elementwise.js';
import { reductionTuning } from './reduce.js';

type F32 = GpuTensor<'f32'>;

export const AUGMENTATION_NAMES = [
  'elastic',
  'optical',
  'grid',
  'shift',
  'scale',
  'rotate',
  'crop',
  'hflip',
  'clahe',
  'brightness',
  'contrast',
  'motionBlur',
  'medianBlur',
  'gaussianBlur',
] as const;
export type AugmentationName = (typeof AUGMENTATION_NAMES)[number];

export interface AugmentParams {
  /** Smooth random displacement: RMS `magnitude` x max(H, W) pixels, Gaussian-smoothed noise of SD `sigma` x max(H, W). */
  elastic: { magnitude: number; sigma: number; seed: number } | null;
  /** Radial lens distortion (OpenCV model, k1 = k2 = k) with the centre shifted by (dy, dx) x (H, W). */
  optical: { k: number; dy: number; dx: number } | null;
  /** Grid distortion: `steps` cells per axis, each stretched by its factor (albumentations GridDistortion). */
  grid: { steps: number; xs: number[]; ys: number[] } | null;
  /** Content moves by (dy, dx) x (H, W) pixels. */
  shift: { dy: number; dx: number } | null;
  /** Zoom about the centre (> 1 enlarges). */
  scale: { factor: number } | null;
  /** Rotation about the centre, degrees; positive turns the content from +x towards +y. */
  rotate: { degrees: number } | null;
  /** A square window of side `size` (fraction) at (y0, x0) (fractions, <= 1 - size), resized to the full image. */
  crop: { size: number; y0: number; x0: number } | null;
  hflip: boolean;
  clahe: { clipLimit: number; tiles: [number, number] } | null;
  brightness: { beta: number } | null;
  contrast: { alpha: number } | null;
  /** Line kernel of odd `size` at `angle` degrees. */
  motionBlur: { size: number; angle: number } | null;
  medianBlur: { size: number } | null;
  /** Odd `size`; sigma 0 = OpenCV's rule from the size. */
  gaussianBlur: { size: number; sigma: number } | null;
}

export function hasGeometric(p: AugmentParams): boolean {
  return !!(p.elastic || p.optical || p.grid || p.shift || p.scale || p.rotate || p.crop || p.hflip);
}

/** Normalised line kernel (size x size) through the centre at `angle` degrees, anti-aliased. */
export function motionBlurKernel(size: number, angle: number): Float32Array {
  if (!(size >= 1 && size % 2 === 1)) throw new Error(`motionBlurKernel: size must be a positive odd integer, got ${size}`);
  const k = new Float32Array(size * size);
  const c = (size - 1) / 2;
  const a = (angle * Math.PI) / 180;
  const samples = 8 * size;
  // Symmetric samples about the centre keep the kernel's centroid at the centre (no image shift).
  for (let s = 0; s < samples; s++) {
    const t = -c + ((s + 0.5) / samples) * 2 * c;
    const y = c + t * Math.sin(a);
    const x = c + t * Math.cos(a);
    const y0 = Math.floor(y);
    const x0 = Math.floor(x);
    const fy = y - y0;
    const fx = x - x0;
    for (const [yy, xx, w] of [
      [y0, x0, (1 - fy) * (1 - fx)],
      [y0, x0 + 1, (1 - fy) * fx],
      [y0 + 1, x0, fy * (1 - fx)],
      [y0 + 1, x0 + 1, fy * fx],
    ] as const) {
      if (yy >= 0 && yy < size && xx >= 0 && xx < size) k[yy * size + xx]! += w;
    }
  }
  if (size === 1) k[0] = 1;
  let sum = 0;
  for (const v of k) sum += v;
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** Normalised 1D Gaussian kernel of odd size; sigma <= 0 uses OpenCV's rule 0.3*((k-1)/2 - 1) + 0.8. */
export function gaussianKernel1d(size: number, sigma: number): Float64Array {
  if (!(size >= 1) || size % 2 !== 1) throw new Error(`gaussianKernel1d: size must be a positive odd integer, got ${size}`);
  const s = sigma > 0 ? sigma : 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
  const k = new Float64Array(size);
  const r = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * s * s));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i] = k[i]! / sum;
  return k;
}

export const augmentFieldKernel = defineKernel({
  name: 'augment-field',
  shader: 'augment/field',
  bindings: { params: 'uniform', table: 'read', elastic: 'read', stats: 'read', field: 'read_write' },
});
export const augmentResampleKernel = defineKernel({
  name: 'augment-resample',
  shader: 'augment/resample',
  bindings: { params: 'uniform', field: 'read', x: 'read', y: 'read_write' },
});
export const augmentStatsPartialKernel = defineKernel({
  name: 'augment-stats-partial',
  shader: 'augment/stats-partial',
  bindings: { params: 'uniform', x: 'read', partial: 'read_write' },
});
export const augmentStatsFinalKernel = defineKernel({
  name: 'augment-stats-final',
  shader: 'augment/stats-final',
  bindings: { params: 'uniform', partial: 'read', stats: 'read_write' },
});
// One shader, two kernels: the separable passes (AXIS 0/1, set at dispatch) and the dense motion-blur
// kernel (the shader's default AXIS 2).
export const augmentConvLineKernel = defineKernel({
  name: 'augment-conv-line',
  shader: 'augment/conv2d',
  bindings: { params: 'uniform', table: 'read', x: 'read', y: 'read_write' },
});
export const augmentConv2dKernel = defineKernel({
  name: 'augment-conv2d',
  shader: 'augment/conv2d',
  bindings: { params: 'uniform', table: 'read', x: 'read', y: 'read_write' },
});
export const augmentMedianKernel = defineKernel({
  name: 'augment-median',
  shader: 'augment/median',
  bindings: { params: 'uniform', x: 'read', y: 'read_write' },
});
export const augmentClaheLutKernel = defineKernel({
  name: 'augment-clahe-lut',
  shader: 'augment/clahe-lut',
  bindings: { params: 'uniform', x: 'read', stats: 'read', luts: 'read_write' },
});
export const augmentClaheApplyKernel = defineKernel({
  name: 'augment-clahe-apply',
  shader: 'augment/clahe-apply',
  bindings: { params: 'uniform', x: 'read', stats: 'read', luts: 'read', y: 'read_write' },
});
export const augmentAffineKernel = defineKernel({
  name: 'augment-affine',
  shader: 'augment/affine',
  bindings: { params: 'uniform', x: 'read', stats: 'read', y: 'read_write' },
});

/** Largest median window the GPU kernel holds in registers ((11² − 1)/2 + 2 = 62 candidates). */
export const MAX_MEDIAN_SIZE = 11;
/** Histogram bins of CLAHE (image-ops clahe's default; the CLAHE workgroup has one thread per bin). */
const CLAHE_BINS = 256;
/** Plane kernels: TX × TY threads per workgroup (the shaders' defaults). */
const TILE = 16;

const FLAG = { hflip: 1, crop: 2, rotate: 4, scale: 8, shift: 16, grid: 32, optical: 64, elastic: 128 } as const;

/** A region of a buffer: one volume at element offset `base`. */
interface Region {
  t: GpuTensor;
  base: number;
}

function isOddSize(n: unknown, max = Infinity): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n % 2 === 1 && n <= max;
}

/** Rejects parameter sets the kernels cannot honour, naming the volume and the field. */
function validateParams(p: AugmentParams, b: number): void {
  const bad = (what: string): never => {
    throw new Error(`augmentBatchGpu: params[${b}].${what}; sample parameters with sampleAugmentParams or fix the value`);
  };
  const finite = (...xs: unknown[]) => xs.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (p.elastic && !(finite(p.elastic.magnitude, p.elastic.sigma, p.elastic.seed) && p.elastic.magnitude >= 0))
    bad(`elastic ${JSON.stringify(p.elastic)} needs finite magnitude >= 0, sigma and seed`);
  if (p.optical && !finite(p.optical.k, p.optical.dy, p.optical.dx)) bad(`optical ${JSON.stringify(p.optical)} needs finite k, dy, dx`);
  if (p.grid) {
    const g = p.grid;
    if (!(Number.isInteger(g.steps) && g.steps >= 1 && g.xs?.length === g.steps && g.ys?.length === g.steps && finite(...g.xs, ...g.ys))) {
      bad(`grid needs an integer steps >= 1 and that many finite xs and ys (got steps ${g.steps}, ${g.xs?.length} xs, ${g.ys?.length} ys)`);
    }
    if (![...g.xs, ...g.ys].every((f) => f > 0)) bad(`grid factors must be > 0 (got xs ${g.xs.join(', ')}; ys ${g.ys.join(', ')})`);
  }
  if (p.shift && !finite(p.shift.dy, p.shift.dx)) bad(`shift ${JSON.stringify(p.shift)} needs finite dy, dx`);
  if (p.scale && !(finite(p.scale.factor) && p.scale.factor > 0)) bad(`scale.factor must be > 0, got ${p.scale.factor}`);
  if (p.rotate && !finite(p.rotate.degrees)) bad(`rotate.degrees must be finite, got ${p.rotate.degrees}`);
  if (p.crop && !(finite(p.crop.size, p.crop.y0, p.crop.x0) && p.crop.size > 0)) bad(`crop ${JSON.stringify(p.crop)} needs size > 0 and finite y0, x0`);
  if (p.clahe) {
    const c = p.clahe;
    if (!(finite(c.clipLimit) && c.clipLimit >= 0 && Number.isInteger(c.tiles?.[0]) && Number.isInteger(c.tiles?.[1]) && c.tiles[0] >= 1 && c.tiles[1] >= 1)) {
      bad(`clahe ${JSON.stringify(c)} needs clipLimit >= 0 and integer tiles >= 1`);
    }
  }
  if (p.brightness && !finite(p.brightness.beta)) bad(`brightness.beta must be finite, got ${p.brightness.beta}`);
  if (p.contrast && !finite(p.contrast.alpha)) bad(`contrast.alpha must be finite, got ${p.contrast.alpha}`);
  if (p.motionBlur && !(isOddSize(p.motionBlur.size) && finite(p.motionBlur.angle)))
    bad(`motionBlur.size must be a positive odd integer (got ${p.motionBlur.size}) with a finite angle`);
  if (p.medianBlur && !isOddSize(p.medianBlur.size, MAX_MEDIAN_SIZE))
    bad(`medianBlur.size must be an odd integer in 1..${MAX_MEDIAN_SIZE} on the GPU, got ${p.medianBlur.size}`);
  if (p.gaussianBlur && !(isOddSize(p.gaussianBlur.size) && finite(p.gaussianBlur.sigma)))
    bad(`gaussianBlur.size must be a positive odd integer (got ${p.gaussianBlur.size}) with a finite sigma`);
}

/** The cell-edge map of one grid-distortion axis (image size n): the steps + 1 pinned edges. */
function gridEdges(factors: readonly number[], n: number): number[] {
  const step = n / factors.length;
  const P = [0];
  for (let i = 0; i < factors.length; i++) P.push(P[i]! + step * factors[i]!);
  const total = P[factors.length]!;
  return P.map((x) => (x * n) / total);
}

/** Elastic smoothing as the contract defines it: sigma × max(H, W) px, radius 3 sigma. */
function elasticKernel(sigma: number, H: number, W: number): Float64Array {
  const sig = Math.max(1e-3, sigma * Math.max(H, W));
  const radius = Math.max(1, Math.ceil(3 * sig));
  return gaussianKernel1d(2 * radius + 1, sig);
}

/** Host constants of one batch, appended into one array; offsets are element indices. */
class Table {
  private parts: ArrayLike<number>[] = [];
  private n = 0;
  add(values: ArrayLike<number>): number {
    const off = this.n;
    this.parts.push(values);
    this.n += values.length;
    return off;
  }
  build(): Float32Array {
    const out = new Float32Array(Math.max(1, this.n));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * Applies `params[b]` to volume b of `batch` [B, 1, D, H, W] (f32) on the GPU and returns a new tensor
 * of the same shape (or writes `out`, which must not alias `batch`). Every slice of a volume gets the
 * same transform. Matches applyAugmentCpu volume by volume to f32 rounding (median: exactly on the
 * same input; CLAHE: a pixel whose value sits within f32 rounding of a histogram bin edge may take the
 * neighbouring bin).
 */
export function augmentBatchGpu(gpu: Gpu, batch: GpuTensor, params: readonly AugmentParams[], out?: F32): F32 {
  const dims = checkBatch(gpu, batch, params);
  params.forEach(validateParams);
  const o = outputFor(gpu, batch, out);
  if (dims.V === 0 || dims.B === 0) return o;
  const { data, offsets } = hostConstants(params, dims);
  const ws = allocateWorkspace(gpu, params, dims, data);
  try {
    params.forEach((p, b) => {
      const stages = volumeStages(ws, p, b, offsets[b]!);
      runVolume(ws, stages, { t: batch, base: b * dims.V }, { t: o, base: b * dims.V });
    });
  } finally {
    // Also when a dispatch throws part-way (device lost, a limit): the workspace goes back to the pool.
    for (const t of ws.temps) t.release();
  }
  return o;
}

/** The batch's extents as the kernels use them: volumes B of D × H × W, V elements each. */
interface BatchDims {
  B: number;
  D: number;
  H: number;
  W: number;
  /** Elements per volume (D·H·W). */
  V: number;
  /** Elements per slice (H·W). */
  plane: number;
  /** [D, H, W], the plane kernels' `size` uniform. */
  size: number[];
}

/** Where one volume's host constants sit in the batch table (element indices; -1 = op off). */
interface TableOffsets {
  noise: number;
  elasticW: number;
  elasticTaps: number;
  grid: number;
  motion: number;
  gauss: number;
  gaussTaps: number;
}

/** The GPU buffers one call works in (all released at its end) and its launch tuning. */
interface Workspace {
  gpu: Gpu;
  dims: BatchDims;
  /** Every buffer below that this call allocated, in allocation order. */
  temps: GpuTensor[];
  /** The host-constant table. */
  tab: F32;
  /** Three (min, max, mean, mean of squares) slots per volume: elastic field, CLAHE input, affine input. */
  stats: F32;
  /** Per-workgroup partial statistics of the two-stage reduction. */
  partial: F32;
  /** One volume: the other half of the ping-pong with the output. */
  scratch: F32;
  /** The geometric sampling field [2, H, W]. */
  field: F32;
  /** The elastic noise [2, H, W] between its two smoothing passes, and after them. */
  elTmp: F32;
  elSmooth: F32;
  /** CLAHE's per-slice, per-tile maps (sized for the largest tile grid of the batch). */
  luts: F32;
  /** Reduction launch shape (threads, target workgroups) for this adapter. */
  tune: ReturnType<typeof reductionTuning>;
  /** Threads per CLAHE histogram workgroup. */
  claheThreads: number;
  /** The adapter's maxComputeWorkgroupsPerDimension (1-D grids fold beyond it). */
  maxDim: number;
}

/** One op of a volume's chain: reads the region `src`, writes the region `dst` (never the same buffer). */
type Stage = (src: Region, dst: Region) => void;

/** Rejects a batch that is not [B, 1, D, H, W] f32 with one parameter set per volume; returns its extents. */
function checkBatch(gpu: Gpu, batch: GpuTensor, params: readonly AugmentParams[]): BatchDims {
  if (batch.shape.length !== 5 || batch.shape[1] !== 1) {
    throw new GpuError('usage', `augmentBatchGpu: batch must be [B, 1, D, H, W], got [${batch.shape.join(', ')}]`);
  }
  if (batch.dtype !== 'f32') throw new GpuError('usage', `augmentBatchGpu: batch must be f32, got ${batch.dtype}`);
  const [B, , D, H, W] = batch.shape as [number, number, number, number, number];
  if (params.length !== B) throw new GpuError('usage', `augmentBatchGpu: ${params.length} parameter sets for a batch of ${B} volumes; give one per volume`);
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  if (D > maxDim) throw new GpuError('over-limit', `augmentBatchGpu: ${D} slices exceed this adapter's ${maxDim} workgroups per dimension`);
  return { B, D, H, W, V: D * H * W, plane: H * W, size: [D, H, W] };
}

/** `out` checked (f32, the batch's size, no alias of the batch), or a new tensor of the batch's shape. */
function outputFor(gpu: Gpu, batch: GpuTensor, out: F32 | undefined): F32 {
  const o = out ?? gpu.empty(batch.shape, 'f32');
  if (o.size !== batch.size || o.dtype !== 'f32') throw new GpuError('usage', `augmentBatchGpu: out ${o} must be f32 with ${batch.size} elements`);
  if (o === batch || (o.base ?? o) === (batch.base ?? batch)) {
    throw new GpuError('usage', 'augmentBatchGpu: out must not alias the batch (WebGPU forbids read and write of one buffer in a dispatch)');
  }
  return o;
}

/** The batch's host constants in one table (elastic noise and weights, grid edges, blur weights) and each volume's offsets. */
function hostConstants(params: readonly AugmentParams[], { H, W, plane }: BatchDims): { data: Float32Array; offsets: TableOffsets[] } {
  const table = new Table();
  const offsets = params.map((p) => {
    const r: TableOffsets = { noise: -1, elasticW: -1, elasticTaps: 0, grid: -1, motion: -1, gauss: -1, gaussTaps: 0 };
    if (p.elastic) {
      // The contract's noise: Rng(seed), dy's H·W uniforms in [-1, 1) then dx's.
      const rng = new Rng(p.elastic.seed);
      r.noise = table.add(rng.uniformArray(plane, -1, 1));
      table.add(rng.uniformArray(plane, -1, 1));
      const k = elasticKernel(p.elastic.sigma, H, W);
      r.elasticW = table.add(k);
      r.elasticTaps = k.length;
    }
    if (p.grid) {
      r.grid = table.add(gridEdges(p.grid.ys, H));
      table.add(gridEdges(p.grid.xs, W));
    }
    if (p.motionBlur) r.motion = table.add(motionBlurKernel(p.motionBlur.size, p.motionBlur.angle));
    if (p.gaussianBlur) {
      const k = gaussianKernel1d(p.gaussianBlur.size, p.gaussianBlur.sigma);
      r.gauss = table.add(k);
      r.gaussTaps = k.length;
    }
    return r;
  });
  return { data: table.build(), offsets };
}

/** CLAHE's tile grid for this volume, clamped to the plane ([1, 1] when CLAHE is off). */
function claheTiles(p: AugmentParams, H: number, W: number): [number, number] {
  return p.clahe ? [Math.max(1, Math.min(p.clahe.tiles[0], H)), Math.max(1, Math.min(p.clahe.tiles[1], W))] : [1, 1];
}

/** Uploads the table and allocates the buffers the batch's ops need (`stats` stands in for any that none uses). */
function allocateWorkspace(gpu: Gpu, params: readonly AugmentParams[], dims: BatchDims, tableData: Float32Array): Workspace {
  const { B, D, H, W, V } = dims;
  const temps: GpuTensor[] = [];
  const temp = (shape: number[]): F32 => {
    const t = gpu.empty(shape, 'f32');
    temps.push(t);
    return t;
  };
  const tab = temp([tableData.length]);
  gpu.write(tab, tableData);
  const stats = temp([3 * B, 4]);
  const tune = reductionTuning(gpu);
  // CLAHE histogram workgroups: wide on a discrete GPU; on CPU emulations the cost grows steeply with
  // the invocations per workgroup (measured, map of 24 × 256² with 8 × 8 tiles: 8 threads 40 ms on
  // lavapipe, 129 ms on SwiftShader; 64 threads 67 / 196 ms; 128 threads ~500 ms for a 3 × 20² volume).
  const claheThreads = tune.threads >= 256 ? 256 : 8;
  const partial = temp([tune.targetGroups, 4]);
  const scratch = temp([V]);
  const anyGeo = params.some(hasGeometric);
  const anyElastic = params.some((p) => p.elastic);
  const field = anyGeo ? temp([2, H, W]) : stats;
  const elTmp = anyElastic ? temp([2, H, W]) : stats;
  const elSmooth = anyElastic ? temp([2, H, W]) : stats;
  const lutSize = Math.max(0, ...params.map((p) => (p.clahe ? D * claheTiles(p, H, W)[0] * claheTiles(p, H, W)[1] * CLAHE_BINS : 0)));
  const luts = lutSize > 0 ? temp([lutSize]) : stats;
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  return { gpu, dims, temps, tab, stats, partial, scratch, field, elTmp, elSmooth, luts, tune, claheThreads, maxDim };
}

/** The ops that fire for volume b, in the contract's order: geometric, CLAHE, brightness/contrast, motion, median, Gaussian. */
function volumeStages(ws: Workspace, p: AugmentParams, b: number, off: TableOffsets): Stage[] {
  const stages: Stage[] = [];
  if (hasGeometric(p)) stages.push(geometricStage(ws, p, b, off));
  if (p.clahe) stages.push(claheStage(ws, p.clahe, claheTiles(p, ws.dims.H, ws.dims.W), b));
  if (p.brightness || p.contrast) stages.push(affineStage(ws, p, b));
  if (p.motionBlur) stages.push(motionBlurStage(ws, p.motionBlur.size, off));
  if (p.medianBlur) stages.push(medianBlurStage(ws, p.medianBlur.size));
  if (p.gaussianBlur) stages.push(...gaussianBlurStages(ws, off));
  return stages;
}

/** Runs one volume's stages from `src` into `dst`, alternating `dst` and scratch so the last lands in `dst`; no stage: a copy. */
function runVolume(ws: Workspace, stages: readonly Stage[], src: Region, dst: Region): void {
  const { gpu, maxDim } = ws;
  const { V } = ws.dims;
  if (stages.length === 0) {
    // No op fires: the volume goes through unchanged (the generic copy, with word offsets).
    gpu.dispatch(copyKernel, {
      bind: { src: src.t, out: dst.t },
      uniforms: { params: { n: V, src_base: src.base, dst_base: dst.base } },
      overrides: { WG },
      workgroups: grid1d(V, WG, maxDim),
    });
  }
  let cur = src;
  stages.forEach((run, i) => {
    const next: Region = (stages.length - 1 - i) % 2 === 0 ? dst : { t: ws.scratch, base: 0 };
    run(cur, next);
    cur = next;
  });
}

/** Workgroups of the plane kernels: TILE × TILE pixels of n slices each. */
function planeGrid({ H, W }: BatchDims, n: number): [number, number, number] {
  return [Math.ceil(W / TILE), Math.ceil(H / TILE), n];
}

/** stats[slot] = (min, max, mean, mean of squares) of n elements at src. */
function reduceStats(ws: Workspace, src: Region, n: number, slot: number): void {
  const { gpu, tune, partial, stats } = ws;
  const groups = Math.max(1, Math.min(tune.targetGroups, Math.ceil(n / (tune.threads * tune.minPerThread))));
  gpu.dispatch(augmentStatsPartialKernel, {
    bind: { x: src.t, partial },
    uniforms: { params: { n, src_base: src.base, groups } },
    overrides: { WG: tune.threads },
    workgroups: [groups],
  });
  gpu.dispatch(augmentStatsFinalKernel, {
    bind: { partial, stats },
    uniforms: { params: { groups, inv_n: 1 / n, slot } },
    overrides: { WG: tune.threads },
    workgroups: [1],
  });
}

/** One separable-convolution pass of a [N, H, W] block along `axis` (0: along W, rows; 1: along H, columns), weights from the table. */
function convLine(ws: Workspace, src: Region, dst: Region, shape: readonly number[], axis: 0 | 1, taps: number, wOff: number): void {
  ws.gpu.dispatch(augmentConvLineKernel, {
    bind: { table: ws.tab, x: src.t, y: dst.t },
    uniforms: { params: { size: shape, src_base: src.base, dst_base: dst.base, taps, w_off: wOff } },
    overrides: { AXIS: axis },
    workgroups: [Math.ceil(shape[2]! / TILE), Math.ceil(shape[1]! / TILE), shape[0]!],
  });
}

/** The flag bits of the geometric ops that fire (the field shader's FLAG_* switches). */
function geometricFlags(p: AugmentParams): number {
  let flags = 0;
  if (p.elastic) flags |= FLAG.elastic;
  if (p.hflip) flags |= FLAG.hflip;
  if (p.crop) flags |= FLAG.crop;
  if (p.rotate) flags |= FLAG.rotate;
  if (p.scale) flags |= FLAG.scale;
  if (p.shift) flags |= FLAG.shift;
  if (p.grid) flags |= FLAG.grid;
  if (p.optical) flags |= FLAG.optical;
  return flags;
}

/** Smooths volume b's uploaded elastic noise (two 1-D passes) into elSmooth and its statistics into stats[3b]. */
function smoothElasticNoise(ws: Workspace, off: TableOffsets, b: number): void {
  const { H, W, plane } = ws.dims;
  convLine(ws, { t: ws.tab, base: off.noise }, { t: ws.elTmp, base: 0 }, [2, H, W], 0, off.elasticTaps, off.elasticW);
  convLine(ws, { t: ws.elTmp, base: 0 }, { t: ws.elSmooth, base: 0 }, [2, H, W], 1, off.elasticTaps, off.elasticW);
  reduceStats(ws, { t: ws.elSmooth, base: 0 }, 2 * plane, 3 * b);
}

/** The field shader's parameters: every geometric op in pixels of the H × W plane. */
function fieldUniforms(p: AugmentParams, off: TableOffsets, b: number, H: number, W: number): Record<string, number | number[]> {
  const rad = p.rotate ? (p.rotate.degrees * Math.PI) / 180 : 0;
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  return {
    plane: [H, W],
    flags: geometricFlags(p),
    crop: p.crop ? [p.crop.size, p.crop.y0 * H, p.crop.x0 * W] : [1, 0, 0],
    rot: [Math.cos(rad), Math.sin(rad)],
    zoom: p.scale ? p.scale.factor : 1,
    shift: p.shift ? [p.shift.dy * H, p.shift.dx * W] : [0, 0],
    grid_off: Math.max(0, off.grid),
    grid_steps: p.grid ? p.grid.steps : 1,
    optic: p.optical ? [p.optical.k, cy + p.optical.dy * H, cx + p.optical.dx * W] : [0, cy, cx],
    elastic_mag: p.elastic ? p.elastic.magnitude * Math.max(H, W) : 0,
    elastic_slot: 3 * b,
  };
}

/** All geometric ops of volume b: the elastic noise smoothed, ONE sampling field built, ONE bilinear resampling of every slice. */
function geometricStage(ws: Workspace, p: AugmentParams, b: number, off: TableOffsets): Stage {
  const { gpu, dims } = ws;
  return (src, dst) => {
    if (p.elastic) smoothElasticNoise(ws, off, b);
    gpu.dispatch(augmentFieldKernel, {
      bind: { table: ws.tab, elastic: ws.elSmooth, stats: ws.stats, field: ws.field },
      uniforms: { params: fieldUniforms(p, off, b, dims.H, dims.W) },
      workgroups: planeGrid(dims, 1),
    });
    gpu.dispatch(augmentResampleKernel, {
      bind: { field: ws.field, x: src.t, y: dst.t },
      uniforms: { params: { size: dims.size, src_base: src.base, dst_base: dst.base } },
      workgroups: planeGrid(dims, dims.D),
    });
  };
}

/** CLAHE of volume b: whole-volume min/max into stats[3b + 1], clipped per-tile maps, bilinear interpolation of the maps. */
function claheStage(ws: Workspace, c: NonNullable<AugmentParams['clahe']>, [ty, tx]: [number, number], b: number): Stage {
  const { gpu, dims, stats, luts } = ws;
  const { size, D, V } = dims;
  const slot = 3 * b + 1;
  return (src, dst) => {
    reduceStats(ws, src, V, slot);
    gpu.dispatch(augmentClaheLutKernel, {
      bind: { x: src.t, stats, luts },
      uniforms: { params: { size, src_base: src.base, tiles: [ty, tx], clip: c.clipLimit, slot } },
      overrides: { BINS: CLAHE_BINS, WG: ws.claheThreads },
      workgroups: [ty * tx, D],
    });
    gpu.dispatch(augmentClaheApplyKernel, {
      bind: { x: src.t, stats, luts, y: dst.t },
      uniforms: { params: { size, src_base: src.base, dst_base: dst.base, tiles: [ty, tx], slot } },
      overrides: { BINS: CLAHE_BINS },
      workgroups: planeGrid(dims, D),
    });
  };
}

/** Brightness and/or contrast of volume b: its (min, max, mean) into stats[3b + 2], then one fused affine pass. */
function affineStage(ws: Workspace, p: AugmentParams, b: number): Stage {
  const { gpu, stats, maxDim } = ws;
  const { V } = ws.dims;
  const slot = 3 * b + 2;
  return (src, dst) => {
    reduceStats(ws, src, V, slot);
    gpu.dispatch(augmentAffineKernel, {
      bind: { x: src.t, stats, y: dst.t },
      uniforms: {
        params: {
          n: V,
          src_base: src.base,
          dst_base: dst.base,
          flags: (p.brightness ? 1 : 0) | (p.contrast ? 2 : 0),
          beta: p.brightness?.beta ?? 0,
          alpha: p.contrast?.alpha ?? 1,
          slot,
        },
      },
      workgroups: grid1d(V, WG, maxDim),
    });
  };
}

/** Motion blur: the dense `taps` × `taps` line kernel from the table (conv2d's default AXIS 2), on every slice. */
function motionBlurStage(ws: Workspace, taps: number, off: TableOffsets): Stage {
  const { dims } = ws;
  return (src, dst) =>
    ws.gpu.dispatch(augmentConv2dKernel, {
      bind: { table: ws.tab, x: src.t, y: dst.t },
      uniforms: { params: { size: dims.size, src_base: src.base, dst_base: dst.base, taps, w_off: off.motion } },
      workgroups: planeGrid(dims, dims.D),
    });
}

/** Median blur: K × K forgetful selection on every slice (K ≤ MAX_MEDIAN_SIZE, a pipeline override). */
function medianBlurStage(ws: Workspace, k: number): Stage {
  const { dims } = ws;
  return (src, dst) =>
    ws.gpu.dispatch(augmentMedianKernel, {
      bind: { x: src.t, y: dst.t },
      uniforms: { params: { size: dims.size, src_base: src.base, dst_base: dst.base } },
      overrides: { K: k },
      workgroups: planeGrid(dims, dims.D),
    });
}

/** Gaussian blur: two stages, the separable 1-D passes along W and then along H, weights from the table. */
function gaussianBlurStages(ws: Workspace, off: TableOffsets): Stage[] {
  const { size } = ws.dims;
  return [(src, dst) => convLine(ws, src, dst, size, 0, off.gaussTaps, off.gauss), (src, dst) => convLine(ws, src, dst, size, 1, off.gaussTaps, off.gauss)];
}
