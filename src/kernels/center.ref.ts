/**
 * Float64 CPU reference of the center loss, eq. (2) of the paper, as Wen et al. (ECCV 2016) define it:
 *
 *   L_C = λ · ½ Σ_{i=1..m} ‖x_i − c_{y_i}‖²        (a sum over the mini-batch, not a mean)
 *   ∂L_C/∂x_i = λ (x_i − c_{y_i})
 *
 * and the centers are not moved by this gradient but by Wen et al.'s update (their eq. 4 and
 * Algorithm 1), with n_j the number of samples of class j in the batch:
 *
 *   Δc_j = Σ_{i: y_i = j} (c_j − x_i) / (1 + n_j),   c_j ← c_j − α·Δc_j
 *
 * The 1 in the denominator keeps classes absent from the batch (n_j = 0) unchanged. Wen et al.
 * trained their face models with λ = 0.003 and α = 0.5. reduction 'mean' divides L_C (and its
 * gradient) by the batch size m instead, the convention of some PyTorch ports; the paper's eq. (2)
 * is the sum, our default.
 */
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';

export interface CenterLossOptions {
  /** Loss weight λ (default 1, so the value is eq. (2) exactly). */
  lambda?: number;
  /** 'sum' (default, Wen et al. and eq. (2)) or 'mean' (divided by the batch size). */
  reduction?: 'sum' | 'mean';
}

export interface CenterLossResult {
  loss: number;
  /** [N, E] ∂loss/∂x. */
  grad: Float64Array;
  /**
   * [K, E] ∂loss/∂c, −λ Σ_{i: y_i = j}(x_i − c_j) (÷ m for 'mean'). For completeness and gradient
   * checks only: training moves the centers with centerUpdateRef, not with this gradient.
   */
  gradCenters: Float64Array;
}

function dims(xShape: Shape, centersShape: Shape, labels: ArrayLike<number>, name: string): [number, number, number] {
  checkShape(xShape, 2, `${name} features shape [N, E]`);
  checkShape(centersShape, 2, `${name} centers shape [K, E]`);
  const [n, e] = [xShape[0]!, xShape[1]!];
  const [k, ce] = [centersShape[0]!, centersShape[1]!];
  if (ce !== e) throw new Error(`${name}: centers have dimension ${ce} but features have ${e}; centers must be [K, ${e}]`);
  checkLength(labels, [n], `${name} labels`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < k)) {
      throw new Error(`${name}: labels[${i}] = ${y} is not a class index in [0, ${k}); there are ${k} centers`);
    }
  }
  return [n, e, k];
}

/** L_C of features x [N, E] with integer labels [N] against centers [K, E], and its gradients. */
export function centerLossRef(
  x: NumArray,
  xShape: Shape,
  labels: ArrayLike<number>,
  centers: NumArray,
  centersShape: Shape,
  opts: CenterLossOptions = {},
): CenterLossResult {
  const [n, e, k] = dims(xShape, centersShape, labels, 'centerLossRef');
  checkLength(x, xShape, 'centerLossRef features');
  checkLength(centers, centersShape, 'centerLossRef centers');
  const lambda = opts.lambda ?? 1;
  if (!Number.isFinite(lambda)) throw new Error(`centerLossRef lambda must be finite, got ${lambda}`);
  const reduction = opts.reduction ?? 'sum';
  if (reduction !== 'sum' && reduction !== 'mean') throw new Error(`centerLossRef reduction must be 'sum' or 'mean', got '${String(reduction)}'`);
  const scale = lambda * (reduction === 'mean' ? 1 / n : 1);
  const grad = new Float64Array(n * e);
  const gradCenters = new Float64Array(k * e);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    for (let f = 0; f < e; f++) {
      const diff = x[i * e + f]! - centers[c * e + f]!;
      sq += diff * diff;
      grad[i * e + f] = scale * diff;
      gradCenters[c * e + f]! -= scale * diff;
    }
  }
  return { loss: 0.5 * scale * sq, grad, gradCenters };
}

/** Wen et al.'s center update: returns new centers [K, E], c_j − α·Σ_{i: y_i = j}(c_j − x_i)/(1 + n_j). */
export function centerUpdateRef(x: NumArray, xShape: Shape, labels: ArrayLike<number>, centers: NumArray, centersShape: Shape, alpha: number): Float64Array {
  const [n, e, k] = dims(xShape, centersShape, labels, 'centerUpdateRef');
  checkLength(x, xShape, 'centerUpdateRef features');
  checkLength(centers, centersShape, 'centerUpdateRef centers');
  if (!Number.isFinite(alpha)) throw new Error(`centerUpdateRef alpha (center learning rate) must be finite, got ${alpha}`);
  const count = new Float64Array(k);
  const delta = new Float64Array(k * e);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    count[c]! += 1;
    for (let f = 0; f < e; f++) delta[c * e + f]! += centers[c * e + f]! - x[i * e + f]!;
  }
  const out = new Float64Array(k * e);
  for (let c = 0; c < k; c++) {
    for (let f = 0; f < e; f++) out[c * e + f] = centers[c * e + f]! - (alpha * delta[c * e + f]!) / (1 + count[c]!);
  }
  return out;
}
