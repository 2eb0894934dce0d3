/**
 * Float64 CPU reference of the triplet loss, eq. (3) of the paper, with online hard mining over the
 * batch ("batch-hard", Hermans et al. 2017, the per-batch form of FaceNet's online mining):
 *
 *   D_ij = ‖f_i − f_j‖²                                         squared Euclidean distance
 *   p(a) = argmax_{j ≠ a, y_j = y_a} D_aj,   n(a) = argmin_{j: y_j ≠ y_a} D_aj
 *   l_a  = max(0, D_{a p(a)} − D_{a n(a)} + m)
 *   L    = (1/V) Σ_{a valid} l_a
 *
 * An anchor is valid when it has at least one positive (another sample of its class) and at least
 * one negative; L averages over valid anchors, including those whose hinge is 0 (Hermans et al.'s
 * mean over the batch). A batch without any valid anchor (one class only, or every class a
 * singleton) gives L = 0 and a zero gradient, never NaN.
 *
 * Ties (duplicate embeddings, equal distances) are resolved to the first, i.e. smallest, index, so
 * the mining is deterministic. The gradient is that of the selected triplets with the mined indices
 * held fixed (the loss is piecewise smooth; at a tie it is the one-sided derivative of the branch
 * the first index selects). The hinge passes gradient only where its argument is > 0 (as relu).
 * Squared distances are smooth at 0, so duplicates give finite gradients: ∂D_ij/∂f_i = 2(f_i − f_j) = 0.
 */
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';
import { L2_NORM_EPS } from './activations.js';
import { l2NormalizeRowsBackwardRef, l2NormalizeRowsRef } from './activations.ref.js';

export interface TripletLossOptions {
  /** Margin m ≥ 0 (default 0.2, FaceNet's value for unit-norm embeddings). */
  margin?: number;
  /** L2-normalise each embedding first, f / sqrt(‖f‖² + normEps) (default false). */
  normalize?: boolean;
  /** ε of the normalisation, added to the squared norm (default L2_NORM_EPS = 1e−12). */
  normEps?: number;
}

export interface TripletLossResult {
  loss: number;
  /** [N, E] ∂loss/∂x (through the normalisation when normalize is set). */
  grad: Float64Array;
  /** [N] mined hardest positive per anchor, −1 for an invalid anchor. */
  hardPositive: Int32Array;
  /** [N] mined hardest negative per anchor, −1 for an invalid anchor. */
  hardNegative: Int32Array;
  /** [N] l_a per anchor (0 for invalid anchors). */
  perAnchor: Float64Array;
  /** Number V of valid anchors (the divisor of the mean). */
  validAnchors: number;
  /** [N, N] squared distances of the (normalised) embeddings the mining used. */
  dist: Float64Array;
}

/**
 * D_ij = Σ_k (x_ik − x_jk)² of the rows of x [N, E]; exactly 0 on the diagonal and for duplicates.
 * (A GPU kernel may use ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j, which must then be clamped at 0.)
 */
export function pairwiseSqDistRef(x: NumArray, shape: Shape): Float64Array {
  checkShape(shape, 2, 'pairwiseSqDistRef embeddings shape [N, E]');
  checkLength(x, shape, 'pairwiseSqDistRef embeddings');
  const [n, e] = [shape[0]!, shape[1]!];
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < e; k++) {
        const t = x[i * e + k]! - x[j * e + k]!;
        s += t * t;
      }
      d[i * n + j] = s;
    }
  }
  return d;
}

/** Batch-hard triplet loss of embeddings x [N, E] with integer labels [N]; see the file comment. */
export function tripletLossBatchHardRef(x: NumArray, shape: Shape, labels: ArrayLike<number>, opts: TripletLossOptions = {}): TripletLossResult {
  checkShape(shape, 2, 'tripletLossBatchHardRef embeddings shape [N, E]');
  checkLength(x, shape, 'tripletLossBatchHardRef embeddings');
  const [n, e] = [shape[0]!, shape[1]!];
  checkLength(labels, [n], 'tripletLossBatchHardRef labels');
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]!)) throw new Error(`tripletLossBatchHardRef labels[${i}] = ${labels[i]} must be an integer class id`);
  }
  const margin = opts.margin ?? 0.2;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new Error(`tripletLossBatchHardRef margin must be a finite number >= 0, got ${margin}`);

  const norm = opts.normalize ? l2NormalizeRowsRef(x, shape, opts.normEps ?? L2_NORM_EPS) : null;
  const f = norm ? norm.y : x;
  const dist = pairwiseSqDistRef(f, shape);

  const hardPositive = new Int32Array(n).fill(-1);
  const hardNegative = new Int32Array(n).fill(-1);
  const perAnchor = new Float64Array(n);
  let valid = 0;
  for (let a = 0; a < n; a++) {
    let p = -1;
    let q = -1;
    for (let j = 0; j < n; j++) {
      const dj = dist[a * n + j]!;
      if (labels[j] === labels[a]) {
        // strict comparisons keep the first index on ties
        if (j !== a && (p < 0 || dj > dist[a * n + p]!)) p = j;
      } else if (q < 0 || dj < dist[a * n + q]!) {
        q = j;
      }
    }
    if (p < 0 || q < 0) continue;
    valid++;
    hardPositive[a] = p;
    hardNegative[a] = q;
    perAnchor[a] = Math.max(0, dist[a * n + p]! - dist[a * n + q]! + margin);
  }

  const gf = new Float64Array(n * e);
  let loss = 0;
  if (valid > 0) {
    const s = 1 / valid;
    for (let a = 0; a < n; a++) {
      loss += perAnchor[a]!;
      if (!(perAnchor[a]! > 0)) continue;
      const p = hardPositive[a]!;
      const q = hardNegative[a]!;
      // ∂/∂f of D_ap − D_an: anchor 2(f_n − f_p), positive −2(f_a − f_p), negative 2(f_a − f_n)
      for (let k = 0; k < e; k++) {
        const fa = f[a * e + k]!;
        const fp = f[p * e + k]!;
        const fn = f[q * e + k]!;
        gf[a * e + k]! += 2 * s * (fn - fp);
        gf[p * e + k]! -= 2 * s * (fa - fp);
        gf[q * e + k]! += 2 * s * (fa - fn);
      }
    }
    loss *= s;
  }
  const grad = norm ? l2NormalizeRowsBackwardRef(norm.y, norm.norm, gf, shape) : gf;
  return { loss, grad, hardPositive, hardNegative, perAnchor, validAnchors: valid, dist };
}
