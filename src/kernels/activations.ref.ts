/**
 * Float64 CPU references for the elementwise and row-wise helpers the losses and the evaluation use:
 * sigmoid, log-sigmoid, softplus, softmax over the last axis, and L2 normalisation of rows, each
 * with its backward. Every form is the numerically stable one (no exp of a large positive number),
 * so logits of ±50 or ±1000 give exact-to-rounding values, never NaN or Inf.
 */
import { L2_NORM_EPS } from './activations.js';
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';

/** σ(z) = 1 / (1 + e^−z), evaluated so that exp only sees non-positive arguments. */
export function sigmoidScalar(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^−|z|); exact for tiny results (softplus(−50) ≈ 1.9e−22). */
export function softplusScalar(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** log σ(z) = −softplus(−z) = min(z, 0) − log1p(e^−|z|). */
export function logSigmoidScalar(z: number): number {
  return Math.min(z, 0) - Math.log1p(Math.exp(-Math.abs(z)));
}

function mapArray(x: NumArray, f: (v: number) => number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

function checkSameLength(a: NumArray, b: NumArray, what: string): void {
  if (a.length !== b.length) {
    throw new Error(`${what}: arrays have ${a.length} and ${b.length} elements; pass the forward's input/output and a gradient of the same length`);
  }
}

/** Elementwise σ(x). */
export function sigmoidRef(x: NumArray): Float64Array {
  return mapArray(x, sigmoidScalar);
}

/** Backward of sigmoid from its output y = σ(x): gx = gy · y · (1 − y). */
export function sigmoidBackwardRef(y: NumArray, gy: NumArray): Float64Array {
  checkSameLength(y, gy, 'sigmoidBackwardRef');
  const gx = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) gx[i] = gy[i]! * y[i]! * (1 - y[i]!);
  return gx;
}

/** Elementwise log σ(x). */
export function logSigmoidRef(x: NumArray): Float64Array {
  return mapArray(x, logSigmoidScalar);
}

/** Backward of log-sigmoid from its input: d/dx log σ(x) = σ(−x) (accurate even where σ(x) rounds to 1). */
export function logSigmoidBackwardRef(x: NumArray, gy: NumArray): Float64Array {
  checkSameLength(x, gy, 'logSigmoidBackwardRef');
  const gx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) gx[i] = gy[i]! * sigmoidScalar(-x[i]!);
  return gx;
}

/** Elementwise softplus(x) = log(1 + eˣ). */
export function softplusRef(x: NumArray): Float64Array {
  return mapArray(x, softplusScalar);
}

/** Backward of softplus from its input: d/dx softplus(x) = σ(x). */
export function softplusBackwardRef(x: NumArray, gy: NumArray): Float64Array {
  checkSameLength(x, gy, 'softplusBackwardRef');
  const gx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) gx[i] = gy[i]! * sigmoidScalar(x[i]!);
  return gx;
}

function rowsCols(shape: Shape, name: string): [number, number] {
  checkShape(shape, 2, `${name} shape [rows, cols]`);
  return [shape[0]!, shape[1]!];
}

/** Softmax over the last axis of a [rows, cols] array; the row max is subtracted first so exp never overflows. */
export function softmaxRef(x: NumArray, shape: Shape): Float64Array {
  const [rows, cols] = rowsCols(shape, 'softmaxRef input');
  checkLength(x, shape, 'softmaxRef input');
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(x[o + c]! - m);
      y[o + c] = e;
      s += e;
    }
    for (let c = 0; c < cols; c++) y[o + c]! /= s;
  }
  return y;
}

/** Backward of softmax from its output y: gx = y ⊙ (gy − Σ_c gy·y), per row. */
export function softmaxBackwardRef(y: NumArray, gy: NumArray, shape: Shape): Float64Array {
  const [rows, cols] = rowsCols(shape, 'softmaxBackwardRef');
  checkLength(y, shape, 'softmaxBackwardRef output y');
  checkLength(gy, shape, 'softmaxBackwardRef gradient gy');
  const gx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let d = 0;
    for (let c = 0; c < cols; c++) d += gy[o + c]! * y[o + c]!;
    for (let c = 0; c < cols; c++) gx[o + c] = y[o + c]! * (gy[o + c]! - d);
  }
  return gx;
}

export interface L2NormalizeResult {
  /** Normalised rows, [rows, cols]. */
  y: Float64Array;
  /** sqrt(‖x_r‖² + ε) per row, [rows]; the backward needs it. */
  norm: Float64Array;
}

/** Row-wise L2 normalisation of a [rows, cols] array: y_r = x_r / sqrt(‖x_r‖² + eps). */
export function l2NormalizeRowsRef(x: NumArray, shape: Shape, eps: number = L2_NORM_EPS): L2NormalizeResult {
  const [rows, cols] = rowsCols(shape, 'l2NormalizeRowsRef input');
  checkLength(x, shape, 'l2NormalizeRowsRef input');
  if (!(eps > 0) || !Number.isFinite(eps)) throw new Error(`l2NormalizeRowsRef eps must be a finite number > 0, got ${eps}`);
  const y = new Float64Array(rows * cols);
  const norm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[o + c]! * x[o + c]!;
    const n = Math.sqrt(s + eps);
    norm[r] = n;
    for (let c = 0; c < cols; c++) y[o + c] = x[o + c]! / n;
  }
  return { y, norm };
}

/** Backward of l2NormalizeRowsRef from its saved output: gx_r = (gy_r − y_r (y_r·gy_r)) / norm_r. */
export function l2NormalizeRowsBackwardRef(y: NumArray, norm: NumArray, gy: NumArray, shape: Shape): Float64Array {
  const [rows, cols] = rowsCols(shape, 'l2NormalizeRowsBackwardRef');
  checkLength(y, shape, 'l2NormalizeRowsBackwardRef output y');
  checkLength(gy, shape, 'l2NormalizeRowsBackwardRef gradient gy');
  checkLength(norm, [rows], 'l2NormalizeRowsBackwardRef norm');
  const gx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let d = 0;
    for (let c = 0; c < cols; c++) d += y[o + c]! * gy[o + c]!;
    const n = norm[r]!;
    for (let c = 0; c < cols; c++) gx[o + c] = (gy[o + c]! - y[o + c]! * d) / n;
  }
  return gx;
}
