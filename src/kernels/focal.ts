/**
 * Sigmoid focal loss, eq. (1), on the GPU with torchvision's `sigmoid_focal_loss` semantics, exactly
 * as focal.ref.ts: γ (default 2), optional α (unset or negative: off), optional per-sample weights
 * (weighted mean Σ w·l / Σ w), 'mean' (default) or 'sum'. One dispatch computes the reduced loss
 * [1] and ∂loss/∂logits [N] entirely on the GPU (no readback inside a training step), in log space
 * from the logit so |z| = 50 stays accurate.
 *
 * What the GPU cannot check: targets must lie in [0, 1] and weights must be ≥ 0 (a weighted mean
 * whose weights sum to 0 gives a NaN loss, where the reference throws). Pass host arrays through
 * `checkFocalInputs` when they come from the host.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, ELEMENT_WG as WG } from './define.js';

export const focalLossKernel = defineKernel({
  name: 'focal-loss',
  shader: 'focal/focal',
  bindings: { params: 'uniform', logits: 'read', targets: 'read', weights: 'read', upstream: 'read', loss: 'read_write', grad: 'read_write' },
});

export interface FocalLossOptions {
  /** Focusing parameter γ ≥ 0 (default 2). */
  gamma?: number;
  /** Class balance α in [0, 1] for positives; unset or negative disables it (default). */
  alpha?: number;
  /** Optional per-sample weights ≥ 0, [N]; 'mean' becomes Σ w·l / Σ w. */
  weights?: GpuTensor;
  /** 'mean' (default) or 'sum'. */
  reduction?: 'mean' | 'sum';
  /** Optional [1] tensor ∂L_total/∂loss that multiplies the gradient (the graph's upstream); default 1. */
  upstream?: GpuTensor;
}

export interface FocalLossResult {
  /** [1] reduced loss. */
  loss: GpuTensor;
  /** [N] ∂loss/∂logits (times upstream), same shape as the logits. */
  grad: GpuTensor;
}

/** Throws the reference's errors for host-side targets/weights (values the GPU kernel cannot check). */
export function checkFocalInputs(targets: ArrayLike<number>, weights?: ArrayLike<number>): void {
  for (let i = 0; i < targets.length; i++) {
    if (!(targets[i]! >= 0 && targets[i]! <= 1)) throw new Error(`focalLoss targets[${i}] = ${targets[i]} must be in [0, 1]`);
  }
  if (weights) {
    let s = 0;
    for (let i = 0; i < weights.length; i++) {
      if (!(weights[i]! >= 0) || !Number.isFinite(weights[i]!)) throw new Error(`focalLoss weights[${i}] = ${weights[i]} must be finite and >= 0`);
      s += weights[i]!;
    }
    if (!(s > 0)) throw new Error('focalLoss weights sum to 0, so the weighted mean is undefined; give at least one sample a positive weight');
  }
}

/** Focal loss of logits [N] (any shape of N elements) against targets of the same size. */
export function focalLoss(logits: GpuTensor, targets: GpuTensor, opts: FocalLossOptions = {}, out?: { loss?: GpuTensor; grad?: GpuTensor }): FocalLossResult {
  const gpu = logits.gpu;
  const n = logits.size;
  if (n < 1) throw new GpuError('usage', 'focalLoss needs at least one logit; got an empty batch');
  if (targets.size !== n) throw new GpuError('usage', `focalLoss: targets ${targets} must have as many elements as logits ${logits}`);
  const gamma = opts.gamma ?? 2;
  if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new GpuError('usage', `focalLoss gamma must be a finite number >= 0, got ${gamma}`);
  const alpha = opts.alpha ?? -1;
  if (!(alpha <= 1) || Number.isNaN(alpha)) throw new GpuError('usage', `focalLoss alpha must be in [0, 1] (or negative to disable), got ${alpha}`);
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new GpuError('usage', `focalLoss reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  if (opts.weights && opts.weights.size !== n) throw new GpuError('usage', `focalLoss: weights ${opts.weights} must have ${n} elements`);
  if (opts.upstream && opts.upstream.size !== 1) throw new GpuError('usage', `focalLoss: upstream ${opts.upstream} must be a [1] tensor`);
  for (const t of [targets, opts.weights, opts.upstream]) {
    if (t && t.dtype !== 'f32') throw new GpuError('usage', `focalLoss: ${t} must be f32`);
  }
  if (out?.loss && out.loss.size !== 1) throw new GpuError('usage', `focalLoss: out.loss ${out.loss} must have 1 element`);
  if (out?.grad && out.grad.size !== n) throw new GpuError('usage', `focalLoss: out.grad ${out.grad} must have ${n} elements`);
  const loss = out?.loss ?? gpu.empty([1]);
  const grad = out?.grad ?? gpu.empty(logits.shape);
  const gammaInt = Number.isInteger(gamma) && gamma <= 64 ? gamma : -1;
  gpu.dispatch(focalLossKernel, {
    // Absent optional inputs bind the logits again (read-only twice is allowed); the override skips them.
    bind: { logits, targets, weights: opts.weights ?? logits, upstream: opts.upstream ?? logits, loss, grad },
    uniforms: { params: { n, gamma, alpha, gammaInt } },
    overrides: { WG, WEIGHTED: opts.weights ? 1 : 0, HAS_UPSTREAM: opts.upstream ? 1 : 0, MEAN: reduction === 'mean' ? 1 : 0 },
    workgroups: [1],
  });
  return { loss, grad };
}
