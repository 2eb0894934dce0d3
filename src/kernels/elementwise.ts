/**
 * The first kernel set: fill, copy, add, sub, mul, scale, relu (+ its backward), sigmoid, exp.
 * Each op allocates its output from the pool; in-place variants take the destination explicitly.
 * Tensors larger than one storage binding are processed in flat ranges that fit (chunks.ts).
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { DType, GpuTensor } from '../gpu/tensor.js';

type F32 = GpuTensor<'f32'>;
import { elementChunks, elements } from './chunks.js';
import { defineKernel, ELEMENT_WG as WG, elementGrid } from './define.js';

export const fillKernel = defineKernel({ name: 'fill', shader: 'elementwise/fill', bindings: { params: 'uniform', out: 'read_write' } });
export const copyKernel = defineKernel({ name: 'copy', shader: 'elementwise/copy', bindings: { params: 'uniform', src: 'read', out: 'read_write' } });
export const binaryKernel = defineKernel({
  name: 'binary',
  shader: 'elementwise/binary',
  bindings: { params: 'uniform', a: 'read', b: 'read', out: 'read_write' },
});
export const unaryKernel = defineKernel({ name: 'unary', shader: 'elementwise/unary', bindings: { params: 'uniform', x: 'read', out: 'read_write' } });

const BINARY_OP = { add: 0, mul: 1, sub: 2, reluBackward: 3 } as const;
const UNARY_OP = { scale: 0, relu: 1, sigmoid: 2, exp: 3 } as const;

function sameSize(op: string, a: GpuTensor, b: GpuTensor): void {
  if (a.size !== b.size) throw new GpuError('usage', `${op}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ in size (no broadcasting here)`);
}

/** Fills `out` with `value` in place and returns it. */
export function fill<T extends GpuTensor>(out: T, value: number): T {
  const chunks = elementChunks(out.gpu, out.size);
  if (chunks.length > 1) {
    for (const [e0, e1] of chunks) fill(elements(out, e0, e1), value);
    return out;
  }
  out.gpu.dispatch(fillKernel, { bind: { out }, uniforms: { params: { n: out.size, value } }, overrides: { WG }, workgroups: elementGrid(out.gpu, out.size) });
  return out;
}

export function zeros(gpu: Gpu, shape: readonly number[]): F32 {
  return fill(gpu.empty(shape, 'f32'), 0);
}

/** Copies `src` into `dst` (same size, any dtype) and returns `dst`; allocates `dst` when omitted. */
export function copy<D extends DType>(src: GpuTensor<D>, dst?: GpuTensor<D>): GpuTensor<D> {
  const out = dst ?? src.gpu.empty<D>(src.shape, src.dtype);
  sameSize('copy', src, out);
  const chunks = elementChunks(src.gpu, src.size);
  if (chunks.length > 1) {
    for (const [e0, e1] of chunks) copy(elements(src, e0, e1), elements(out, e0, e1));
    return out;
  }
  src.gpu.dispatch(copyKernel, {
    bind: { src, out },
    uniforms: { params: { n: src.size, src_base: 0, dst_base: 0 } },
    overrides: { WG },
    workgroups: elementGrid(src.gpu, src.size),
  });
  return out;
}

function binary(op: keyof typeof BINARY_OP, a: GpuTensor, b: GpuTensor, alpha: number, out?: F32): F32 {
  sameSize(op, a, b);
  const o = out ?? a.gpu.empty(a.shape, 'f32');
  sameSize(op, a, o);
  if (o === a || o === b) throw new GpuError('usage', `${op}: the output must not alias an input (WebGPU forbids read and write of one buffer in a dispatch)`);
  const chunks = elementChunks(a.gpu, a.size);
  if (chunks.length > 1) {
    for (const [e0, e1] of chunks) binary(op, elements(a, e0, e1), elements(b, e0, e1), alpha, elements(o, e0, e1));
    return o;
  }
  a.gpu.dispatch(binaryKernel, {
    bind: { a, b, out: o },
    uniforms: { params: { n: a.size, alpha } },
    overrides: { WG, OP: BINARY_OP[op] },
    workgroups: elementGrid(a.gpu, a.size),
  });
  return o;
}

/** a + alpha·b */
export const add = (a: GpuTensor, b: GpuTensor, alpha = 1, out?: F32) => binary('add', a, b, alpha, out);
/** a − alpha·b */
export const sub = (a: GpuTensor, b: GpuTensor, alpha = 1, out?: F32) => binary('sub', a, b, alpha, out);
export const mul = (a: GpuTensor, b: GpuTensor, out?: F32) => binary('mul', a, b, 1, out);
/** dy · [x > 0] */
export const reluBackward = (dy: GpuTensor, x: GpuTensor, out?: F32) => binary('reluBackward', dy, x, 1, out);

function unary(op: keyof typeof UNARY_OP, x: GpuTensor, alpha: number, beta: number, out?: F32): F32 {
  const o = out ?? x.gpu.empty(x.shape, 'f32');
  sameSize(op, x, o);
  if (o === x) throw new GpuError('usage', `${op}: the output must not alias the input`);
  const chunks = elementChunks(x.gpu, x.size);
  if (chunks.length > 1) {
    for (const [e0, e1] of chunks) unary(op, elements(x, e0, e1), alpha, beta, elements(o, e0, e1));
    return o;
  }
  x.gpu.dispatch(unaryKernel, {
    bind: { x, out: o },
    uniforms: { params: { n: x.size, alpha, beta } },
    overrides: { WG, OP: UNARY_OP[op] },
    workgroups: elementGrid(x.gpu, x.size),
  });
  return o;
}

/** alpha·x + beta */
export const scale = (x: GpuTensor, alpha: number, beta = 0, out?: F32) => unary('scale', x, alpha, beta, out);
export const relu = (x: GpuTensor, out?: F32) => unary('relu', x, 1, 0, out);
export const sigmoid = (x: GpuTensor, out?: F32) => unary('sigmoid', x, 1, 0, out);
export const exp = (x: GpuTensor, out?: F32) => unary('exp', x, 1, 0, out);
