/** The batch-hard triplet loss (the paper's eq. 3) as a graph op. */
import { type TripletLossOptions, tripletLoss as tripletKernel, tripletLossBackward } from '../../kernels/triplet.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** Batch-hard triplet loss with online hard mining (FaceNet / Hermans et al.), squared distances, margin m. */
export function batchHardTripletLoss(embeddings: Tensor, labels: ArrayLike<number>, opts: TripletLossOptions = {}): Tensor {
  const r = tripletKernel(embeddings.data, labels, opts);
  for (const t of [r.dist, r.mined, r.perAnchor]) t.release();
  return record('tripletLoss', [embeddings], r.loss as F32, {}, { x: embeddings.data, coef: r.coef as F32 }, { owned: [r.coef] });
}

export const tripletRules = {
  tripletLoss: (n: Node<'tripletLoss'>, gy: F32): Thunks => [() => tripletLossBackward(n.saved.x, { coef: n.saved.coef }, gy) as F32],
};
