/**
 * The backward shared by the losses whose forward pass already computed d(loss)/d(input) (focal,
 * center: one fused kernel each): the saved gradient scaled by the upstream scalar.
 */
import { mul } from '../../kernels/elementwise.js';
import { broadcastScalar } from '../../kernels/layout.js';
import type { F32 } from '../tensor.js';

export function scaleByScalar(g: F32, gy: F32): F32 {
  const b = broadcastScalar(gy, g.shape);
  const out = mul(g, b);
  b.release();
  return out;
}
