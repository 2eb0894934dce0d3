/**
 * In-plane global average pooling, [N, C, D, H, W] → [N, C, D]: the mean over H and W of every slice,
 * the paper's x-y pooling that yields one feature vector per slice. Both directions are the generic
 * middle-axis reduction of reduce.ts on the view [N·C·D, H·W, 1].
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { broadcastMid, sumMid } from './reduce.js';

type F32 = GpuTensor<'f32'>;

function dims(op: string, shape: readonly number[]): [number, number, number, number, number] {
  if (shape.length !== 5) throw new GpuError('usage', `${op}: input shape [${shape.join(', ')}] must be [N, C, D, H, W] (use D = 1 for 2D maps)`);
  const [n, c, d, h, w] = shape as [number, number, number, number, number];
  if (h * w === 0) throw new GpuError('usage', `${op}: the plane H×W = ${h}×${w} is empty; there is nothing to average`);
  return [n, c, d, h, w];
}

/** y[n, c, d] = mean over (h, w) of x[n, c, d, h, w]. */
export function planeAvgPool(x: F32, out?: F32): F32 {
  const [n, c, d, h, w] = dims('planeAvgPool', x.shape);
  return sumMid(x, { outer: n * c * d, mid: h * w, inner: 1 }, { alpha: 1 / (h * w), shape: [n, c, d], ...(out ? { out } : {}) });
}

/** dx[n, c, d, h, w] = dy[n, c, d] / (H·W). */
export function planeAvgPoolBackward(dy: F32, xShape: readonly number[], out?: F32): F32 {
  const [n, c, d, h, w] = dims('planeAvgPoolBackward', xShape);
  if (dy.shape.length !== 3 || dy.shape[0] !== n || dy.shape[1] !== c || dy.shape[2] !== d) {
    throw new GpuError('usage', `planeAvgPoolBackward: dy ${dy} must have shape [${n}, ${c}, ${d}] for input [${xShape.join(', ')}]`);
  }
  return broadcastMid(dy, { outer: n * c * d, mid: h * w, inner: 1 }, { alpha: 1 / (h * w), shape: xShape, ...(out ? { out } : {}) });
}
