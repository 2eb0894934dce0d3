/**
 * The linear layer y = x·Wᵀ + b (PyTorch's nn.Linear layout: W [out, in], b [out]) and its backward,
 * all on the GEMM of matmul.ts: dx = dy·W, dW = dyᵀ·x, db = column sums of dy.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, elementGrid } from './define.js';
import { asF32, gemm } from './matmul.js';

type F32 = GpuTensor<'f32'>;

export const columnSumKernel = defineKernel({
  name: 'linear-backward-bias',
  shader: 'matmul/column-sum',
  bindings: { params: 'uniform', src: 'read', out: 'read_write' },
});

function checkDims(op: string, x: GpuTensor, w: GpuTensor): { m: number; k: number; o: number } {
  if (x.shape.length !== 2) throw new GpuError('usage', `${op}: input must be [M, in], got [${x.shape.join(', ')}]`);
  if (w.shape.length !== 2) throw new GpuError('usage', `${op}: weight must be [out, in], got [${w.shape.join(', ')}]`);
  if (x.shape[1] !== w.shape[1]) {
    throw new GpuError('usage', `${op}: input has ${x.shape[1]} features but the weight expects ${w.shape[1]}; weight must be [out, ${x.shape[1]}]`);
  }
  return { m: x.shape[0]!, k: x.shape[1]!, o: w.shape[0]! };
}

/** y = x·Wᵀ + b: x [M, in], W [out, in], b [out] or null → y [M, out]. */
export function linear(x: GpuTensor, w: GpuTensor, b: GpuTensor | null = null, out?: GpuTensor): F32 {
  const { o } = checkDims('linear', x, w);
  if (b && (b.shape.length !== 1 || b.shape[0] !== o)) throw new GpuError('usage', `linear: bias must be [${o}], got [${b.shape.join(', ')}]`);
  return gemm(x, w, b, { transB: true }, out, 'linear');
}

/** db = Σ_rows dy: dy [M, out] → [out]. */
export function linearBiasGrad(dy: GpuTensor, out?: GpuTensor): F32 {
  if (dy.shape.length !== 2) throw new GpuError('usage', `linearBiasGrad: dy must be [M, out], got [${dy.shape.join(', ')}]`);
  const [rows, cols] = dy.shape as [number, number];
  asF32(dy, 'linearBiasGrad', 'dy');
  const db = out ? asF32(out, 'linearBiasGrad', 'output') : dy.gpu.empty([cols]);
  if (db.size !== cols) throw new GpuError('usage', `linearBiasGrad: output has ${db.size} elements, expected [${cols}]`);
  if (db === dy) throw new GpuError('usage', 'linearBiasGrad: the output must not alias dy');
  const [gx, gy] = elementGrid(dy.gpu, cols, 64);
  dy.gpu.dispatch(columnSumKernel, { bind: { src: dy, out: db }, uniforms: { params: { rows, cols } }, overrides: { WG: 64 }, workgroups: [gx, gy, 1] });
  return db;
}

/**
 * Gradients of y = x·Wᵀ + b for the upstream gradient dy [M, out]: dx [M, in], dw [out, in] and
 * db [out] (null when the layer has no bias).
 */
export function linearBackward(dy: GpuTensor, x: GpuTensor, w: GpuTensor, hasBias = true): { dx: F32; dw: F32; db: F32 | null } {
  const { m, o } = checkDims('linearBackward', x, w);
  if (dy.shape.length !== 2 || dy.shape[0] !== m || dy.shape[1] !== o) {
    throw new GpuError('usage', `linearBackward: dy must be [${m}, ${o}] (the output's shape), got [${dy.shape.join(', ')}]`);
  }
  const dx = gemm(dy, w, null, {}, undefined, 'linearBackward');
  const dw = gemm(dy, x, null, { transA: true }, undefined, 'linearBackward');
  const db = hasBias ? linearBiasGrad(dy) : null;
  return { dx, dw, db };
}
