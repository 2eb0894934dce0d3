/**
 * Batch normalization on the GPU for feature maps [N, C, D, H, W], [N, C, H, W] and features [N, C]
 * (statistics per channel over N and every spatial axis, as PyTorch's BatchNorm{1,2,3}d), with the
 * fused BN + ReLU. Every pass views x as [N, C, S = D·H·W] and uses vec4 loads when S % 4 == 0.
 *
 * Training forward (3 dispatches): partial (count, mean, M2) per channel segment, shifted by a sample of
 * the channel (Welford per thread, Chan's pairwise merge across threads and workgroups; never
 * E[x²] − E[x]²) → per-channel merge, mean, invStd and the running-stat update → y.
 * Backward (3 dispatches): partial Σg and Σg·(x − mean) → dgamma, dbeta and per-channel coefficients
 * → dx in closed form. No float atomics: each reduction writes partials, and a second pass merges them.
 *
 * Saved for backward: x, mean and invStd (returned by the forward); the fused variant also needs its
 * output y, whose sign is the ReLU mask (the graph keeps y anyway as the next layer's input).
 *
 * A feature map larger than one storage binding is streamed a few batch entries at a time (chunks.ts):
 * each chunk's partials take their own slots of the one partial buffer, all shifted by the same sample
 * (batch entry 0), so the merge passes see the same partials a one-chunk pass would have made.
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { batchChunks, entries } from './chunks.js';
import { defineKernel, ELEMENT_WG as WG } from './define.js';
import { reductionTuning } from './reduce.js';

type F32 = GpuTensor<'f32'>;

/**
 * Each pass that streams x has one shader, `alias V = f32;` its load; the *-vec4 kernel is the same file
 * with V = vec4<f32> (a quarter of the loads, used when S % 4 == 0 so every plane starts 16-byte aligned).
 * The shaders read the lane count from V itself (shaders/batchnorm/lanes.part.wgsl), so the alias is
 * the only switch.
 */
const VEC4 = { V: 'vec4<f32>' };
const STATS = { params: 'uniform', x: 'read', partial: 'read_write', shift: 'read' } as const;
export const bnStatsKernel = defineKernel({ name: 'batchnorm-stats', shader: 'batchnorm/stats', bindings: STATS });
export const bnStatsVec4Kernel = defineKernel({ name: 'batchnorm-stats-vec4', shader: 'batchnorm/stats', bindings: STATS, alias: VEC4 });
export const bnStatsReduceKernel = defineKernel({
  name: 'batchnorm-stats-reduce',
  shader: 'batchnorm/stats-reduce',
  bindings: { params: 'uniform', x: 'read', partial: 'read', mean: 'read_write', invStd: 'read_write', runningMean: 'read_write', runningVar: 'read_write' },
});
export const bnEvalInvStdKernel = defineKernel({
  name: 'batchnorm-eval-invstd',
  shader: 'batchnorm/eval-invstd',
  bindings: { params: 'uniform', runningVar: 'read', invStd: 'read_write' },
});
const FWD = { params: 'uniform', x: 'read', gamma: 'read', beta: 'read', mean: 'read', invStd: 'read', y: 'read_write' } as const;
export const bnForwardKernel = defineKernel({ name: 'batchnorm-forward', shader: 'batchnorm/forward', bindings: FWD });
export const bnForwardVec4Kernel = defineKernel({ name: 'batchnorm-forward-vec4', shader: 'batchnorm/forward', bindings: FWD, alias: VEC4 });
const BWA = { params: 'uniform', dy: 'read', x: 'read', y: 'read', mean: 'read', partial: 'read_write' } as const;
export const bnBackwardAffineKernel = defineKernel({ name: 'batchnorm-backward-affine', shader: 'batchnorm/backward-affine', bindings: BWA });
export const bnBackwardAffineVec4Kernel = defineKernel({
  name: 'batchnorm-backward-affine-vec4',
  shader: 'batchnorm/backward-affine',
  bindings: BWA,
  alias: VEC4,
});
export const bnBackwardAffineReduceKernel = defineKernel({
  name: 'batchnorm-backward-affine-reduce',
  shader: 'batchnorm/backward-affine-reduce',
  bindings: { params: 'uniform', partial: 'read', gamma: 'read', mean: 'read', invStd: 'read', dgamma: 'read_write', dbeta: 'read_write', coef: 'read_write' },
});
const BWI = { params: 'uniform', coef: 'read', dy: 'read', x: 'read', y: 'read', dx: 'read_write' } as const;
export const bnBackwardInputKernel = defineKernel({ name: 'batchnorm-backward-input', shader: 'batchnorm/backward-input', bindings: BWI });
export const bnBackwardInputVec4Kernel = defineKernel({
  name: 'batchnorm-backward-input-vec4',
  shader: 'batchnorm/backward-input',
  bindings: BWI,
  alias: VEC4,
});

/** Threads per workgroup of the per-channel merge passes. */
const WG_REDUCE = 64;

export interface BatchNormTrainOptions {
  /** Added to the variance before the square root; default 1e-5 (PyTorch). */
  eps?: number;
  /** running ← (1 − momentum)·running + momentum·batch; default 0.1 (PyTorch). */
  momentum?: number;
  /** Fused BN + ReLU: y = max(bn(x), 0). */
  relu?: boolean;
  /** Preallocated outputs (tests pass poisoned ones). */
  out?: { y?: F32; mean?: F32; invStd?: F32 };
}

export interface BatchNormTrainResult {
  /** bn(x) (after ReLU when fused), shape of x. */
  y: F32;
  /** Batch mean per channel [C] (saved for backward). */
  mean: F32;
  /** 1 / sqrt(biased batch variance + eps) per channel [C] (saved for backward). */
  invStd: F32;
}

export interface BatchNormEvalOptions {
  eps?: number;
  relu?: boolean;
  out?: F32;
}

export interface BatchNormBackwardOptions {
  /** Backward of the fused BN + ReLU; needs `y`, the fused forward's output (its sign is the mask). */
  relu?: boolean;
  y?: F32;
  out?: { dx?: F32; dgamma?: F32; dbeta?: F32 };
}

export interface BatchNormGrads {
  dx: F32;
  dgamma: F32;
  dbeta: F32;
}

interface Geometry {
  n: number;
  c: number;
  /** Spatial size of one (n, c) plane. */
  s: number;
  planes: number;
  vec4: boolean;
}

function geometry(op: string, x: GpuTensor): Geometry {
  if (x.dtype !== 'f32') throw new GpuError('usage', `${op}: input must be f32, got ${x.dtype}`);
  if (x.shape.length < 2 || x.shape.length > 5) {
    throw new GpuError('usage', `${op}: input [${x.shape.join(', ')}] must be [N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W]`);
  }
  const [n, c] = x.shape as [number, number];
  let s = 1;
  for (let i = 2; i < x.shape.length; i++) s *= x.shape[i]!;
  return { n, c, s, planes: n * c, vec4: s % 4 === 0 };
}

function checkChannel(op: string, t: GpuTensor, c: number, name: string): void {
  if (t.dtype !== 'f32' || t.size !== c) {
    throw new GpuError('usage', `${op}: ${name} ${t} must be an f32 tensor of ${c} values (one per channel of the input)`);
  }
}

function checkLike(op: string, t: GpuTensor, x: GpuTensor, name: string): void {
  if (t.dtype !== 'f32' || t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
    throw new GpuError('usage', `${op}: ${name} ${t} must be f32 with the input's shape [${x.shape.join(', ')}]`);
  }
}

function outOr(gpu: Gpu, op: string, t: F32 | undefined, shape: readonly number[], name: string, ...inputs: GpuTensor[]): F32 {
  if (!t) return gpu.empty(shape, 'f32');
  if (t.dtype !== 'f32' || t.size !== shape.reduce((a, b) => a * b, 1)) {
    throw new GpuError('usage', `${op}: out.${name} ${t} must be f32 of shape [${shape.join(', ')}]`);
  }
  if (inputs.includes(t)) throw new GpuError('usage', `${op}: out.${name} must not alias an input (WebGPU forbids read and write of one buffer in a dispatch)`);
  return t;
}

const pow2AtLeast = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

interface Segmentation {
  /** Threads per workgroup (a power of two, for the tree). */
  wg: number;
  /** Loads (vec4s or values) per segment of a channel's N·S values, and segments per channel. */
  seg: number;
  q: number;
  wgY: number;
  /**
   * A thread's next load is wg loads further along the channel: its index moves by `step`
   * (divmod(wg, plane) = (planes, stepS) of the channel), and by `planeStep` more when s wraps.
   */
  stepS: number;
  step: number;
  planeStep: number;
}

/**
 * Segments for the partial-reduction passes (stats, backward-affine): a channel's N·S values, taken
 * n-major, are cut into segments of whole loops, one workgroup each, so small planes share a workgroup
 * and big ones are split. Threads per workgroup follow the channel's length (at least the tuning's
 * minThreads: planes of 8 vec4s get narrow workgroups with a short tree), segment length the adapter's
 * reduction tuning (many short workgroups on a GPU, few long ones on a CPU emulation).
 */
function segmentation(gpu: Gpu, g: Geometry): Segmentation {
  const tune = reductionTuning(gpu);
  const plane = g.vec4 ? g.s / 4 : g.s;
  const len = g.n * plane;
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  const wg = Math.max(Math.min(tune.minThreads ?? 32, tune.threads), Math.min(tune.threads, pow2AtLeast(Math.ceil(len / tune.minPerThread))));
  let iters = Math.max(tune.minPerThread, Math.ceil((len * g.c) / (tune.targetGroups * wg)));
  iters = Math.min(iters, Math.ceil(len / wg));
  let seg = iters * wg;
  while (Math.ceil(len / seg) > maxDim) seg *= 2;
  const stepS = wg % plane;
  const step = Math.floor(wg / plane) * g.c * plane + stepS;
  return { wg, seg, q: Math.ceil(len / seg), wgY: Math.min(g.c, maxDim), stepS, step, planeStep: (g.c - 1) * plane };
}

/** Threads of the per-channel merge passes: enough for P partials, at most WG_REDUCE (a lone partial needs no tree). */
const reduceThreads = (p: number) => Math.min(WG_REDUCE, pow2AtLeast(p));

/** One batch chunk of a pass: its entries, its geometry and segmentation, and its first partial slot. */
interface Chunk {
  n0: number;
  n1: number;
  g: Geometry;
  seg: Segmentation;
  q0: number;
}

/**
 * The batch chunks whose feature maps fit one storage binding (one chunk, the whole batch, when the
 * tensors do), each segmented on its own; `q` is the partial slots per channel they take together.
 */
function chunkPlan(gpu: Gpu, op: string, g: Geometry): { chunks: Chunk[]; q: number } {
  let q = 0;
  const chunks = batchChunks(gpu, op, g.n, [g.c * g.s], 0).map(([n0, n1]) => {
    const cg = { ...g, n: n1 - n0, planes: (n1 - n0) * g.c };
    const seg = segmentation(gpu, cg);
    const chunk = { n0, n1, g: cg, seg, q0: q };
    q += seg.q;
    return chunk;
  });
  return { chunks, q };
}

/** The chunk's entries of a tensor shaped like the input (the tensor itself when there is one chunk). */
const part = (t: F32, c: Chunk, whole: boolean): F32 => (whole ? t : entries(t, c.n0, c.n1));

/** The uniform of a partial-reduction pass over one chunk. */
function segmentParams(c: Chunk, q: number) {
  const { seg, stepS, step, planeStep } = c.seg;
  return { C: c.g.c, S: c.g.s, N: c.g.n, Q: q, seg, stepS, step, planeStep, Q0: c.q0 };
}

/**
 * Grid of the streaming passes (forward, backward-input): the flat element (or vec4) index on a 2-D
 * grid, so small planes keep every lane busy; capped where the tuning wants long per-thread loops (a
 * CPU emulation pays per workgroup). A thread steps its channel by the grid stride split into
 * channels (stepC) and a plane offset (stepS) instead of dividing per element.
 */
function streamGrid(gpu: Gpu, g: Geometry): { workgroups: [number, number]; total: number; stepC: number; stepS: number } {
  const tune = reductionTuning(gpu);
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  const plane = g.vec4 ? g.s / 4 : g.s;
  const total = g.planes * plane;
  const need = Math.ceil(total / WG);
  const groups = Math.max(1, Math.min(need, Math.max(tune.targetGroups, Math.ceil(need / tune.minPerThread)), maxDim * maxDim));
  const gx = Math.min(groups, maxDim);
  const gy = Math.ceil(groups / gx);
  const stride = gx * gy * WG;
  return { workgroups: [gx, gy], total, stepC: Math.floor(stride / plane) % g.c, stepS: stride % plane };
}

function applyForward(x: F32, g: Geometry, gamma: F32, beta: F32, mean: F32, invStd: F32, y: F32, relu: boolean, chunks: Chunk[]): void {
  const gpu = x.gpu;
  const common = { gamma, beta, mean, invStd };
  const whole = chunks.length === 1;
  for (const c of chunks) {
    const { workgroups, total, stepC, stepS } = streamGrid(gpu, c.g);
    gpu.dispatch(g.vec4 ? bnForwardVec4Kernel : bnForwardKernel, {
      bind: { ...common, x: part(x, c, whole), y: part(y, c, whole) },
      uniforms: { params: { C: g.c, S: g.s, total, stepC, stepS } },
      overrides: { WG, RELU: relu ? 1 : 0 },
      workgroups,
    });
  }
}

/**
 * Training-mode forward with batch statistics: y = γ·(x − mean)/sqrt(var + eps) + β (then ReLU when
 * `relu`). Updates `runningMean` and `runningVar` IN PLACE (unbiased variance for runningVar, as
 * PyTorch); pass `null` for both to skip the update. Returns y and the saved mean and invStd.
 */
export function batchNormTrain(
  x: F32,
  gamma: F32,
  beta: F32,
  runningMean: F32 | null,
  runningVar: F32 | null,
  opts: BatchNormTrainOptions = {},
): BatchNormTrainResult {
  const op = 'batchNormTrain';
  const gpu = x.gpu;
  const g = geometry(op, x);
  checkChannel(op, gamma, g.c, 'gamma');
  checkChannel(op, beta, g.c, 'beta');
  if ((runningMean === null) !== (runningVar === null)) throw new GpuError('usage', `${op}: pass both runningMean and runningVar, or neither`);
  if (runningMean && runningVar) {
    checkChannel(op, runningMean, g.c, 'runningMean');
    checkChannel(op, runningVar, g.c, 'runningVar');
    if (runningMean === runningVar) throw new GpuError('usage', `${op}: runningMean and runningVar must be different tensors`);
  }
  const count = g.n * g.s;
  if (count < 2) {
    throw new GpuError(
      'usage',
      `${op}: training needs more than one value per channel (got N·spatial = ${count} for input [${x.shape.join(', ')}]); use eval mode or a larger batch`,
    );
  }
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? 0.1;
  const y = outOr(gpu, op, opts.out?.y, x.shape, 'y', x, gamma, beta);
  const mean = outOr(gpu, op, opts.out?.mean, [g.c], 'mean', x, gamma, beta);
  const invStd = outOr(gpu, op, opts.out?.invStd, [g.c], 'invStd', x, gamma, beta);

  const { chunks, q } = chunkPlan(gpu, op, g);
  const whole = chunks.length === 1;
  // Every chunk's partials are relative to the same shift, a sample of batch entry 0.
  const shift = whole ? x : entries(x, 0, 1);
  const partial = gpu.empty([g.c, q, 3], 'f32');
  for (const c of chunks) {
    gpu.dispatch(g.vec4 ? bnStatsVec4Kernel : bnStatsKernel, {
      bind: { x: part(x, c, whole), partial, shift },
      uniforms: { params: segmentParams(c, q) },
      overrides: { WG: c.seg.wg },
      workgroups: [c.seg.q, c.seg.wgY],
    });
  }
  // Without running statistics the update is compiled out; scratch tensors fill the unused bindings.
  const update = runningMean !== null;
  const rm = runningMean ?? gpu.empty([g.c], 'f32');
  const rv = runningVar ?? gpu.empty([g.c], 'f32');
  gpu.dispatch(bnStatsReduceKernel, {
    bind: { x: shift, partial, mean, invStd, runningMean: rm, runningVar: rv },
    uniforms: { params: { C: g.c, S: g.s, P: q, count, unbias: count / (count - 1), eps, momentum } },
    overrides: { WG: reduceThreads(q), UPDATE: update ? 1 : 0 },
    workgroups: [Math.min(g.c, gpu.limits.maxComputeWorkgroupsPerDimension!)],
  });
  partial.release();
  if (!update) {
    rm.release();
    rv.release();
  }
  applyForward(x, g, gamma, beta, mean, invStd, y, opts.relu ?? false, chunks);
  return { y, mean, invStd };
}

function evalInvStd(runningVar: F32, c: number, eps: number): F32 {
  const invStd = runningVar.gpu.empty([c], 'f32');
  runningVar.gpu.dispatch(bnEvalInvStdKernel, {
    bind: { runningVar, invStd },
    uniforms: { params: { C: c, eps } },
    overrides: { WG: WG_REDUCE },
    workgroups: [Math.ceil(c / WG_REDUCE)],
  });
  return invStd;
}

/** Eval-mode forward with running statistics: y = γ·(x − runningMean)/sqrt(runningVar + eps) + β (+ ReLU). */
export function batchNormEval(x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, opts: BatchNormEvalOptions = {}): F32 {
  const op = 'batchNormEval';
  const gpu = x.gpu;
  const g = geometry(op, x);
  checkChannel(op, gamma, g.c, 'gamma');
  checkChannel(op, beta, g.c, 'beta');
  checkChannel(op, runningMean, g.c, 'runningMean');
  checkChannel(op, runningVar, g.c, 'runningVar');
  const y = outOr(gpu, op, opts.out, x.shape, 'y', x, gamma, beta, runningMean, runningVar);
  const invStd = evalInvStd(runningVar, g.c, opts.eps ?? 1e-5);
  applyForward(x, g, gamma, beta, runningMean, invStd, y, opts.relu ?? false, chunkPlan(gpu, op, g).chunks);
  invStd.release();
  return y;
}

function backward(op: string, dy: F32, x: F32, gamma: F32, mean: F32, invStd: F32, train: boolean, opts: BatchNormBackwardOptions): BatchNormGrads {
  const gpu = x.gpu;
  const g = geometry(op, x);
  checkLike(op, dy, x, 'dy');
  checkChannel(op, gamma, g.c, 'gamma');
  checkChannel(op, mean, g.c, 'mean');
  checkChannel(op, invStd, g.c, 'invStd');
  const relu = opts.relu ?? false;
  if (relu) {
    if (!opts.y) throw new GpuError('usage', `${op}: the fused BN + ReLU backward needs opts.y, the forward's output (its sign is the ReLU mask)`);
    checkLike(op, opts.y, x, 'y');
  } else if (opts.y) {
    throw new GpuError('usage', `${op}: opts.y is only used with relu: true (the fused BN + ReLU); drop it or set relu`);
  }
  const mask = relu ? opts.y! : dy; // unread without RELU: any read-only tensor of the right size
  const inputs = [dy, x, gamma, mean, invStd, mask];
  const dx = outOr(gpu, op, opts.out?.dx, x.shape, 'dx', ...inputs);
  const dgamma = outOr(gpu, op, opts.out?.dgamma, [g.c], 'dgamma', ...inputs);
  const dbeta = outOr(gpu, op, opts.out?.dbeta, [g.c], 'dbeta', ...inputs);

  const { chunks, q } = chunkPlan(gpu, op, g);
  const whole = chunks.length === 1;
  const partial = gpu.empty([g.c, q, 2], 'f32');
  for (const c of chunks) {
    gpu.dispatch(g.vec4 ? bnBackwardAffineVec4Kernel : bnBackwardAffineKernel, {
      bind: { dy: part(dy, c, whole), x: part(x, c, whole), y: part(mask, c, whole), mean, partial },
      uniforms: { params: segmentParams(c, q) },
      overrides: { WG: c.seg.wg, RELU: relu ? 1 : 0 },
      workgroups: [c.seg.q, c.seg.wgY],
    });
  }
  const coef = gpu.empty([g.c, 4], 'f32');
  gpu.dispatch(bnBackwardAffineReduceKernel, {
    bind: { partial, gamma, mean, invStd, dgamma, dbeta, coef },
    uniforms: { params: { C: g.c, P: q, invCount: 1 / (g.n * g.s) } },
    overrides: { WG: reduceThreads(q), TRAIN: train ? 1 : 0 },
    workgroups: [Math.min(g.c, gpu.limits.maxComputeWorkgroupsPerDimension!)],
  });
  partial.release();
  for (const c of chunks) {
    const grid = streamGrid(gpu, c.g);
    gpu.dispatch(g.vec4 ? bnBackwardInputVec4Kernel : bnBackwardInputKernel, {
      bind: { coef, dy: part(dy, c, whole), x: part(x, c, whole), y: part(mask, c, whole), dx: part(dx, c, whole) },
      uniforms: { params: { C: g.c, S: g.s, total: grid.total, stepC: grid.stepC, stepS: grid.stepS } },
      overrides: { WG, RELU: relu ? 1 : 0 },
      workgroups: grid.workgroups,
    });
  }
  coef.release();
  return { dx, dgamma, dbeta };
}

/**
 * Training-mode backward (batch statistics) in closed form, from the forward's saved `mean` and
 * `invStd`: dx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)), dgamma = Σ g·x̂, dbeta = Σ g, with g = dy
 * (masked by y > 0 for the fused BN + ReLU: pass `{ relu: true, y }`).
 */
export function batchNormBackward(dy: F32, x: F32, gamma: F32, mean: F32, invStd: F32, opts: BatchNormBackwardOptions = {}): BatchNormGrads {
  return backward('batchNormBackward', dy, x, gamma, mean, invStd, true, opts);
}

/**
 * Eval-mode backward (running statistics are constants, so BN is affine): dx = γ·g/sqrt(runningVar + eps),
 * dgamma = Σ g·x̂, dbeta = Σ g (g masked by y > 0 with `{ relu: true, y }`).
 */
export function batchNormEvalBackward(
  dy: F32,
  x: F32,
  gamma: F32,
  runningMean: F32,
  runningVar: F32,
  opts: BatchNormBackwardOptions & { eps?: number } = {},
): BatchNormGrads {
  const op = 'batchNormEvalBackward';
  const c = geometry(op, x).c;
  checkChannel(op, runningVar, c, 'runningVar');
  const invStd = evalInvStd(runningVar, c, opts.eps ?? 1e-5);
  try {
    return backward(op, dy, x, gamma, runningMean, invStd, false, opts);
  } finally {
    invStd.release();
  }
}
