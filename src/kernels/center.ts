/**
 * Center loss, eq. (2), with Wen et al.'s center update, on the GPU, as center.ref.ts:
 *
 *   loss = λ·½ Σ_i ‖x_i − c_{y_i}‖²  ('sum', the default and eq. (2); 'mean' divides by N)
 *   ∂loss/∂x_i = λ (x_i − c_{y_i})   (÷ N for 'mean'; times the optional upstream scalar)
 *   c_j ← c_j − α Σ_{i: y_i = j}(c_j − x_i) / (1 + n_j)   (centerUpdate; not the loss gradient)
 *
 * centerLoss is 2 dispatches (gradient + chunk partials; one-workgroup sum), centerUpdate 1.
 * Labels are i32 class ids in [0, K): host arrays are checked and uploaded; a GPU label tensor is
 * trusted, but an out-of-range label makes its gradient row and the loss NaN (never a silent value).
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import { GpuTensor } from '../gpu/tensor.js';
import { copy } from './elementwise.js';
import { defineKernel, ELEMENT_WG as WG, elementGrid } from './define.js';

export const centerForwardKernel = defineKernel({
  name: 'center-loss-forward',
  shader: 'center/forward',
  bindings: { params: 'uniform', x: 'read', labels: 'read', centers: 'read', upstream: 'read', grad: 'read_write', partial: 'read_write' },
});
export const centerSumKernel = defineKernel({
  name: 'center-loss-sum',
  shader: 'center/sum',
  bindings: { params: 'uniform', partial: 'read', loss: 'read_write' },
});
export const centerUpdateKernel = defineKernel({
  name: 'center-update',
  shader: 'center/update',
  bindings: { params: 'uniform', x: 'read', labels: 'read', centers: 'read_write' },
});

const ITEMS = 4;

export type Labels = GpuTensor<'i32'> | ArrayLike<number>;

export interface CenterLossOptions {
  /** Loss weight λ (default 1). */
  lambda?: number;
  /** 'sum' (default, eq. (2)) or 'mean' (÷ N). */
  reduction?: 'sum' | 'mean';
  /** Optional [1] tensor ∂L_total/∂loss multiplying the gradient. */
  upstream?: GpuTensor;
}

export interface CenterLossResult {
  /** [1] loss. */
  loss: GpuTensor;
  /** [N, E] ∂loss/∂x. */
  grad: GpuTensor;
}

function dims(x: GpuTensor, centers: GpuTensor, op: string): [number, number, number] {
  if (x.shape.length !== 2 || centers.shape.length !== 2) {
    throw new GpuError('usage', `${op}: features must be [N, E] and centers [K, E]; got ${x} and ${centers}`);
  }
  const [n, e] = [x.shape[0]!, x.shape[1]!];
  const k = centers.shape[0]!;
  if (centers.shape[1] !== e) throw new GpuError('usage', `${op}: centers ${centers} must be [K, ${e}] to match the features ${x}`);
  if (n < 1 || e < 1 || k < 1) throw new GpuError('usage', `${op}: empty features or centers (${x}, ${centers})`);
  return [n, e, k];
}

/** Uploads host labels after checking they are integers in [0, k); passes GPU label tensors through. */
export function labelTensor(gpu: Gpu, labels: Labels, n: number, k: number | null, op: string): { t: GpuTensor<'i32'>; owned: boolean } {
  if (labels instanceof GpuTensor) {
    const t = labels;
    if (t.size !== n || t.dtype !== 'i32') throw new GpuError('usage', `${op}: labels ${t} must be an i32 tensor of ${n} class ids`);
    return { t, owned: false };
  }
  const a = labels as ArrayLike<number>;
  if (a.length !== n) throw new GpuError('usage', `${op}: ${a.length} labels for ${n} samples; pass one label per row`);
  for (let i = 0; i < n; i++) {
    const y = a[i]!;
    const bad = !Number.isInteger(y) || y < -0x80000000 || y > 0x7fffffff || (k !== null && (y < 0 || y >= k));
    if (bad)
      throw new GpuError('usage', `${op}: labels[${i}] = ${y} is not a class index${k !== null ? ` in [0, ${k}); there are ${k} centers` : ' (an i32)'}`);
  }
  return { t: gpu.tensor(Int32Array.from(a), [n], 'i32'), owned: true };
}

/** Center loss of features x [N, E] with labels [N] against centers [K, E]. */
export function centerLoss(
  x: GpuTensor,
  labels: Labels,
  centers: GpuTensor,
  opts: CenterLossOptions = {},
  out?: { loss?: GpuTensor; grad?: GpuTensor },
): CenterLossResult {
  const gpu = x.gpu;
  const [n, e, k] = dims(x, centers, 'centerLoss');
  const lambda = opts.lambda ?? 1;
  if (!Number.isFinite(lambda)) throw new GpuError('usage', `centerLoss lambda must be finite, got ${lambda}`);
  const reduction = opts.reduction ?? 'sum';
  if (reduction !== 'sum' && reduction !== 'mean') throw new GpuError('usage', `centerLoss reduction must be 'sum' or 'mean', got '${String(reduction)}'`);
  if (opts.upstream && opts.upstream.size !== 1) throw new GpuError('usage', `centerLoss: upstream ${opts.upstream} must be a [1] tensor`);
  if (out?.loss && out.loss.size !== 1) throw new GpuError('usage', `centerLoss: out.loss ${out.loss} must have 1 element`);
  if (out?.grad && out.grad.size !== n * e) throw new GpuError('usage', `centerLoss: out.grad ${out.grad} must have ${n * e} elements`);
  const scale = lambda * (reduction === 'mean' ? 1 / n : 1);
  const lab = labelTensor(gpu, labels, n, k, 'centerLoss');
  const total = n * e;
  const chunks = Math.ceil(total / (WG * ITEMS));
  const partial = gpu.empty([chunks]);
  const grad = out?.grad ?? gpu.empty([n, e]);
  const loss = out?.loss ?? gpu.empty([1]);
  gpu.dispatch(centerForwardKernel, {
    bind: { x, labels: lab.t, centers, upstream: opts.upstream ?? x, grad, partial },
    uniforms: { params: { total, e, k, scale, invalid: Number.NaN } },
    overrides: { WG, ITEMS, HAS_UPSTREAM: opts.upstream ? 1 : 0 },
    workgroups: elementGrid(gpu, chunks, 1),
  });
  gpu.dispatch(centerSumKernel, { bind: { partial, loss }, uniforms: { params: { p: chunks, alpha: 0.5 * scale } }, overrides: { WG }, workgroups: [1] });
  partial.release();
  if (lab.owned) lab.t.release();
  return { loss, grad };
}

/**
 * Wen et al.'s center update with center learning rate α. By default returns new centers (a copy,
 * then the update); with `inPlace` it updates `centers` itself (one dispatch).
 */
export function centerUpdate(x: GpuTensor, labels: Labels, centers: GpuTensor, alpha: number, opts: { inPlace?: boolean } = {}): GpuTensor {
  const gpu = x.gpu;
  const [n, e, k] = dims(x, centers, 'centerUpdate');
  if (!Number.isFinite(alpha)) throw new GpuError('usage', `centerUpdate alpha (center learning rate) must be finite, got ${alpha}`);
  const lab = labelTensor(gpu, labels, n, k, 'centerUpdate');
  const target = opts.inPlace ? centers : copy(centers);
  gpu.dispatch(centerUpdateKernel, {
    bind: { x, labels: lab.t, centers: target },
    uniforms: { params: { n, e, k, alpha } },
    overrides: { WG },
    workgroups: elementGrid(gpu, k * e),
  });
  if (lab.owned) lab.t.release();
  return target;
}
