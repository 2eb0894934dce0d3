/** Float64 references for the elementwise kernels (plain loops). */
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
export function reluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : 0));
}
export function reluBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (g, i) => (x[i]! > 0 ? g : 0));
}
export function sigmoidRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
}
export function expRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.exp(v));
}
