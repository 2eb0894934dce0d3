/**
 * The paper's losses as graph ops, each reducing to a [1] tensor: sigmoid focal loss (eq. 1), center
 * loss (eq. 2, centers updated separately by Wen et al.'s rule) and batch-hard triplet loss (eq. 3).
 * Focal and center compute d(loss)/d(input) in their forward pass (one fused kernel); the backward
 * scales it by the upstream scalar.
 */
import { type CenterLossOptions, centerLoss as centerLossKernel } from '../../kernels/center.js';
import { mul } from '../../kernels/elementwise.js';
import { type FocalLossOptions, checkFocalInputs, focalLoss as focalLossKernel } from '../../kernels/focal.js';
import { broadcastScalar } from '../../kernels/layout.js';
import { type TripletLossOptions, tripletLoss as tripletKernel, tripletLossBackward } from '../../kernels/triplet.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import { record } from '../record.js';
import type { Thunks } from '../grad-rule.js';
import type { F32, Node, Tensor } from '../tensor.js';

function scaleByScalar(g: F32, gy: F32): F32 {
  const b = broadcastScalar(gy, g.shape);
  const out = mul(g, b);
  b.release();
  return out;
}

/**
 * torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha=-1 (off, the paper's eq. 1), gamma=2,
 * reduction='mean'), from logits; targets/weights are host arrays (validated) or f32 tensors.
 */
export function sigmoidFocalLoss(
  logits: Tensor,
  targets: ArrayLike<number> | F32,
  opts: Omit<FocalLossOptions, 'weights' | 'upstream'> & { weights?: ArrayLike<number> | F32 } = {},
): Tensor {
  const gpu = logits.gpu;
  const owned: GpuTensor[] = [];
  const toTensor = (v: ArrayLike<number> | F32): F32 => {
    if ('gpu' in v && 'buffer' in v) return v as F32;
    const t = gpu.tensor(v as ArrayLike<number>, [(v as ArrayLike<number>).length]);
    owned.push(t);
    return t;
  };
  if (!('gpu' in targets)) checkFocalInputs(targets, opts.weights && !('gpu' in opts.weights) ? opts.weights : undefined);
  const t = toTensor(targets);
  const kopts: FocalLossOptions = { ...opts, weights: opts.weights ? toTensor(opts.weights) : undefined };
  if (!opts.weights) delete kopts.weights;
  const r = focalLossKernel(logits.data, t, kopts);
  for (const o of owned) o.release();
  return record('focalLoss', [logits], r.loss as F32, {}, { grad: r.grad as F32 }, { owned: [r.grad] });
}

/** Center loss of features [N, E] against class centers [K, E] (Wen et al.; eq. 2). */
export function centerLoss(features: Tensor, labels: ArrayLike<number>, centers: F32, opts: Omit<CenterLossOptions, 'upstream'> = {}): Tensor {
  const r = centerLossKernel(features.data, labels, centers, opts);
  return record('centerLoss', [features], r.loss as F32, {}, { grad: r.grad as F32 }, { owned: [r.grad] });
}

/** Batch-hard triplet loss with online hard mining (FaceNet / Hermans et al.), squared distances, margin m. */
export function batchHardTripletLoss(embeddings: Tensor, labels: ArrayLike<number>, opts: TripletLossOptions = {}): Tensor {
  const r = tripletKernel(embeddings.data, labels, opts);
  for (const t of [r.dist, r.mined, r.perAnchor]) t.release();
  return record('tripletLoss', [embeddings], r.loss as F32, {}, { x: embeddings.data, coef: r.coef as F32 }, { owned: [r.coef] });
}

export const lossRules = {
  focalLoss: (n: Node<'focalLoss'>, gy: F32): Thunks => [() => scaleByScalar(n.saved.grad, gy)],
  centerLoss: (n: Node<'centerLoss'>, gy: F32): Thunks => [() => scaleByScalar(n.saved.grad, gy)],
  tripletLoss: (n: Node<'tripletLoss'>, gy: F32): Thunks => [() => tripletLossBackward(n.saved.x, { coef: n.saved.coef }, gy) as F32],
};
