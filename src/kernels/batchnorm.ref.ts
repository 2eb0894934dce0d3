/**
 * Float64 CPU reference for batch normalization over feature maps of any spatial rank:
 * x [N, C, ...spatial] (2D maps [N, C, H, W], 3D maps [N, C, D, H, W], or [N, C]); statistics per
 * channel over N and every spatial axis, as PyTorch's BatchNorm{1,2,3}d. Also the fused BN + ReLU.
 * Nothing here mutates its inputs: updated running statistics are returned as new arrays.
 */
import { checkLength, checkShape, numel, type NumArray, type Shape } from './ref-util.js';

export interface BatchNormOptions {
  /** Added to the variance before the square root; default 1e-5 (PyTorch). */
  eps?: number;
  /** running ← (1 − momentum)·running + momentum·batch; default 0.1 (PyTorch). */
  momentum?: number;
}

export interface BatchNormTrainResult {
  /** Normalized, scaled and shifted output, shape of x (after ReLU for the fused variant). */
  y: Float64Array;
  /** Batch mean per channel [C]. */
  mean: Float64Array;
  /** Biased batch variance per channel [C] (what normalizes x). */
  variance: Float64Array;
  /** 1 / sqrt(variance + eps) per channel [C], saved for the backward pass. */
  invStd: Float64Array;
  /** Updated running mean [C]. */
  runningMean: Float64Array;
  /** Updated running variance [C], updated with the unbiased batch variance (as PyTorch). */
  runningVar: Float64Array;
}

export interface BatchNormGrads {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** Channel count C, spatial size per (n, c) plane, and batch N of x [N, C, ...spatial]. */
function dims(xShape: Shape, name: string): { n: number; c: number; plane: number } {
  checkShape(xShape, [2, 3, 4, 5], `${name} input [N, C, ...spatial]`);
  return { n: xShape[0]!, c: xShape[1]!, plane: numel(xShape.slice(2)) };
}

function checkPerChannel(a: NumArray, c: number, name: string): void {
  if (a.length !== c) throw new Error(`${name} has ${a.length} elements but the input has ${c} channels; pass one value per channel`);
}

/**
 * Per-channel mean and biased variance, two-pass (mean first, then the sum of squared deviations),
 * which avoids the cancellation of E[x²] − E[x]² when |mean| ≫ std.
 */
export function batchStatsRef(x: NumArray, xShape: Shape): { mean: Float64Array; variance: Float64Array; count: number } {
  const { n, c, plane } = dims(xShape, 'batchStats');
  checkLength(x, xShape, 'batchStats input');
  const count = n * plane;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) s += x[off + i]!;
    }
    const m = s / count;
    let ss = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) {
        const dv = x[off + i]! - m;
        ss += dv * dv;
      }
    }
    mean[ch] = m;
    variance[ch] = ss / count;
  }
  return { mean, variance, count };
}

function affine(x: NumArray, xShape: Shape, scale: Float64Array, shift: Float64Array, relu: boolean): Float64Array {
  const { n, c, plane } = dims(xShape, 'batchNorm');
  const y = new Float64Array(n * c * plane);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const off = (b * c + ch) * plane;
      const sc = scale[ch]!;
      const sh = shift[ch]!;
      for (let i = 0; i < plane; i++) {
        const v = x[off + i]! * sc + sh;
        y[off + i] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
  return y;
}

function trainForward(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: BatchNormOptions,
  relu: boolean,
): BatchNormTrainResult {
  const { c } = dims(xShape, 'batchNorm');
  checkLength(x, xShape, 'batchNorm input');
  for (const [a, nm] of [
    [gamma, 'gamma'],
    [beta, 'beta'],
    [runningMean, 'runningMean'],
    [runningVar, 'runningVar'],
  ] as const) {
    checkPerChannel(a, c, `batchNorm ${nm}`);
  }
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? 0.1;
  const { mean, variance, count } = batchStatsRef(x, xShape);
  if (count < 2) {
    throw new Error(`batchNorm training needs more than one value per channel (got N·spatial = ${count}); use eval mode or a larger batch`);
  }
  const invStd = new Float64Array(c);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  const rm = new Float64Array(c);
  const rv = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    invStd[ch] = 1 / Math.sqrt(variance[ch]! + eps);
    scale[ch] = gamma[ch]! * invStd[ch]!;
    shift[ch] = beta[ch]! - mean[ch]! * scale[ch]!;
    rm[ch] = (1 - momentum) * runningMean[ch]! + momentum * mean[ch]!;
    rv[ch] = (1 - momentum) * runningVar[ch]! + momentum * variance[ch]! * (count / (count - 1));
  }
  return { y: affine(x, xShape, scale, shift, relu), mean, variance, invStd, runningMean: rm, runningVar: rv };
}

/** Training-mode forward with batch statistics; y = γ·(x − mean)/sqrt(var + eps) + β. */
export function batchNormTrainRef(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: BatchNormOptions = {},
): BatchNormTrainResult {
  return trainForward(x, xShape, gamma, beta, runningMean, runningVar, opts, false);
}

/** Fused training-mode BN followed by ReLU; `y` is relu(bn(x)), the statistics are those of bn. */
export function batchNormReluTrainRef(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: BatchNormOptions = {},
): BatchNormTrainResult {
  return trainForward(x, xShape, gamma, beta, runningMean, runningVar, opts, true);
}

function evalForward(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: { eps?: number },
  relu: boolean,
): Float64Array {
  const { c } = dims(xShape, 'batchNorm');
  checkLength(x, xShape, 'batchNorm input');
  for (const [a, nm] of [
    [gamma, 'gamma'],
    [beta, 'beta'],
    [runningMean, 'runningMean'],
    [runningVar, 'runningVar'],
  ] as const) {
    checkPerChannel(a, c, `batchNorm ${nm}`);
  }
  const eps = opts.eps ?? 1e-5;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    scale[ch] = gamma[ch]! / Math.sqrt(runningVar[ch]! + eps);
    shift[ch] = beta[ch]! - runningMean[ch]! * scale[ch]!;
  }
  return affine(x, xShape, scale, shift, relu);
}

/** Eval-mode forward with running statistics: y = γ·(x − runningMean)/sqrt(runningVar + eps) + β. */
export function batchNormEvalRef(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: { eps?: number } = {},
): Float64Array {
  return evalForward(x, xShape, gamma, beta, runningMean, runningVar, opts, false);
}

/** Eval-mode fused BN + ReLU. */
export function batchNormReluEvalRef(
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  runningMean: NumArray,
  runningVar: NumArray,
  opts: { eps?: number } = {},
): Float64Array {
  return evalForward(x, xShape, gamma, beta, runningMean, runningVar, opts, true);
}

function trainBackward(dy: NumArray, x: NumArray, xShape: Shape, gamma: NumArray, beta: NumArray | null, mean: NumArray, invStd: NumArray): BatchNormGrads {
  const { n, c, plane } = dims(xShape, 'batchNormBackward');
  checkLength(dy, xShape, 'batchNormBackward dy');
  checkLength(x, xShape, 'batchNormBackward input');
  checkPerChannel(gamma, c, 'batchNormBackward gamma');
  checkPerChannel(mean, c, 'batchNormBackward mean');
  checkPerChannel(invStd, c, 'batchNormBackward invStd');
  if (beta) checkPerChannel(beta, c, 'batchNormBackward beta');
  const count = n * plane;
  const dx = new Float64Array(n * c * plane);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const m = mean[ch]!;
    const is = invStd[ch]!;
    // With beta given, ReLU masks the upstream gradient where the pre-activation <= 0 (PyTorch's
    // threshold_backward gives 0 at exactly 0); computed exactly as the forward does, so the masks agree.
    const sc = gamma[ch]! * is;
    const sh = beta ? beta[ch]! - m * sc : 0;
    const g = (off: number): number => (beta && !(x[off]! * sc + sh > 0) ? 0 : dy[off]!);
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) {
        const xh = (x[off + i]! - m) * is;
        const gi = g(off + i);
        sdy += gi;
        sdyx += gi * xh;
      }
    }
    dgamma[ch] = sdyx;
    dbeta[ch] = sdy;
    // dx = γ·invStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)), the closed form of the batch-statistics Jacobian.
    const k = (gamma[ch]! * is) / count;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * plane;
      for (let i = 0; i < plane; i++) {
        const xh = (x[off + i]! - m) * is;
        dx[off + i] = k * (count * g(off + i) - sdy - xh * sdyx);
      }
    }
  }
  return { dx, dgamma, dbeta };
}

/**
 * Training-mode backward (batch statistics) in closed form. `mean` and `invStd` are the saved
 * values from batchNormTrainRef. Returns dx (shape of x), dgamma and dbeta ([C]).
 */
export function batchNormBackwardRef(dy: NumArray, x: NumArray, xShape: Shape, gamma: NumArray, mean: NumArray, invStd: NumArray): BatchNormGrads {
  return trainBackward(dy, x, xShape, gamma, null, mean, invStd);
}

/**
 * Backward of the fused training-mode BN + ReLU. The ReLU mask is recomputed from x and the saved
 * statistics (pre-activation > 0, identical to y > 0 on the fused output).
 */
export function batchNormReluBackwardRef(
  dy: NumArray,
  x: NumArray,
  xShape: Shape,
  gamma: NumArray,
  beta: NumArray,
  mean: NumArray,
  invStd: NumArray,
): BatchNormGrads {
  return trainBackward(dy, x, xShape, gamma, beta, mean, invStd);
}
