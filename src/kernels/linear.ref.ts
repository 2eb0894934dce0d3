/**
 * Float64 CPU reference for the linear layer y = x·Wᵀ + b with x [M, in], W [out, in] (PyTorch's
 * nn.Linear layout), b [out] or null; the slice-wise shared FC layer and the final classifier.
 */
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';

function dims(xShape: Shape, wShape: Shape): { m: number; k: number; o: number } {
  checkShape(xShape, 2, 'linear input [M, in]');
  checkShape(wShape, 2, 'linear weight [out, in]');
  if (xShape[1] !== wShape[1]) {
    throw new Error(`linear input has ${xShape[1]} features but the weight expects ${wShape[1]}; weight must be [out, ${xShape[1]}]`);
  }
  return { m: xShape[0]!, k: xShape[1]!, o: wShape[0]! };
}

/** Forward: y[m, o] = Σ_k x[m, k]·W[o, k] + b[o]; yShape [M, out]. */
export function linearRef(x: NumArray, xShape: Shape, w: NumArray, wShape: Shape, b: NumArray | null): { y: Float64Array; yShape: number[] } {
  const { m, k, o } = dims(xShape, wShape);
  checkLength(x, xShape, 'linear input');
  checkLength(w, wShape, 'linear weight');
  if (b && b.length !== o) throw new Error(`linear bias has ${b.length} elements but the layer has ${o} outputs; pass [out] or null`);
  const y = new Float64Array(m * o);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < o; j++) {
      let acc = b ? b[j]! : 0;
      for (let t = 0; t < k; t++) acc += x[i * k + t]! * w[j * k + t]!;
      y[i * o + j] = acc;
    }
  }
  return { y, yShape: [m, o] };
}

/** Backward: dx = dy·W [M, in], dw = dyᵀ·x [out, in], db = Σ_m dy [out]. */
export function linearBackwardRef(
  dy: NumArray,
  x: NumArray,
  xShape: Shape,
  w: NumArray,
  wShape: Shape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { m, k, o } = dims(xShape, wShape);
  checkLength(dy, [m, o], 'linear output gradient dy [M, out]');
  checkLength(x, xShape, 'linear input');
  checkLength(w, wShape, 'linear weight');
  const dx = new Float64Array(m * k);
  const dw = new Float64Array(o * k);
  const db = new Float64Array(o);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      let acc = 0;
      for (let j = 0; j < o; j++) acc += dy[i * o + j]! * w[j * k + t]!;
      dx[i * k + t] = acc;
    }
  }
  for (let j = 0; j < o; j++) {
    let sb = 0;
    for (let i = 0; i < m; i++) sb += dy[i * o + j]!;
    db[j] = sb;
    for (let t = 0; t < k; t++) {
      let acc = 0;
      for (let i = 0; i < m; i++) acc += dy[i * o + j]! * x[i * k + t]!;
      dw[j * k + t] = acc;
    }
  }
  return { dx, dw, db };
}
