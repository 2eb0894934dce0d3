/**
 * Float64 CPU references for ReLU and the residual add (elementwise, any shape).
 */
import type { NumArray } from './ref-util.js';

function sameLength(a: NumArray, b: NumArray, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: operands have ${a.length} and ${b.length} elements; they must have the same shape`);
}

/** y = max(x, 0); NaN stays NaN (as PyTorch). */
export function reluRef(x: NumArray): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v > 0 || Number.isNaN(v) ? v : 0;
  }
  return y;
}

/** dx = dy where x > 0, else 0 (gradient 0 at exactly 0, PyTorch's threshold_backward). */
export function reluBackwardRef(dy: NumArray, x: NumArray): Float64Array {
  sameLength(dy, x, 'reluBackward');
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
  return dx;
}

/** Residual add y = a + b (same shape). */
export function addRef(a: NumArray, b: NumArray): Float64Array {
  sameLength(a, b, 'add');
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
  return y;
}

/** Backward of add is the identity for both operands: da = db = dy (copies, so callers may mutate). */
export function addBackwardRef(dy: NumArray): { da: Float64Array; db: Float64Array } {
  return { da: Float64Array.from(dy), db: Float64Array.from(dy) };
}
