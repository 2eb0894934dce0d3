/**
 * Float64 CPU reference of SGD with momentum and weight decay, step for step torch.optim.SGD
 * (PyTorch 1.13, maximize = false):
 *
 *   d   = g + wd·p
 *   buf = d                                   on the first step (no buffer yet)
 *   buf = μ·buf + (1 − dampening)·d           afterwards
 *   d   = d + μ·buf  (nesterov)  or  d = buf  (momentum > 0)  or  d unchanged (momentum = 0)
 *   p   = p − lr·d
 *
 * The update is elementwise, so one call over the concatenation of all parameters equals one call
 * per parameter: the fused GPU kernel over a step's parameters is tested against a single call.
 * The paper trains with lr 0.01 and weight decay 0.01 (momentum is not stated).
 */
import type { NumArray } from './ref-util.js';

export interface SgdOptions {
  /** Learning rate > 0 (use sgd.ts's lrAt for a schedule). */
  lr: number;
  /** Momentum μ ≥ 0 (default 0). */
  momentum?: number;
  /** Dampening of the momentum buffer (default 0). */
  dampening?: number;
  /** L2 weight decay wd ≥ 0 added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0, as in PyTorch). */
  nesterov?: boolean;
}

export interface SgdStepResult {
  /** Updated parameters (a new array). */
  param: Float64Array;
  /** Momentum buffer to pass to the next step; null when momentum is 0 (PyTorch keeps none). */
  buf: Float64Array | null;
}

/** One SGD step; `buf` is the previous step's buffer, or null before the first step. Inputs are not modified. */
export function sgdStepRef(param: NumArray, grad: NumArray, buf: NumArray | null, opts: SgdOptions): SgdStepResult {
  const n = param.length;
  if (grad.length !== n) throw new Error(`sgdStepRef: grad has ${grad.length} elements but param has ${n}; they must match`);
  const { lr } = opts;
  const momentum = opts.momentum ?? 0;
  const dampening = opts.dampening ?? 0;
  const wd = opts.weightDecay ?? 0;
  const nesterov = opts.nesterov ?? false;
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`sgdStepRef lr must be a finite number >= 0, got ${lr}`);
  if (!(momentum >= 0) || !Number.isFinite(momentum)) throw new Error(`sgdStepRef momentum must be a finite number >= 0, got ${momentum}`);
  if (!(wd >= 0) || !Number.isFinite(wd)) throw new Error(`sgdStepRef weightDecay must be a finite number >= 0, got ${wd}`);
  if (!Number.isFinite(dampening)) throw new Error(`sgdStepRef dampening must be finite, got ${dampening}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new Error(`sgdStepRef: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${momentum}, dampening ${dampening})`);
  }
  if (buf !== null && buf.length !== n) throw new Error(`sgdStepRef: momentum buffer has ${buf.length} elements but param has ${n}`);

  const out = new Float64Array(n);
  const newBuf = momentum !== 0 ? new Float64Array(n) : null;
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    let d = grad[i]! + wd * p;
    if (newBuf) {
      const b = buf === null ? d : momentum * buf[i]! + (1 - dampening) * d;
      newBuf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    out[i] = p - lr * d;
  }
  return { param: out, buf: newBuf };
}
