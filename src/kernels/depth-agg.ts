/**
 * Depth aggregations of Section 2.4 on the GPU: [N, C, D] slice features → one [N, C'] vector per
 * volume, each with its backward, matching depth-agg.ref.ts (same ε, same first-index ties):
 *
 * - average   y = (1/D) Σ_d x                                           2 kernels (fwd, bwd)
 * - max       y = max_d x, argmax [N, C] i32 routes the gradient        2 kernels
 * - attention eq. (4)–(5), softmax over D per channel; the backward recomputes the softmax from x
 * - bilinear  B = (1/D) X Xᵀ → signed sqrt (SIGNED_SQRT_EPS) → L2 norm (L2_NORM_EPS), C' = C·C;
 *             forward 2 dispatches (X Xᵀ in 64×64 register-blocked tiles + ssqrt + Σs² partials;
 *             normalise), backward 2
 *             (Σ y·gy partials; one tiled product through the whole chain). Saved: y and norm [N]
 *             only, because |s| + √ε = sqrt(|b| + ε) gives the signed sqrt's slope from y·norm.
 *
 * Conditioning: with signed features an entry b = (1/D) Σ_d x_id x_jd can cancel to ≈ 0, where the
 * signed sqrt's slope magnifies f32 rounding ~ (Σ|x_id x_jd|)/|b| times — a property of the chain, not of
 * the kernels (PyTorch in f32 does the same). Post-ReLU features, what the network feeds it, never cancel.
 *
 * Slice-wise mode (the f- models) needs no kernel here: the FC shared across slices is a plain
 * linear layer on the [N·D, C] matrix, i.e. [N, C, D] transposed to [N, D, C].
 *
 * Input layout: [N, C, D] row-major (D contiguous), or [N, C, D, 1, 1] (read the same way).
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, ELEMENT_WG as WG, elementGrid } from './define.js';
import { L2_NORM_EPS } from './activations.js';

export type DepthAggKind = 'avg' | 'max' | 'attention' | 'bilinear';

/**
 * ε of the signed square root. We use the shifted form
 *   ssqrt(b) = sign(b) · (sqrt(|b| + ε) − sqrt(ε)) = b / (sqrt(|b| + ε) + sqrt(ε)),
 * evaluated as the right-hand side (no cancellation, no sign()). Unlike the common
 * sign(b)·sqrt(|b| + ε) it is continuous at 0 (that one jumps by 2√ε, so f32 and f64 disagree
 * whenever a rounding flips the sign of a tiny b), and its slope 1/(2·sqrt(|b| + ε)) is continuous
 * and finite everywhere, at most 1/(2√ε) = 5e4 at b = 0. ε = 1e−10 (a common choice in PyTorch
 * B-CNN code) changes outputs by at most √ε = 1e−5 and is still a normal number in float32.
 */
export const SIGNED_SQRT_EPS = 1e-10;

/** Threads per side of the bilinear kernels' workgroups (their TILE override; also the slice chunk). */
const TILE = 16;
/** Output rows (and forward columns) per bilinear workgroup: TILE threads × 4 registers (the shaders' BLOCK). */
const BLOCK = 4 * TILE;
/** Elements per workgroup of the chunked reductions: WG threads × ITEMS each. */
const ITEMS = 4;

export const depthAvgForwardKernel = defineKernel({
  name: 'depth-avg-forward',
  shader: 'depth-agg/avg-forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write' },
});
export const depthAvgBackwardKernel = defineKernel({
  name: 'depth-avg-backward-x',
  shader: 'depth-agg/avg-backward',
  bindings: { params: 'uniform', gy: 'read', gx: 'read_write' },
});
export const depthMaxForwardKernel = defineKernel({
  name: 'depth-max-forward',
  shader: 'depth-agg/max-forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write', argmax: 'read_write' },
});
export const depthMaxBackwardKernel = defineKernel({
  name: 'depth-max-backward-x',
  shader: 'depth-agg/max-backward',
  bindings: { params: 'uniform', gy: 'read', argmax: 'read', gx: 'read_write' },
});
export const depthAttentionForwardKernel = defineKernel({
  name: 'depth-attention-forward',
  shader: 'depth-agg/attention-forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write' },
});
export const depthAttentionBackwardKernel = defineKernel({
  name: 'depth-attention-backward-x',
  shader: 'depth-agg/attention-backward',
  bindings: { params: 'uniform', x: 'read', gy: 'read', gx: 'read_write' },
});
export const bilinearForwardKernel = defineKernel({
  name: 'bilinear-forward',
  shader: 'depth-agg/bilinear-forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write', partial: 'read_write' },
});
export const bilinearNormalizeKernel = defineKernel({
  name: 'bilinear-normalize',
  shader: 'depth-agg/bilinear-normalize',
  bindings: { params: 'uniform', partial: 'read', y: 'read_write', norm: 'read_write' },
});
export const bilinearBackwardDotKernel = defineKernel({
  name: 'bilinear-backward-dot',
  shader: 'depth-agg/bilinear-backward-dot',
  bindings: { params: 'uniform', y: 'read', gy: 'read', partial: 'read_write' },
});
export const bilinearBackwardKernel = defineKernel({
  name: 'bilinear-backward-x',
  shader: 'depth-agg/bilinear-backward-x',
  bindings: { params: 'uniform', x: 'read', y: 'read', gy: 'read', norm: 'read', partial: 'read', gx: 'read_write' },
});

/** [N, C, D] of a depth-aggregation input ([N, C, D] or [N, C, D, 1, 1]). */
export function depthAggDims(shape: readonly number[], op: string): [number, number, number] {
  const ok = shape.length === 3 || (shape.length === 5 && shape[3] === 1 && shape[4] === 1);
  if (!ok || shape.slice(0, 3).some((s) => !(s >= 1))) {
    throw new GpuError('usage', `${op}: input must be [N, C, D] (or [N, C, D, 1, 1]) with every extent >= 1, got [${shape.join(', ')}]; pool the plane first`);
  }
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** Output shape [N, C'] (C' = C, or C·C for bilinear). */
export function depthAggOutputShape(kind: DepthAggKind, shape: readonly number[]): [number, number] {
  const [n, c] = depthAggDims(shape, `depth aggregation '${kind}'`);
  return kind === 'bilinear' ? [n, c * c] : [n, c];
}

function checkOut(op: string, t: GpuTensor | undefined, size: number, dtype: string, name: string): void {
  if (t && (t.size !== size || t.dtype !== dtype)) {
    throw new GpuError('usage', `${op}: ${name} ${t} must be ${dtype} with ${size} elements`);
  }
}

function checkGrad(op: string, gy: GpuTensor, size: number, what: string): void {
  if (gy.size !== size) throw new GpuError('usage', `${op}: upstream gradient ${gy} must have ${size} elements (${what})`);
}

function checkZ(gpu: Gpu, op: string, n: number): void {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension!;
  if (n > max) throw new GpuError('usage', `${op}: batch N = ${n} exceeds ${max} workgroups per dimension; split the batch`);
}

// ------------------------------------------------------------------------------------ average

/** y[n,c] = (1/D) Σ_d x[n,c,d] → [N, C]. */
export function avgPoolDepth(x: GpuTensor, out?: GpuTensor): GpuTensor {
  const [n, c, d] = depthAggDims(x.shape, 'avgPoolDepth');
  checkOut('avgPoolDepth', out, n * c, 'f32', 'out');
  const y = out ?? x.gpu.empty([n, c]);
  x.gpu.dispatch(depthAvgForwardKernel, {
    bind: { x, y },
    uniforms: { params: { rows: n * c, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, n * c),
  });
  return y;
}

/** gx[n,c,d] = gy[n,c] / D; `shape` is the forward input's shape. */
export function avgPoolDepthBackward(gy: GpuTensor, shape: readonly number[], out?: GpuTensor): GpuTensor {
  const [n, c, d] = depthAggDims(shape, 'avgPoolDepthBackward');
  checkGrad('avgPoolDepthBackward', gy, n * c, '[N, C]');
  checkOut('avgPoolDepthBackward', out, n * c * d, 'f32', 'out');
  const gx = out ?? gy.gpu.empty([n, c, d]);
  gy.gpu.dispatch(depthAvgBackwardKernel, {
    bind: { gy, gx },
    uniforms: { params: { n: n * c * d, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(gy.gpu, n * c * d),
  });
  return gx;
}

// ------------------------------------------------------------------------------------ max

export interface MaxPoolDepthResult {
  /** [N, C] maxima. */
  y: GpuTensor;
  /** [N, C] i32 slice index of the maximum (first on ties; a NaN wins and propagates). */
  argmax: GpuTensor<'i32'>;
}

/** y[n,c] = max_d x[n,c,d] with its argmax. */
export function maxPoolDepth(x: GpuTensor, out?: { y?: GpuTensor; argmax?: GpuTensor<'i32'> }): MaxPoolDepthResult {
  const [n, c, d] = depthAggDims(x.shape, 'maxPoolDepth');
  checkOut('maxPoolDepth', out?.y, n * c, 'f32', 'out.y');
  checkOut('maxPoolDepth', out?.argmax, n * c, 'i32', 'out.argmax');
  const y = out?.y ?? x.gpu.empty([n, c]);
  const argmax = out?.argmax ?? x.gpu.empty([n, c], 'i32');
  x.gpu.dispatch(depthMaxForwardKernel, {
    bind: { x, y, argmax },
    uniforms: { params: { rows: n * c, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, n * c),
  });
  return { y, argmax };
}

/** gx[n,c,argmax[n,c]] = gy[n,c], zero elsewhere. */
export function maxPoolDepthBackward(gy: GpuTensor, argmax: GpuTensor<'i32'>, shape: readonly number[], out?: GpuTensor): GpuTensor {
  const [n, c, d] = depthAggDims(shape, 'maxPoolDepthBackward');
  checkGrad('maxPoolDepthBackward', gy, n * c, '[N, C]');
  if (argmax.size !== n * c || argmax.dtype !== 'i32')
    throw new GpuError('usage', `maxPoolDepthBackward: argmax ${argmax} must be the i32 [N, C] argmax of maxPoolDepth`);
  checkOut('maxPoolDepthBackward', out, n * c * d, 'f32', 'out');
  const gx = out ?? gy.gpu.empty([n, c, d]);
  gy.gpu.dispatch(depthMaxBackwardKernel, {
    bind: { gy, argmax, gx },
    uniforms: { params: { n: n * c * d, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(gy.gpu, n * c * d),
  });
  return gx;
}

// ------------------------------------------------------------------------------------ attention

/** Eq. (4)–(5): y[n,c] = Σ_d softmax_d(x[n,c,·])_d · x[n,c,d]. */
export function attentionPoolDepth(x: GpuTensor, out?: GpuTensor): GpuTensor {
  const [n, c, d] = depthAggDims(x.shape, 'attentionPoolDepth');
  checkOut('attentionPoolDepth', out, n * c, 'f32', 'out');
  const y = out ?? x.gpu.empty([n, c]);
  x.gpu.dispatch(depthAttentionForwardKernel, {
    bind: { x, y },
    uniforms: { params: { rows: n * c, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, n * c),
  });
  return y;
}

/** gx = gy · A · (1 + x − y), recomputing A and y from x (nothing saved but x). */
export function attentionPoolDepthBackward(x: GpuTensor, gy: GpuTensor, out?: GpuTensor): GpuTensor {
  const [n, c, d] = depthAggDims(x.shape, 'attentionPoolDepthBackward');
  checkGrad('attentionPoolDepthBackward', gy, n * c, '[N, C]');
  checkOut('attentionPoolDepthBackward', out, n * c * d, 'f32', 'out');
  const gx = out ?? x.gpu.empty([n, c, d]);
  x.gpu.dispatch(depthAttentionBackwardKernel, {
    bind: { x, gy, gx },
    uniforms: { params: { rows: n * c, depth: d } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, n * c),
  });
  return gx;
}

// ------------------------------------------------------------------------------------ bilinear

export interface BilinearPoolOptions {
  /** ε of the signed square root b / (sqrt(|b| + ε) + √ε) (default SIGNED_SQRT_EPS = 1e−10). */
  sqrtEps?: number;
  /** ε added to the squared norm, z = s / sqrt(‖s‖² + ε) (default L2_NORM_EPS = 1e−12). */
  normEps?: number;
}

export interface BilinearPoolResult {
  /** [N, C·C] bilinear features, row-major (i, j). */
  y: GpuTensor;
  /** [N] sqrt(‖s‖² + normEps) per sample; the backward needs it (with y). */
  norm: GpuTensor;
}

function epsOf(opts: BilinearPoolOptions): { sqrtEps: number; normEps: number } {
  const sqrtEps = opts.sqrtEps ?? SIGNED_SQRT_EPS;
  const normEps = opts.normEps ?? L2_NORM_EPS;
  // f32 must hold them as positive normal numbers, or the slope bound 1/(2√ε) is lost.
  for (const [k, v] of [
    ['sqrtEps', sqrtEps],
    ['normEps', normEps],
  ] as const) {
    if (!(v >= 1.2e-38) || !Number.isFinite(v))
      throw new GpuError('usage', `bilinear pooling ${k} must be a finite number >= 1.2e-38 (a normal f32), got ${v}`);
  }
  return { sqrtEps, normEps };
}

/** Full bilinear pooling: [N, C, D] → B = (1/D) X Xᵀ → signed sqrt → per-sample L2 norm → [N, C·C]. */
export function bilinearPoolDepth(x: GpuTensor, opts: BilinearPoolOptions = {}, out?: GpuTensor): BilinearPoolResult {
  const gpu = x.gpu;
  const [n, c, d] = depthAggDims(x.shape, 'bilinearPoolDepth');
  const { sqrtEps, normEps } = epsOf(opts);
  checkOut('bilinearPoolDepth', out, n * c * c, 'f32', 'out');
  checkZ(gpu, 'bilinearPoolDepth', n);
  const m = c * c;
  const y = out ?? gpu.empty([n, m]);
  const norm = gpu.empty([n]);
  const t = Math.ceil(c / BLOCK);
  const partial = gpu.empty([n, t * t]);
  gpu.dispatch(bilinearForwardKernel, {
    bind: { x, y, partial },
    uniforms: { params: { channels: c, depth: d, sqrtEps, rootSqrtEps: Math.sqrt(sqrtEps) } },
    overrides: { TILE },
    workgroups: [t, t, n],
  });
  gpu.dispatch(bilinearNormalizeKernel, {
    bind: { partial, y, norm },
    uniforms: { params: { m, tiles: t * t, normEps } },
    overrides: { WG, ITEMS },
    workgroups: [Math.ceil(m / (WG * ITEMS)), n, 1],
  });
  partial.release();
  return { y, norm };
}

/** Gradient w.r.t. x of bilinearPoolDepth, from the forward's x, y and norm; same `opts` as the forward. */
export function bilinearPoolDepthBackward(x: GpuTensor, saved: BilinearPoolResult, gy: GpuTensor, opts: BilinearPoolOptions = {}, out?: GpuTensor): GpuTensor {
  const gpu = x.gpu;
  const [n, c, d] = depthAggDims(x.shape, 'bilinearPoolDepthBackward');
  const { sqrtEps } = epsOf(opts);
  const m = c * c;
  checkGrad('bilinearPoolDepthBackward', gy, n * m, '[N, C·C]');
  if (saved.y.size !== n * m || saved.norm.size !== n) {
    throw new GpuError(
      'usage',
      `bilinearPoolDepthBackward: saved y ${saved.y} / norm ${saved.norm} must be the [N, C·C] / [N] results of bilinearPoolDepth on this x`,
    );
  }
  checkOut('bilinearPoolDepthBackward', out, n * c * d, 'f32', 'out');
  checkZ(gpu, 'bilinearPoolDepthBackward', n);
  const chunks = Math.ceil(m / (WG * ITEMS));
  const partial = gpu.empty([n, chunks]);
  gpu.dispatch(bilinearBackwardDotKernel, {
    bind: { y: saved.y, gy, partial },
    uniforms: { params: { m } },
    overrides: { WG, ITEMS },
    workgroups: [chunks, n, 1],
  });
  const gx = out ?? gpu.empty([n, c, d]);
  gpu.dispatch(bilinearBackwardKernel, {
    bind: { x, y: saved.y, gy, norm: saved.norm, partial, gx },
    uniforms: { params: { channels: c, depth: d, chunks, rootSqrtEps: Math.sqrt(sqrtEps) } },
    overrides: { TILE },
    workgroups: [Math.ceil(d / TILE), Math.ceil(c / BLOCK), n],
  });
  partial.release();
  return gx;
}

// ------------------------------------------------------------------------------------ any kind

/** What each kind's backward needs besides x and gy (tensors owned by the caller). */
export type DepthAggSaved =
  | { kind: 'avg' }
  | { kind: 'max'; argmax: GpuTensor<'i32'> }
  | { kind: 'attention' }
  | { kind: 'bilinear'; norm: GpuTensor; y: GpuTensor };

/** Forward of any depth aggregation: the [N, C'] output and what its backward needs. */
export function depthAgg(kind: DepthAggKind, x: GpuTensor, opts: BilinearPoolOptions = {}, out?: GpuTensor): { y: GpuTensor; saved: DepthAggSaved } {
  switch (kind) {
    case 'avg':
      return { y: avgPoolDepth(x, out), saved: { kind } };
    case 'max': {
      const r = maxPoolDepth(x, out ? { y: out } : undefined);
      return { y: r.y, saved: { kind, argmax: r.argmax } };
    }
    case 'attention':
      return { y: attentionPoolDepth(x, out), saved: { kind } };
    case 'bilinear': {
      const r = bilinearPoolDepth(x, opts, out);
      return { y: r.y, saved: { kind, norm: r.norm, y: r.y } };
    }
    default:
      throw new GpuError('usage', `unknown depth aggregation '${String(kind)}'; use 'avg', 'max', 'attention' or 'bilinear'`);
  }
}

/** Gradient w.r.t. x of any depth aggregation, from depthAgg's `saved`. */
export function depthAggBackward(x: GpuTensor, saved: DepthAggSaved, gy: GpuTensor, opts: BilinearPoolOptions = {}, out?: GpuTensor): GpuTensor {
  switch (saved.kind) {
    case 'avg':
      return avgPoolDepthBackward(gy, x.shape, out);
    case 'max':
      return maxPoolDepthBackward(gy, saved.argmax, x.shape, out);
    case 'attention':
      return attentionPoolDepthBackward(x, gy, out);
    case 'bilinear':
      return bilinearPoolDepthBackward(x, saved, gy, opts, out);
    default:
      throw new GpuError('usage', `unknown depth aggregation '${String((saved as { kind: unknown }).kind)}'`);
  }
}
