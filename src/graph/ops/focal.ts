/** The sigmoid focal loss (the paper's eq. 1) as a graph op, reducing to a [1] tensor. */
import type { GpuTensor } from '../../gpu/tensor.js';
import { type FocalLossOptions, checkFocalInputs, focalLoss as focalLossKernel } from '../../kernels/focal.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';
import { scaleByScalar } from './loss-grad.js';

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

export const focalRules = {
  focalLoss: (n: Node<'focalLoss'>, gy: F32): Thunks => [() => scaleByScalar(n.saved.grad, gy)],
};
