/** Differentiable 3-D convolution (NCDHW; a 2-D layer is kernel depth 1), torch.nn.functional.conv3d semantics. */
import { GpuError } from '../../gpu/errors.js';
import { type Triple, triple } from '../../kernels/axes.js';
import { conv3d as convKernel, conv3dBackwardInput, conv3dBackwardWeight } from '../../kernels/conv.js';
import { record } from '../record.js';
import type { Thunks } from '../grad-rule.js';
import type { F32, Node, Tensor } from '../tensor.js';

/**
 * conv3d(input [N, Cin, D, H, W], weight [Cout, Cin, kD, kH, kW], bias = null, stride = 1,
 * padding = 0, dilation = 1). Bias is not supported (the networks have none: BN follows every conv).
 */
export function conv3d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  stride: number | Triple = 1,
  padding: number | Triple = 0,
  dilation: number | Triple = 1,
): Tensor {
  if (bias) throw new GpuError('usage', 'conv3d: bias is not supported (every convolution of these networks is followed by batch norm); add it separately');
  const attrs = {
    stride: triple('conv3d', 'stride', stride, 1, 1),
    pad: triple('conv3d', 'padding', padding, 0, 0),
    dilation: triple('conv3d', 'dilation', dilation, 1, 1),
    xShape: input.shape,
    wShape: weight.shape,
  };
  const y = convKernel(input.data, weight.data, { stride: attrs.stride, pad: attrs.pad, dilation: attrs.dilation });
  return record('conv3d', [input, weight], y, attrs, { x: input.data, w: weight.data });
}

export const convRules = {
  conv3d: (n: Node<'conv3d'>, gy: F32): Thunks => {
    const p = { stride: n.attrs.stride, pad: n.attrs.pad, dilation: n.attrs.dilation };
    return [() => conv3dBackwardInput(gy, n.saved.w, n.attrs.xShape, p), () => conv3dBackwardWeight(gy, n.saved.x, n.attrs.wShape, p)];
  },
};
