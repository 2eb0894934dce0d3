/** 3-D max pooling as a graph op (torch.nn.functional.max_pool3d semantics). */
import { type Triple, triple } from '../../kernels/axes.js';
import { type MaxPoolParams, maxPool3dBackward, maxPool3d as maxPoolKernel } from '../../kernels/maxpool.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** torch.nn.functional.max_pool3d(input, kernel_size, stride=kernel_size, padding=0, dilation=1). */
export function maxPool3d(
  input: Tensor,
  kernelSize: number | Triple,
  stride?: number | Triple,
  padding: number | Triple = 0,
  dilation: number | Triple = 1,
): Tensor {
  const kernel = triple('maxPool3d', 'kernel size', kernelSize, 1, 1);
  const params: MaxPoolParams = {
    kernel,
    stride: triple('maxPool3d', 'stride', stride, kernel, 1),
    pad: triple('maxPool3d', 'padding', padding, 0, 0),
    dilation: triple('maxPool3d', 'dilation', dilation, 1, 1),
  };
  const r = maxPoolKernel(input.data, params);
  return record('maxPool3d', [input], r.y, { xShape: input.shape, params }, { argmax: r.argmax }, { owned: [r.argmax] });
}

export const maxPoolRules = {
  maxPool3d: (n: Node<'maxPool3d'>, gy: F32): Thunks => [() => maxPool3dBackward(gy, n.saved.argmax, n.attrs.xShape, n.attrs.params)],
};
