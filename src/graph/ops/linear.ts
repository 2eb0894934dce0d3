/**
 * Differentiable linear layer y = x Wᵀ + b (torch.nn.functional.linear semantics) on the GEMM kernel:
 * forward gemm(x, W, b, transB); backward dx = gy·W, dW = gyᵀ·x, db = Σ_rows gy.
 */
import { GpuError } from '../../gpu/errors.js';
import { gemm, matmul } from '../../kernels/matmul.js';
import { sumMid } from '../../kernels/reduce.js';
import { record } from '../record.js';
import type { Thunks } from '../grad-rule.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** linear(input [M, in], weight [out, in], bias [out] | null) → [M, out]. */
export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (input.shape.length !== 2) throw new GpuError('usage', `linear: input must be [M, in], got [${input.shape.join(', ')}] (reshape first)`);
  if (weight.shape.length !== 2 || weight.shape[1] !== input.shape[1]) {
    throw new GpuError(
      'usage',
      `linear: weight [${weight.shape.join(', ')}] does not match input [${input.shape.join(', ')}]; expected [out, ${input.shape[1]}]`,
    );
  }
  if (bias && bias.size !== weight.shape[0]) throw new GpuError('usage', `linear: bias has ${bias.size} elements, expected ${weight.shape[0]}`);
  const y = gemm(input.data, weight.data, bias?.data ?? null, { transB: true }, undefined, 'linear') as F32;
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record('linear', inputs, y, { hasBias: bias !== null }, { x: input.data, w: weight.data });
}

export const linearRules = {
  linear: (n: Node<'linear'>, gy: F32): Thunks => {
    const [m, out] = gy.shape as [number, number];
    const thunks: Thunks = [() => matmul(gy, n.saved.w) as F32, () => matmul(gy, n.saved.x, { transA: true }) as F32];
    if (n.attrs.hasBias) thunks.push(() => sumMid(gy, { outer: 1, mid: m, inner: out }, { shape: [out] }));
    return thunks;
  },
};
