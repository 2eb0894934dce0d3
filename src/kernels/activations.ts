/**
 * Activation helpers for evaluation and the losses, as activations.ref.ts: a numerically stable
 * softmax over the last axis (row max subtracted first) with its backward. The elementwise sigmoid
 * (stable for any |x|) lives in elementwise.ts and is re-exported here so callers find both in one place.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, elementGrid } from './define.js';

export { sigmoid } from './elementwise.js';

/**
 * Default ε of L2 normalisation, added to the squared norm: y = x / sqrt(‖x‖² + ε). The smooth
 * form (rather than PyTorch's x / max(‖x‖, 1e−12)) has a continuous gradient everywhere, bounded
 * by 1/√ε = 1e6 at x = 0; for ‖x‖² ≥ 1e−3 the two differ by < 1e−9 relative.
 */
export const L2_NORM_EPS = 1e-12;

export const softmaxForwardKernel = defineKernel({
  name: 'softmax-forward',
  shader: 'activations/softmax-forward',
  bindings: { params: 'uniform', x: 'read', y: 'read_write' },
});
export const softmaxBackwardKernel = defineKernel({
  name: 'softmax-backward-x',
  shader: 'activations/softmax-backward',
  bindings: { params: 'uniform', y: 'read', gy: 'read', gx: 'read_write' },
});

function rowsCols(t: GpuTensor, op: string): [number, number] {
  if (t.shape.length < 1 || t.size === 0) throw new GpuError('usage', `${op}: input ${t} must have at least one axis and one element`);
  const cols = t.shape[t.shape.length - 1]!;
  return [t.size / cols, cols];
}

/** Threads per row: the next power of two ≥ cols, between 32 and 256 (one pipeline per choice). */
function wgFor(cols: number): number {
  let w = 32;
  while (w < cols && w < 256) w *= 2;
  return w;
}

/** Softmax over the last axis of x (any shape; rows = all other axes). */
export function softmax(x: GpuTensor, out?: GpuTensor): GpuTensor {
  const [rows, cols] = rowsCols(x, 'softmax');
  if (out && out.size !== x.size) throw new GpuError('usage', `softmax: out ${out} must have ${x.size} elements`);
  const y = out ?? x.gpu.empty(x.shape);
  x.gpu.dispatch(softmaxForwardKernel, {
    bind: { x, y },
    uniforms: { params: { rows, cols } },
    overrides: { WG: wgFor(cols) },
    workgroups: elementGrid(x.gpu, rows, 1),
  });
  return y;
}

/** Backward of softmax from its output y: gx = y ⊙ (gy − Σ gy·y) per row. */
export function softmaxBackward(y: GpuTensor, gy: GpuTensor, out?: GpuTensor): GpuTensor {
  const [rows, cols] = rowsCols(y, 'softmaxBackward');
  if (gy.size !== y.size) throw new GpuError('usage', `softmaxBackward: gy ${gy} must have as many elements as y ${y}`);
  if (out && out.size !== y.size) throw new GpuError('usage', `softmaxBackward: out ${out} must have ${y.size} elements`);
  const gx = out ?? y.gpu.empty(y.shape);
  y.gpu.dispatch(softmaxBackwardKernel, {
    bind: { y, gy, gx },
    uniforms: { params: { rows, cols } },
    overrides: { WG: wgFor(cols) },
    workgroups: elementGrid(y.gpu, rows, 1),
  });
  return gx;
}
