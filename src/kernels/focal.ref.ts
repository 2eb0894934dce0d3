/**
 * Float64 CPU reference of the sigmoid focal loss, eq. (1) of the paper (Lin et al.'s focal loss) on
 * the single logit z the networks emit per slice, with torchvision's `sigmoid_focal_loss` semantics:
 *
 *   p = σ(z),  ce = BCE(z, t),  p_t = p·t + (1 − p)(1 − t),  l = α_t · (1 − p_t)^γ · ce,
 *   α_t = α·t + (1 − α)(1 − t) when α ≥ 0, α_t = 1 when α is unset or negative.
 *
 * Everything is evaluated in log space from the logit, with no 1 − σ(z) anywhere:
 *   ce      = t·softplus(−z) + (1 − t)·softplus(z)        (two non-negative terms, no cancellation)
 *   1 − p_t = t·σ(−z) + (1 − t)·σ(z)
 *   ∂ce/∂z  = (1 − t)·σ(z) − t·σ(−z),   ∂(1 − p_t)/∂z = σ(z)·σ(−z)·(1 − 2t)
 * so z = ±50 (or ±500) gives exact-to-rounding losses and gradients (e.g. ce = 1.9e−22 at z = 50,
 * t = 1, where the naive softplus(z) − t·z rounds to 0). Targets may be soft, in [0, 1].
 */
import { checkLength, type NumArray } from './ref-util.js';
import { sigmoidScalar, softplusScalar } from './activations.ref.js';

export interface FocalLossOptions {
  /** Focusing parameter γ ≥ 0 (default 2, the paper's and Lin et al.'s value; γ = 0 is plain BCE). */
  gamma?: number;
  /** Class balance α in [0, 1] for positives (1 − α for negatives); unset or negative disables it (default). */
  alpha?: number;
  /** Optional per-sample weights ≥ 0, length N; the 'mean' reduction becomes Σ w·l / Σ w. */
  weights?: NumArray;
  /** 'mean' (default): Σ l / N, or Σ w·l / Σ w with weights; 'sum': Σ l, or Σ w·l. */
  reduction?: 'mean' | 'sum';
}

export interface FocalLossResult {
  /** The reduced loss. */
  loss: number;
  /** [N] unweighted per-sample losses l_i. */
  perSample: Float64Array;
  /** [N] ∂loss/∂z_i of the reduced (and weighted) loss. */
  grad: Float64Array;
}

/** Sigmoid focal loss of logits [N] against targets [N] in [0, 1], its per-sample values and its gradient. */
export function focalLossRef(logits: NumArray, targets: NumArray, opts: FocalLossOptions = {}): FocalLossResult {
  const n = logits.length;
  if (n < 1) throw new Error('focalLossRef needs at least one logit; got an empty batch');
  checkLength(targets, [n], 'focalLossRef targets');
  const gamma = opts.gamma ?? 2;
  if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new Error(`focalLossRef gamma must be a finite number >= 0, got ${gamma}`);
  const alpha = opts.alpha ?? -1;
  if (!(alpha <= 1) || Number.isNaN(alpha)) throw new Error(`focalLossRef alpha must be in [0, 1] (or negative to disable), got ${alpha}`);
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`focalLossRef reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  const w = opts.weights;
  let wSum = n;
  if (w !== undefined) {
    checkLength(w, [n], 'focalLossRef weights');
    wSum = 0;
    for (let i = 0; i < n; i++) {
      if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw new Error(`focalLossRef weights[${i}] = ${w[i]} must be finite and >= 0`);
      wSum += w[i]!;
    }
    if (reduction === 'mean' && !(wSum > 0)) {
      throw new Error('focalLossRef weights sum to 0, so the weighted mean is undefined; give at least one sample a positive weight');
    }
  }
  const scale = reduction === 'mean' ? 1 / wSum : 1;

  const perSample = new Float64Array(n);
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = logits[i]!;
    const t = targets[i]!;
    if (!(t >= 0 && t <= 1)) throw new Error(`focalLossRef targets[${i}] = ${t} must be in [0, 1]`);
    const sp = sigmoidScalar(z);
    const sn = sigmoidScalar(-z);
    const ce = t * softplusScalar(-z) + (1 - t) * softplusScalar(z);
    const dce = (1 - t) * sp - t * sn;
    const m = t * sn + (1 - t) * sp;
    const dm = sp * sn * (1 - 2 * t);
    const mod = gamma === 0 ? 1 : m ** gamma;
    // d(m^γ)/dz = γ·m^(γ−1)·dm; skip it when dm = 0 so an underflowed m (|z| > 745) cannot make 0·∞.
    const dmod = gamma === 0 || dm === 0 ? 0 : gamma * m ** (gamma - 1) * dm;
    const at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1;
    const l = at * mod * ce;
    const wi = w === undefined ? 1 : w[i]!;
    perSample[i] = l;
    loss += wi * l;
    grad[i] = scale * wi * at * (dmod * ce + mod * dce);
  }
  return { loss: loss * scale, perSample, grad };
}
