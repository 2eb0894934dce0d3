/**
 * Max pooling on NCDHW with per-axis kernel, stride, padding and dilation (the ResNet stem's in-plane
 * pool is kernel [1, 3, 3], stride [1, 2, 2], pad [0, 1, 1]), floor mode, PyTorch semantics: ties keep
 * the first maximum in (d, h, w) scan order, padding never wins, NaN propagates.
 *
 * The forward saves argmax (i32, the flat index inside each (n, c) volume, as PyTorch's
 * return_indices). The backward is a GATHER over dx positions: each thread owns a block of stride-many
 * inputs per axis and adds, for each, the dy of every candidate output whose argmax names it —
 * race-free for any overlap, deterministic, and it writes every dx element once (no zero-fill pass,
 * no atomics, no scatter).
 *
 * Every (n, c) volume is independent, so tensors larger than one storage binding are pooled a few batch
 * entries at a time (chunks.ts).
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { type Triple, triple } from './axes.js';
import { batchChunks, entries } from './chunks.js';
import { defineKernel } from './define.js';

type F32 = GpuTensor<'f32'>;
type I32 = GpuTensor<'i32'>;

export const maxPoolForwardKernel = defineKernel({
  name: 'maxpool-forward',
  shader: 'maxpool/forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write', argmax: 'read_write' },
});
export const maxPoolBackwardInputKernel = defineKernel({
  name: 'maxpool-backward-input',
  shader: 'maxpool/backward-input',
  bindings: { params: 'uniform', dy: 'read', argmax: 'read', dx: 'read_write' },
});

export interface MaxPoolParams {
  /** Window extent (depth, height, width). */
  kernel: Triple;
  /** Per-axis stride; default = kernel (PyTorch's default). */
  stride?: Triple;
  /** Symmetric padding per axis, at most half the kernel extent; default [0, 0, 0]. */
  pad?: Triple;
  /** Per-axis dilation; default [1, 1, 1]. */
  dilation?: Triple;
}

export interface MaxPoolResult {
  /** [N, C, Do, Ho, Wo] */
  y: F32;
  /** i32, shape of y: index (d·H + h)·W + w of the chosen input inside its (n, c) volume. */
  argmax: I32;
}

/**
 * Workgroup tile over (w, h). Fixed, so that one pooling configuration is one pipeline whatever the
 * plane size (the window is baked in as override constants; a per-shape tile would multiply compiles).
 */
const TILE = { WX: 16, WY: 16 } as const;

interface Geometry {
  n: number;
  c: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  kernel: [number, number, number];
  stride: [number, number, number];
  pad: [number, number, number];
  dilation: [number, number, number];
}

function geometry(op: string, xShape: readonly number[], p: MaxPoolParams): Geometry {
  if (xShape.length !== 5) throw new GpuError('usage', `${op}: input shape [${xShape.join(', ')}] must be [N, C, D, H, W] (use D = 1 for 2D maps)`);
  const kernel = triple(op, 'kernel', p.kernel, 1, 1);
  const stride = triple(op, 'stride', p.stride, kernel, 1);
  const pad = triple(op, 'pad', p.pad, 0, 0);
  const dilation = triple(op, 'dilation', p.dilation, 1, 1);
  for (let a = 0; a < 3; a++) {
    // As PyTorch: keeps at least one real element in every window.
    if (2 * pad[a]! > kernel[a]!)
      throw new GpuError('usage', `${op}: pad [${pad.join(', ')}] exceeds half the kernel [${kernel.join(', ')}]; use pad ≤ floor(kernel / 2)`);
  }
  const [n, c, d, h, w] = xShape as [number, number, number, number, number];
  const inSize: [number, number, number] = [d, h, w];
  const outSize = inSize.map((s, a) => Math.floor((s + 2 * pad[a]! - dilation[a]! * (kernel[a]! - 1) - 1) / stride[a]!) + 1) as [number, number, number];
  if (outSize.some((o) => o < 1)) {
    throw new GpuError(
      'usage',
      `${op}: output would be empty ([${outSize.join(', ')}]) for input [${d}, ${h}, ${w}] and kernel [${kernel.join(', ')}]; enlarge the input or the padding`,
    );
  }
  return { n, c, inSize, outSize, kernel, stride, pad, dilation };
}

function uniforms(g: Geometry, planes: number) {
  return { inSize: g.inSize, outSize: g.outSize, planes };
}

/** The window as pipeline constants: one pipeline per pooling configuration (the network has one). */
function windowOverrides(g: Geometry): Record<string, number> {
  const [k, s, p, d] = [g.kernel, g.stride, g.pad, g.dilation];
  return { KD: k[0], KH: k[1], KW: k[2], SD: s[0], SH: s[1], SW: s[2], PD: p[0], PH: p[1], PW: p[2], DD: d[0], DH: d[1], DW: d[2] };
}

/** Output shape [N, C, Do, Ho, Wo] of maxPool3d (floor mode). */
export function maxPool3dOutputShape(xShape: readonly number[], params: MaxPoolParams): number[] {
  const g = geometry('maxPool3dOutputShape', xShape, params);
  return [g.n, g.c, ...g.outSize];
}

/** Forward: the maximum over each window, with its argmax. */
export function maxPool3d(x: F32, params: MaxPoolParams, out: { y?: F32; argmax?: I32 } = {}): MaxPoolResult {
  const op = 'maxPool3d';
  if (x.dtype !== 'f32') throw new GpuError('usage', `${op}: input must be f32, got ${x.dtype}`);
  const g = geometry(op, x.shape, params);
  const gpu = x.gpu;
  const yShape = [g.n, g.c, ...g.outSize];
  const size = yShape.reduce((a, b) => a * b, 1);
  for (const [name, t, dtype] of [
    ['y', out.y, 'f32'],
    ['argmax', out.argmax, 'i32'],
  ] as const) {
    if (t && (t.dtype !== dtype || t.size !== size)) throw new GpuError('usage', `${op}: out.${name} ${t} must be ${dtype} of shape [${yShape.join(', ')}]`);
    if (t === x) throw new GpuError('usage', `${op}: out.${name} must not alias the input`);
  }
  const y = out.y ?? gpu.empty(yShape, 'f32');
  const argmax = out.argmax ?? gpu.empty(yShape, 'i32');
  const chunks = batchChunks(gpu, op, g.n, [x.size / g.n, size / g.n], 0);
  if (chunks.length > 1) {
    for (const [n0, n1] of chunks) maxPool3d(entries(x, n0, n1), params, { y: entries(y, n0, n1), argmax: entries(argmax, n0, n1) });
    return { y, argmax };
  }
  const planes = g.n * g.c * g.outSize[0];
  const t = TILE;
  gpu.dispatch(maxPoolForwardKernel, {
    bind: { x, y, argmax },
    uniforms: { params: uniforms(g, planes) },
    overrides: { ...t, ...windowOverrides(g) },
    workgroups: [Math.ceil(g.outSize[2] / t.WX), Math.ceil(g.outSize[1] / t.WY), Math.min(planes, gpu.limits.maxComputeWorkgroupsPerDimension!)],
  });
  return { y, argmax };
}

/**
 * Backward w.r.t. the input: dx[i] = Σ dy[o] over the outputs o whose argmax is i. `params` and
 * `xShape` must be those of the forward; argmax is the forward's.
 */
export function maxPool3dBackward(dy: F32, argmax: I32, xShape: readonly number[], params: MaxPoolParams, out?: F32): F32 {
  const op = 'maxPool3dBackward';
  const g = geometry(op, xShape, params);
  const gpu = dy.gpu;
  const yShape = [g.n, g.c, ...g.outSize];
  for (const [name, t, dtype] of [
    ['dy', dy, 'f32'],
    ['argmax', argmax, 'i32'],
  ] as const) {
    if (t.dtype !== dtype || t.shape.length !== 5 || t.shape.some((s, i) => s !== yShape[i])) {
      throw new GpuError(
        'usage',
        `${op}: ${name} ${t} must be ${dtype} of shape [${yShape.join(', ')}] (the forward's output for input [${xShape.join(', ')}])`,
      );
    }
  }
  const size = xShape.reduce((a, b) => a * b, 1);
  if (out && (out.dtype !== 'f32' || out.size !== size)) throw new GpuError('usage', `${op}: out ${out} must be f32 of shape [${xShape.join(', ')}]`);
  if (out === dy) throw new GpuError('usage', `${op}: out must not alias dy`);
  const dx = out ?? gpu.empty(xShape, 'f32');
  const chunks = batchChunks(gpu, op, g.n, [size / g.n, dy.size / g.n], 0);
  if (chunks.length > 1) {
    for (const [n0, n1] of chunks) maxPool3dBackward(entries(dy, n0, n1), entries(argmax, n0, n1), [n1 - n0, ...xShape.slice(1)], params, entries(dx, n0, n1));
    return dx;
  }
  // Blocks of `stride` inputs per axis (see the shader): block j holds t = i + pad in [j·s, j·s + s).
  const blocks = g.inSize.map((n, a) => Math.floor((n - 1 + g.pad[a]!) / g.stride[a]!) - Math.floor(g.pad[a]! / g.stride[a]!) + 1) as [number, number, number];
  const planes = g.n * g.c * blocks[0];
  const t = TILE;
  gpu.dispatch(maxPoolBackwardInputKernel, {
    bind: { dy, argmax, dx },
    uniforms: { params: { inSize: g.inSize, outSize: g.outSize, blocks, planes } },
    overrides: { ...t, ...windowOverrides(g) },
    workgroups: [Math.ceil(blocks[2] / t.WX), Math.ceil(blocks[1] / t.WY), Math.min(planes, gpu.limits.maxComputeWorkgroupsPerDimension!)],
  });
  return dx;
}
