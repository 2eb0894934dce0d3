/** Float64 references for the elementwise kernels (plain loops); relu and sigmoid live with their ops. */
export { reluBackwardRef, reluRef } from './relu.ref.js';
export { sigmoidRef } from './activations.ref.js';
export function addRef(a: ArrayLike<number>, b: ArrayLike<number>, alpha = 1): Float64Array {
  return Float64Array.from(a, (x, i) => x + alpha * b[i]!);
}
export function subRef(a: ArrayLike<number>, b: ArrayLike<number>, alpha = 1): Float64Array {
  return Float64Array.from(a, (x, i) => x - alpha * b[i]!);
}
export function mulRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (x, i) => x * b[i]!);
}
export function scaleRef(x: ArrayLike<number>, alpha: number, beta = 0): Float64Array {
  return Float64Array.from(x, (v) => alpha * v + beta);
}
export function expRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.exp(v));
}
