/** In-plane global average pooling as a graph op. */
import { planeAvgPoolBackward, planeAvgPool as planeAvgPoolKernel } from '../../kernels/plane-avgpool.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** In-plane global average pooling [N, C, D, H, W] → [N, C, D] (torch: x.mean(dim=(3, 4))). */
export function planeAvgPool(input: Tensor): Tensor {
  return record('planeAvgPool', [input], planeAvgPoolKernel(input.data), { xShape: input.shape }, {});
}

export const planeAvgPoolRules = {
  planeAvgPool: (n: Node<'planeAvgPool'>, gy: F32): Thunks => [() => planeAvgPoolBackward(gy, n.attrs.xShape)],
};
