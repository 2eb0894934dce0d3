/**
 * Float64 CPU reference for in-plane global average pooling, [N, C, D, H, W] → [N, C, D]: the mean
 * over H and W of each slice, the paper's x-y pooling that yields one feature vector per slice.
 */
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';

/** Forward: y[n, c, d] = mean over (h, w) of x[n, c, d, h, w]. */
export function planeAvgPoolRef(x: NumArray, xShape: Shape): { y: Float64Array; yShape: number[] } {
  checkShape(xShape, 5, 'planeAvgPool input [N, C, D, H, W]');
  checkLength(x, xShape, 'planeAvgPool input');
  const [n, c, d, h, w] = xShape as [number, number, number, number, number];
  const plane = h * w;
  const y = new Float64Array(n * c * d);
  for (let s = 0; s < n * c * d; s++) {
    let acc = 0;
    for (let i = 0; i < plane; i++) acc += x[s * plane + i]!;
    y[s] = acc / plane;
  }
  return { y, yShape: [n, c, d] };
}

/** Backward: every pixel of slice (n, c, d) receives dy[n, c, d] / (H·W). Returns dx of shape xShape. */
export function planeAvgPoolBackwardRef(dy: NumArray, xShape: Shape): Float64Array {
  checkShape(xShape, 5, 'planeAvgPool input [N, C, D, H, W]');
  const [n, c, d, h, w] = xShape as [number, number, number, number, number];
  checkLength(dy, [n, c, d], 'planeAvgPool output gradient dy [N, C, D]');
  const plane = h * w;
  const dx = new Float64Array(n * c * d * plane);
  for (let s = 0; s < n * c * d; s++) {
    const g = dy[s]! / plane;
    for (let i = 0; i < plane; i++) dx[s * plane + i] = g;
  }
  return dx;
}
