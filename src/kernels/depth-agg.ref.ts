/**
 * Float64 CPU references for the depth aggregations of Section 2.4: [N, C, D] slice features → one
 * [N, C'] vector per volume, each with its backward. Input layout is row-major [N, C, D] (the
 * feature extractor's [N, C, D, 1, 1] after global spatial pooling), so the D values of one channel
 * are contiguous.
 *
 * - average:   y[n,c] = (1/D) Σ_d x[n,c,d]                                         C' = C
 * - max:       y[n,c] = max_d x[n,c,d], gradient routed to the first argmax        C' = C
 * - attention: y[n,c] = Σ_d A[n,c,d] x[n,c,d], A = softmax_d(x[n,c,·])  eq. (4)–(5) C' = C
 * - bilinear:  B = (1/D) Σ_d f_d f_dᵀ (f_d = x[n,·,d]), signed sqrt, L2 norm     C' = C·C
 *
 * Slice-wise mode (the f- models) needs no aggregation code: the FC shared across slices is a plain
 * linear layer on the [N·D, C] matrix obtained by transposing [N, C, D] to [N, D, C].
 */
import { type DepthAggKind, SIGNED_SQRT_EPS } from './depth-agg.js';
import { checkLength, checkShape, type NumArray, type Shape } from './ref-util.js';
import { L2_NORM_EPS } from './activations.js';
import { l2NormalizeRowsBackwardRef, l2NormalizeRowsRef } from './activations.ref.js';

function ncd(shape: Shape, name: string): [number, number, number] {
  checkShape(shape, 3, `${name} shape [N, C, D]`);
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** Output shape [N, C'] of a depth aggregation of an [N, C, D] input (C' = C, or C·C for bilinear). */
export function depthAggOutputShape(kind: DepthAggKind, shape: Shape): [number, number] {
  const [n, c] = ncd(shape, `depth aggregation '${kind}' input`);
  switch (kind) {
    case 'avg':
    case 'max':
    case 'attention':
      return [n, c];
    case 'bilinear':
      return [n, c * c];
    default:
      throw new Error(`unknown depth aggregation '${String(kind)}'; use 'avg', 'max', 'attention' or 'bilinear'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Average and max pooling over D.

/** y[n,c] = (1/D) Σ_d x[n,c,d]. */
export function avgPoolDepthRef(x: NumArray, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'avgPoolDepthRef input');
  checkLength(x, shape, 'avgPoolDepthRef input');
  const y = new Float64Array(n * c);
  for (let r = 0; r < n * c; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[r * d + k]!;
    y[r] = s / d;
  }
  return y;
}

/** gx[n,c,d] = gy[n,c] / D. `shape` is the forward's input shape [N, C, D]. */
export function avgPoolDepthBackwardRef(gy: NumArray, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'avgPoolDepthBackwardRef');
  checkLength(gy, [n, c], 'avgPoolDepthBackwardRef gradient gy');
  const gx = new Float64Array(n * c * d);
  for (let r = 0; r < n * c; r++) for (let k = 0; k < d; k++) gx[r * d + k] = gy[r]! / d;
  return gx;
}

export interface MaxPoolDepthResult {
  /** [N, C] maxima. */
  y: Float64Array;
  /** [N, C] index d of the maximum; on ties the first (smallest) d, so CPU and GPU route alike. */
  argmax: Int32Array;
}

/** y[n,c] = max_d x[n,c,d]; a NaN counts as the maximum (as torch.max), so it propagates. */
export function maxPoolDepthRef(x: NumArray, shape: Shape): MaxPoolDepthResult {
  const [n, c, d] = ncd(shape, 'maxPoolDepthRef input');
  checkLength(x, shape, 'maxPoolDepthRef input');
  const y = new Float64Array(n * c);
  const argmax = new Int32Array(n * c);
  for (let r = 0; r < n * c; r++) {
    let best = x[r * d]!;
    let bi = 0;
    for (let k = 1; k < d && !Number.isNaN(best); k++) {
      const v = x[r * d + k]!;
      if (v > best || Number.isNaN(v)) {
        best = v;
        bi = k;
      }
    }
    y[r] = best;
    argmax[r] = bi;
  }
  return { y, argmax };
}

/** gx[n,c,argmax[n,c]] = gy[n,c], zero elsewhere. */
export function maxPoolDepthBackwardRef(gy: NumArray, argmax: ArrayLike<number>, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'maxPoolDepthBackwardRef');
  checkLength(gy, [n, c], 'maxPoolDepthBackwardRef gradient gy');
  checkLength(argmax, [n, c], 'maxPoolDepthBackwardRef argmax');
  const gx = new Float64Array(n * c * d);
  for (let r = 0; r < n * c; r++) {
    const k = argmax[r]!;
    if (!(Number.isInteger(k) && k >= 0 && k < d)) {
      throw new Error(`maxPoolDepthBackwardRef argmax[${r}] = ${k} is not a depth index in [0, ${d}); pass the argmax of maxPoolDepthRef`);
    }
    gx[r * d + k] = gy[r]!;
  }
  return gx;
}

// ---------------------------------------------------------------------------------------------
// Attention weighting, eq. (4)–(5): the features are their own attention logits (no parameters).

export interface AttentionPoolDepthResult {
  /** [N, C] attention-weighted sums g_i = Σ_d A(i,d) f_i^d. */
  y: Float64Array;
  /** [N, C, D] softmax weights A(i,d), saved for the backward. */
  attn: Float64Array;
}

/** Eq. (4)–(5). The softmax subtracts the per-channel max over D first, so large features cannot overflow. */
export function attentionPoolDepthRef(x: NumArray, shape: Shape): AttentionPoolDepthResult {
  const [n, c, d] = ncd(shape, 'attentionPoolDepthRef input');
  checkLength(x, shape, 'attentionPoolDepthRef input');
  const y = new Float64Array(n * c);
  const attn = new Float64Array(n * c * d);
  for (let r = 0; r < n * c; r++) {
    const o = r * d;
    let m = -Infinity;
    for (let k = 0; k < d; k++) m = Math.max(m, x[o + k]!);
    let s = 0;
    for (let k = 0; k < d; k++) {
      const e = Math.exp(x[o + k]! - m);
      attn[o + k] = e;
      s += e;
    }
    let g = 0;
    for (let k = 0; k < d; k++) {
      attn[o + k]! /= s;
      g += attn[o + k]! * x[o + k]!;
    }
    y[r] = g;
  }
  return { y, attn };
}

/**
 * x feeds both the weights and the values, so ∂g/∂f_d = A_d + Σ_d' f_d' ∂A_d'/∂f_d = A_d (1 + f_d − g):
 * gx[n,c,d] = gy[n,c] · A[n,c,d] · (1 + x[n,c,d] − y[n,c]).
 */
export function attentionPoolDepthBackwardRef(x: NumArray, saved: AttentionPoolDepthResult, gy: NumArray, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'attentionPoolDepthBackwardRef');
  checkLength(x, shape, 'attentionPoolDepthBackwardRef input x');
  checkLength(saved.attn, shape, 'attentionPoolDepthBackwardRef saved attn');
  checkLength(saved.y, [n, c], 'attentionPoolDepthBackwardRef saved y');
  checkLength(gy, [n, c], 'attentionPoolDepthBackwardRef gradient gy');
  const gx = new Float64Array(n * c * d);
  for (let r = 0; r < n * c; r++) {
    const g = saved.y[r]!;
    for (let k = 0; k < d; k++) {
      const i = r * d + k;
      gx[i] = gy[r]! * saved.attn[i]! * (1 + x[i]! - g);
    }
  }
  return gx;
}

// ---------------------------------------------------------------------------------------------
// Bilinear encoding (Lin et al.'s bilinear CNN with the same features twice): outer product
// averaged over slices, signed square root, L2 normalisation.

/** B[n,i,j] = (1/D) Σ_d x[n,i,d] · x[n,j,d]; output [N, C·C], row-major (i, j). */
export function bilinearEncodeRef(x: NumArray, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'bilinearEncodeRef input');
  checkLength(x, shape, 'bilinearEncodeRef input');
  const b = new Float64Array(n * c * c);
  for (let s = 0; s < n; s++) {
    const xo = s * c * d;
    const bo = s * c * c;
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        let acc = 0;
        for (let k = 0; k < d; k++) acc += x[xo + i * d + k]! * x[xo + j * d + k]!;
        b[bo + i * c + j] = acc / d;
      }
    }
  }
  return b;
}

/**
 * Backward of bilinearEncodeRef: gx[n,i,d] = (1/D) Σ_j (gB[n,i,j] + gB[n,j,i]) · x[n,j,d]
 * (x appears on both sides of the outer product, hence both gB and its transpose).
 */
export function bilinearEncodeBackwardRef(x: NumArray, gb: NumArray, shape: Shape): Float64Array {
  const [n, c, d] = ncd(shape, 'bilinearEncodeBackwardRef');
  checkLength(x, shape, 'bilinearEncodeBackwardRef input x');
  checkLength(gb, [n, c * c], 'bilinearEncodeBackwardRef gradient gB');
  const gx = new Float64Array(n * c * d);
  for (let s = 0; s < n; s++) {
    const xo = s * c * d;
    const bo = s * c * c;
    for (let i = 0; i < c; i++) {
      for (let k = 0; k < d; k++) {
        let acc = 0;
        for (let j = 0; j < c; j++) acc += (gb[bo + i * c + j]! + gb[bo + j * c + i]!) * x[xo + j * d + k]!;
        gx[xo + i * d + k] = acc / d;
      }
    }
  }
  return gx;
}

/** Elementwise signed square root b / (sqrt(|b| + eps) + sqrt(eps)); see SIGNED_SQRT_EPS. */
export function signedSqrtRef(b: NumArray, eps: number = SIGNED_SQRT_EPS): Float64Array {
  checkEps(eps, 'signedSqrtRef');
  const se = Math.sqrt(eps);
  const y = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) y[i] = b[i]! / (Math.sqrt(Math.abs(b[i]!) + eps) + se);
  return y;
}

/** Backward of signedSqrtRef from its input: gb = gy / (2·sqrt(|b| + eps)). */
export function signedSqrtBackwardRef(b: NumArray, gy: NumArray, eps: number = SIGNED_SQRT_EPS): Float64Array {
  checkEps(eps, 'signedSqrtBackwardRef');
  if (b.length !== gy.length) {
    throw new Error(`signedSqrtBackwardRef: input has ${b.length} elements but gy has ${gy.length}; they must match`);
  }
  const gb = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) gb[i] = gy[i]! / (2 * Math.sqrt(Math.abs(b[i]!) + eps));
  return gb;
}

function checkEps(eps: number, name: string): void {
  if (!(eps > 0) || !Number.isFinite(eps)) throw new Error(`${name} eps must be a finite number > 0, got ${eps}`);
}

export interface BilinearPoolOptions {
  /** ε of the signed square root (default SIGNED_SQRT_EPS = 1e−10). */
  sqrtEps?: number;
  /** ε added to the squared norm in the L2 normalisation (default L2_NORM_EPS = 1e−12). */
  normEps?: number;
}

export interface BilinearPoolResult {
  /** [N, C·C] final features z = s / sqrt(‖s‖² + normEps). */
  y: Float64Array;
  /** [N, C·C] bilinear matrix B before the square root (saved for the backward). */
  b: Float64Array;
  /** [N] sqrt(‖s‖² + normEps) per sample (saved for the backward). */
  norm: Float64Array;
}

/** Full bilinear pooling: [N, C, D] → B → signed sqrt → row L2 normalisation → [N, C·C]. */
export function bilinearPoolDepthRef(x: NumArray, shape: Shape, opts: BilinearPoolOptions = {}): BilinearPoolResult {
  const [n, c] = ncd(shape, 'bilinearPoolDepthRef input');
  const b = bilinearEncodeRef(x, shape);
  const s = signedSqrtRef(b, opts.sqrtEps ?? SIGNED_SQRT_EPS);
  const { y, norm } = l2NormalizeRowsRef(s, [n, c * c], opts.normEps ?? L2_NORM_EPS);
  return { y, b, norm };
}

/** Backward of the whole chain: normalisation, then signed sqrt, then the outer product. */
export function bilinearPoolDepthBackwardRef(x: NumArray, saved: BilinearPoolResult, gy: NumArray, shape: Shape, opts: BilinearPoolOptions = {}): Float64Array {
  const [n, c] = ncd(shape, 'bilinearPoolDepthBackwardRef');
  const gs = l2NormalizeRowsBackwardRef(saved.y, saved.norm, gy, [n, c * c]);
  const gb = signedSqrtBackwardRef(saved.b, gs, opts.sqrtEps ?? SIGNED_SQRT_EPS);
  return bilinearEncodeBackwardRef(x, gb, shape);
}

// ---------------------------------------------------------------------------------------------
// One entry point per kind, for tests that loop over all four.

/** Forward of any depth aggregation; returns the [N, C'] output only. */
export function depthAggRef(kind: DepthAggKind, x: NumArray, shape: Shape, opts: BilinearPoolOptions = {}): Float64Array {
  switch (kind) {
    case 'avg':
      return avgPoolDepthRef(x, shape);
    case 'max':
      return maxPoolDepthRef(x, shape).y;
    case 'attention':
      return attentionPoolDepthRef(x, shape).y;
    case 'bilinear':
      return bilinearPoolDepthRef(x, shape, opts).y;
    default:
      throw new Error(`unknown depth aggregation '${String(kind)}'; use 'avg', 'max', 'attention' or 'bilinear'`);
  }
}

/** Gradient w.r.t. x of any depth aggregation (recomputes the forward's saved values). */
export function depthAggBackwardRef(kind: DepthAggKind, x: NumArray, gy: NumArray, shape: Shape, opts: BilinearPoolOptions = {}): Float64Array {
  switch (kind) {
    case 'avg':
      return avgPoolDepthBackwardRef(gy, shape);
    case 'max':
      return maxPoolDepthBackwardRef(gy, maxPoolDepthRef(x, shape).argmax, shape);
    case 'attention':
      return attentionPoolDepthBackwardRef(x, attentionPoolDepthRef(x, shape), gy, shape);
    case 'bilinear':
      return bilinearPoolDepthBackwardRef(x, bilinearPoolDepthRef(x, shape, opts), gy, shape, opts);
    default:
      throw new Error(`unknown depth aggregation '${String(kind)}'; use 'avg', 'max', 'attention' or 'bilinear'`);
  }
}
