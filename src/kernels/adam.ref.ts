/**
 * Float64 CPU reference of Adam and AdamW, step for step torch.optim.Adam / torch.optim.AdamW
 * (PyTorch 1.13, amsgrad = false, maximize = false):
 *
 *   Adam (L2):  g = g + wd·p            AdamW (decoupled):  p = p·(1 − lr·wd)
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g²
 *   p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)        t = 1, 2, … (the step count)
 *
 * Elementwise, like SGD: one call over the concatenation of all parameters equals one call per
 * parameter, so the fused GPU kernel over a step's parameters is tested against a single call.
 */
import { type AdamOptions, adamOptions } from './adam.js';
import type { NumArray } from './ref-util.js';

export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  /** Steps taken so far (0 before the first). */
  step: number;
}

export interface AdamStepResult {
  param: Float64Array;
  state: AdamState;
}

/** One Adam(W) step; `state` is the previous step's (null before the first). Inputs are not modified. */
export function adamStepRef(param: NumArray, grad: NumArray, state: AdamState | null, opts: AdamOptions): AdamStepResult {
  const n = param.length;
  if (grad.length !== n) throw new Error(`adamStepRef: grad has ${grad.length} elements but param has ${n}; they must match`);
  if (state && (state.m.length !== n || state.v.length !== n))
    throw new Error(`adamStepRef: state has ${state.m.length}/${state.v.length} elements but param has ${n}`);
  const { lr, beta1, beta2, eps, weightDecay: wd, decoupled } = adamOptions(opts, 'adamStepRef');
  const t = (state?.step ?? 0) + 1;
  const bc1 = 1 - beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  const out = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p = param[i]!;
    let g = grad[i]!;
    if (decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    m[i] = beta1 * (state ? state.m[i]! : 0) + (1 - beta1) * g;
    v[i] = beta2 * (state ? state.v[i]! : 0) + (1 - beta2) * g * g;
    out[i] = p - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
  return { param: out, state: { m, v, step: t } };
}
