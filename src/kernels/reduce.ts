/**
 * Generic reductions over a contiguous middle axis, for every op that sums over axes: a row-major
 * tensor is read as [outer, mid, inner] and summed over mid (an in-plane mean is [N·C·D, H·W, 1], a
 * sum over the batch of [N, C, S] is [1, N, C·S], a bias gradient over rows of [M, F] is [1, M, F]).
 * Long mid axes are split across workgroups and the partial sums reduced again (no float atomics),
 * so every reduction is deterministic. `broadcastMid` is the adjoint (the backward of a sum or mean).
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel } from './define.js';

type F32 = GpuTensor<'f32'>;

export const sumMidKernel = defineKernel({ name: 'reduce-sum-mid', shader: 'reduce/sum-mid', bindings: { params: 'uniform', x: 'read', out: 'read_write' } });
export const broadcastMidKernel = defineKernel({
  name: 'reduce-broadcast-mid',
  shader: 'reduce/broadcast-mid',
  bindings: { params: 'uniform', y: 'read', out: 'read_write' },
});

/** A contiguous tensor read as [outer, mid, inner]; the reduction runs over `mid`. */
export interface MidView {
  outer: number;
  mid: number;
  inner: number;
}

export interface ReduceOptions {
  /** Scales the result (1 / mid gives a mean); default 1. */
  alpha?: number;
  /** Shape of the result (same element count as [outer, inner] for sumMid, [outer, mid, inner] for broadcastMid). */
  shape?: readonly number[];
  /** Preallocated result (tests pass a poisoned one). */
  out?: F32;
}

/**
 * How a reduction should be shaped on this adapter. Discrete GPUs want many threads in flight (wide
 * workgroups, thousands of them, a few loads each); CPU emulations (lavapipe, SwiftShader) pay per
 * workgroup and per barrier, so they want few, narrow workgroups with long per-thread loops
 * (measured on lavapipe: BN statistics of [1, 32, 24, 128, 128] 5–10× faster with 64 × 32 than 256 × 4).
 */
export interface ReductionTuning {
  /** Threads per workgroup (a power of two, ≤ 256). */
  threads: number;
  /** Workgroups to aim at for one reduction. */
  targetGroups: number;
  /** Loads each thread makes before the workgroup tree, at least (when the data allows). */
  minPerThread: number;
  /**
   * Fewest threads per workgroup when a reduction is short (batch-norm statistics over small planes):
   * a warp or wavefront on a GPU; a few SIMD lanes on a CPU emulation, where every barrier level costs.
   * Default 32.
   */
  minThreads?: number;
}

/**
 * Per-axis workgroup size limits, rounded down to powers of two (SwiftShader allows only 64 along z,
 * lavapipe 1,024: a shape that fits one can fail pipeline creation on the other).
 */
function workgroupLimits(gpu: Gpu): [number, number, number] {
  const p2 = (v: number | undefined) => 2 ** Math.floor(Math.log2(Math.max(1, v ?? 64)));
  return [p2(gpu.limits.maxComputeWorkgroupSizeX), p2(gpu.limits.maxComputeWorkgroupSizeY), p2(gpu.limits.maxComputeWorkgroupSizeZ)];
}

/** True for software adapters (llvmpipe/lavapipe, SwiftShader, WARP, any fallback adapter). */
export function isCpuAdapter(gpu: Gpu): boolean {
  const a = gpu.adapter;
  return a.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|warp|cpu/i.test(`${a.description} ${a.vendor} ${a.architecture} ${a.device}`);
}

export const GPU_TUNING: ReductionTuning = { threads: 256, targetGroups: 4096, minPerThread: 4, minThreads: 32 };
export const CPU_TUNING: ReductionTuning = { threads: 64, targetGroups: 256, minPerThread: 32, minThreads: 8 };

let forced: ReductionTuning | null = null;

/**
 * Forces one tuning for every reduction until called again with null — so tests on a CPU adapter also
 * run the shapes a discrete GPU gets (more segments per plane), and benchmarks can compare the two.
 */
export function forceReductionTuning(t: ReductionTuning | null): void {
  forced = t;
}

export function reductionTuning(gpu: Gpu): ReductionTuning {
  if (forced) return forced;
  return isCpuAdapter(gpu) ? CPU_TUNING : GPU_TUNING;
}

const pow2AtLeast = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

function checkView(op: string, t: GpuTensor, v: MidView, what: string, count: number): void {
  for (const k of ['outer', 'mid', 'inner'] as const) {
    if (!Number.isInteger(v[k]) || v[k] < 0) throw new GpuError('usage', `${op}: view.${k} must be a non-negative integer, got ${v[k]}`);
  }
  if (t.dtype !== 'f32') throw new GpuError('usage', `${op}: ${what} must be f32, got ${t.dtype}`);
  if (t.size !== count) {
    throw new GpuError('usage', `${op}: ${what} ${t} has ${t.size} elements but the view [${v.outer}, ${v.mid}, ${v.inner}] needs ${count}`);
  }
}

function result(gpu: Gpu, op: string, opts: ReduceOptions, shape: readonly number[], count: number, input: GpuTensor): F32 {
  const s = opts.shape ?? shape;
  if (s.reduce((a, b) => a * b, 1) !== count) throw new GpuError('usage', `${op}: opts.shape [${s.join(', ')}] must hold ${count} elements`);
  if (!opts.out) return gpu.empty(s, 'f32');
  if (opts.out.dtype !== 'f32' || opts.out.size !== count) throw new GpuError('usage', `${op}: out ${opts.out} must be f32 with ${count} elements`);
  if (opts.out === input) throw new GpuError('usage', `${op}: out must not alias the input (WebGPU forbids read and write of one buffer in a dispatch)`);
  return opts.out;
}

/**
 * out[o, i] = alpha · Σ_m x[o, m, i]. Returns a tensor of shape `opts.shape` (default [outer, inner]).
 * Deterministic: fixed summation order, partial sums reduced in a second dispatch when mid is long.
 */
export function sumMid(x: F32, view: MidView, opts: ReduceOptions = {}): F32 {
  const op = 'sumMid';
  const { outer, mid, inner } = view;
  checkView(op, x, view, 'input', outer * mid * inner);
  const gpu = x.gpu;
  const out = result(gpu, op, opts, [outer, inner], outer * inner, x);
  const alpha = opts.alpha ?? 1;
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;

  const tune = reductionTuning(gpu);
  const [limX, limY, limZ] = workgroupLimits(gpu);
  const tx = Math.min(64, limX, tune.threads, pow2AtLeast(inner));
  const ty = Math.min(limY, tune.threads / tx, pow2AtLeast(Math.ceil(mid / tune.minPerThread)));
  const to = Math.min(limZ, tune.threads / (tx * ty), pow2AtLeast(outer));
  const colBlocks = Math.ceil(inner / tx);
  if (colBlocks > maxDim)
    throw new GpuError('over-limit', `${op}: inner size ${inner} needs ${colBlocks} workgroups, more than this adapter's ${maxDim} per dimension`);
  const outerBlocks = Math.min(Math.ceil(outer / to), maxDim);
  const maxChunks = Math.max(1, Math.min(maxDim, Math.ceil(mid / (ty * tune.minPerThread))));
  let chunks = Math.min(maxChunks, Math.max(1, Math.ceil(tune.targetGroups / Math.max(1, colBlocks * outerBlocks))));
  const rows = Math.max(1, Math.ceil(mid / chunks));
  chunks = Math.max(1, Math.ceil(mid / rows));

  const dst = chunks === 1 ? out : gpu.empty([outer, chunks, inner], 'f32');
  gpu.dispatch(sumMidKernel, {
    bind: { x, out: dst },
    uniforms: { params: { outer, mid, inner, rows, chunks, alpha: chunks === 1 ? alpha : 1 } },
    overrides: { TX: tx, TY: ty, TO: to },
    workgroups: [colBlocks, chunks, outerBlocks],
  });
  if (chunks > 1) {
    sumMid(dst, { outer, mid: chunks, inner }, { alpha, out });
    dst.release();
  }
  return out;
}

/** out[o, m, i] = alpha · y[o, i], the adjoint of sumMid. Returns shape `opts.shape` (default [outer, mid, inner]). */
export function broadcastMid(y: F32, view: MidView, opts: ReduceOptions = {}): F32 {
  const op = 'broadcastMid';
  const { outer, mid, inner } = view;
  checkView(op, y, view, 'input', outer * inner);
  const gpu = y.gpu;
  const out = result(gpu, op, opts, [outer, mid, inner], outer * mid * inner, y);
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  const [limX, limY, limZ] = workgroupLimits(gpu);
  const tx = Math.min(64, limX, pow2AtLeast(inner));
  const ty = Math.min(limY, 256 / tx, pow2AtLeast(mid));
  const to = Math.min(limZ, 256 / (tx * ty), pow2AtLeast(outer));
  const colBlocks = Math.ceil(inner / tx);
  if (colBlocks > maxDim)
    throw new GpuError('over-limit', `${op}: inner size ${inner} needs ${colBlocks} workgroups, more than this adapter's ${maxDim} per dimension`);
  gpu.dispatch(broadcastMidKernel, {
    bind: { y, out },
    uniforms: { params: { outer, mid, inner, alpha: opts.alpha ?? 1 } },
    overrides: { TX: tx, TY: ty, TO: to },
    workgroups: [colBlocks, Math.min(Math.ceil(mid / ty), maxDim), Math.min(Math.ceil(outer / to), maxDim)],
  });
  return out;
}
