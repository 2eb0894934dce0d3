/**
 * Layout and small reduction kernels: swap two axes (transpose), gather / scatter-add rows
 * (index_select along dim 0 and its backward), sum/mean to a scalar and its broadcast backward.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, ELEMENT_WG as WG, elementGrid } from './define.js';

type F32 = GpuTensor<'f32'>;

export const swapAxesKernel = defineKernel({ name: 'swap-axes', shader: 'layout/swap-axes', bindings: { params: 'uniform', x: 'read', out: 'read_write' } });
export const gatherRowsKernel = defineKernel({
  name: 'gather-rows',
  shader: 'layout/gather-rows',
  bindings: { params: 'uniform', x: 'read', idx: 'read', out: 'read_write' },
});
export const scatterRowsAddKernel = defineKernel({
  name: 'gather-rows-backward',
  shader: 'layout/scatter-rows-add',
  bindings: { params: 'uniform', dy: 'read', idx: 'read', dx: 'read_write' },
});
export const sumKernel = defineKernel({ name: 'sum', shader: 'layout/sum', bindings: { params: 'uniform', x: 'read', out: 'read_write' } });
export const broadcastKernel = defineKernel({
  name: 'sum-backward',
  shader: 'layout/broadcast',
  bindings: { params: 'uniform', x: 'read', out: 'read_write' },
});

/** The shape after exchanging axes d0 and d1. */
export function swappedShape(shape: readonly number[], d0: number, d1: number): number[] {
  const s = [...shape];
  [s[d0], s[d1]] = [s[d1]!, s[d0]!];
  return s;
}

/** torch.transpose(x, d0, d1).contiguous(). */
export function swapAxes(x: F32, d0: number, d1: number, out?: F32): F32 {
  const r = x.shape.length;
  if (d0 < 0) d0 += r;
  if (d1 < 0) d1 += r;
  if (!(d0 >= 0 && d1 >= 0 && d0 < r && d1 < r)) throw new GpuError('usage', `transpose: axes (${d0}, ${d1}) out of range for rank ${r}`);
  if (d0 > d1) [d0, d1] = [d1, d0];
  const prod = (a: number, b: number) => x.shape.slice(a, b).reduce((p, c) => p * c, 1);
  const o = out ?? x.gpu.empty(swappedShape(x.shape, d0, d1), 'f32');
  if (o.size !== x.size) throw new GpuError('usage', 'transpose: output size mismatch');
  const params = { n: x.size, a: prod(0, d0), b: x.shape[d0]!, m: prod(d0 + 1, d1), c: x.shape[d1]!, i: prod(d1 + 1, r) };
  x.gpu.dispatch(swapAxesKernel, { bind: { x, out: o }, uniforms: { params }, overrides: { WG }, workgroups: elementGrid(x.gpu, x.size) });
  return o;
}

/** Rows of x [R, ...] picked by idx (u32 [S]): [S, ...]. Indices must be < R (checked by the caller on the host). */
export function gatherRows(x: F32, idx: GpuTensor<'u32'>, out?: F32): F32 {
  const k = x.size / x.shape[0]!;
  const o = out ?? x.gpu.empty([idx.size, ...x.shape.slice(1)], 'f32');
  x.gpu.dispatch(gatherRowsKernel, {
    bind: { x, idx, out: o },
    uniforms: { params: { n: o.size, k } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, o.size),
  });
  return o;
}

/** The backward of gatherRows: dx [R, ...] = Σ over repeated indices (deterministic, no atomics). */
export function gatherRowsBackward(dy: F32, idx: GpuTensor<'u32'>, xShape: readonly number[], out?: F32): F32 {
  const o = out ?? dy.gpu.empty(xShape, 'f32');
  const k = o.size / xShape[0]!;
  dy.gpu.dispatch(scatterRowsAddKernel, {
    bind: { dy, idx, dx: o },
    uniforms: { params: { n: o.size, k, s: idx.size } },
    overrides: { WG },
    workgroups: elementGrid(dy.gpu, o.size),
  });
  return o;
}

/** scale · Σ x as a [1] tensor (scale = 1/n gives the mean). */
export function sumAll(x: F32, scale = 1, out?: F32): F32 {
  const o = out ?? x.gpu.empty([1], 'f32');
  x.gpu.dispatch(sumKernel, { bind: { x, out: o }, uniforms: { params: { n: x.size, scale } }, overrides: { WG }, workgroups: [1, 1, 1] });
  return o;
}

/** out[i] = scale · x[0] for a tensor of `shape`. */
export function broadcastScalar(x: F32, shape: readonly number[], scale = 1, out?: F32): F32 {
  const o = out ?? x.gpu.empty(shape, 'f32');
  x.gpu.dispatch(broadcastKernel, {
    bind: { x, out: o },
    uniforms: { params: { n: o.size, scale } },
    overrides: { WG },
    workgroups: elementGrid(x.gpu, o.size),
  });
  return o;
}
