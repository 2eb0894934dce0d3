/** Differentiable layout ops: transpose (two axes), index_select along dim 0, sum / mean to a scalar. */
import { GpuError } from '../../gpu/errors.js';
import * as lk from '../../kernels/layout.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** torch.transpose(x, d0, d1) (materialised contiguous). */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const r = x.shape.length;
  const a = d0 < 0 ? d0 + r : d0;
  const b = d1 < 0 ? d1 + r : d1;
  return record('transpose', [x], lk.swapAxes(x.data, a, b), { d0: a, d1: b }, {});
}

/**
 * torch.index_select(x, 0, index): rows of x picked by host-side indices (validated here, so the
 * kernel never reads out of bounds). Repeated indices are fine; their gradients add up.
 */
export function indexSelect(x: Tensor, indices: readonly number[]): Tensor {
  const rows = x.shape[0]!;
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= rows) throw new GpuError('usage', `indexSelect: index ${i} out of range for ${rows} rows`);
  }
  const idx = x.gpu.tensor(indices, [indices.length], 'u32');
  return record('indexSelect', [x], lk.gatherRows(x.data, idx), { xShape: x.shape }, { idx }, { owned: [idx] });
}

/** Σ x (torch.sum) as a one-element tensor. */
export function sum(x: Tensor): Tensor {
  return record('sum', [x], lk.sumAll(x.data, 1), { scale: 1, xShape: x.shape }, {});
}

/** mean(x) (torch.mean) as a one-element tensor. */
export function mean(x: Tensor): Tensor {
  const scale = 1 / Math.max(1, x.size);
  return record('sum', [x], lk.sumAll(x.data, scale), { scale, xShape: x.shape }, {});
}

export const layoutRules = {
  transpose: (n: Node<'transpose'>, gy: F32) => [() => lk.swapAxes(gy, n.attrs.d0, n.attrs.d1)],
  indexSelect: (n: Node<'indexSelect'>, gy: F32) => [() => lk.gatherRowsBackward(gy, n.saved.idx, n.attrs.xShape)],
  sum: (n: Node<'sum'>, gy: F32) => [() => lk.broadcastScalar(gy, n.attrs.xShape, n.attrs.scale)],
};
