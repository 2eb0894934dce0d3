/** The center loss (the paper's eq. 2) as a graph op; the centres are updated separately (Wen et al.'s rule). */
import { type CenterLossOptions, centerLoss as centerLossKernel } from '../../kernels/center.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';
import { scaleByScalar } from './loss-grad.js';

/** Center loss of features [N, E] against class centers [K, E] (Wen et al.; eq. 2). */
export function centerLoss(features: Tensor, labels: ArrayLike<number>, centers: F32, opts: Omit<CenterLossOptions, 'upstream'> = {}): Tensor {
  const r = centerLossKernel(features.data, labels, centers, opts);
  return record('centerLoss', [features], r.loss as F32, {}, { grad: r.grad as F32 }, { owned: [r.grad] });
}

export const centerRules = {
  centerLoss: (n: Node<'centerLoss'>, gy: F32): Thunks => [() => scaleByScalar(n.saved.grad, gy)],
};
