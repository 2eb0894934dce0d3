/** Differentiable 3-D convolution (NCDHW; a 2-D layer is kernel depth 1), torch.nn.functional.conv3d semantics. */
import { GpuError } from '../../gpu/errors.js';
import { conv3d as convKernel, conv3dBackwardInput, conv3dBackwardWeight } from '../../kernels/conv.js';
import { record } from '../record.js';
import type { Thunks } from '../grad-rule.js';
import type { F32, Node, Tensor } from '../tensor.js';

type Triple = readonly [number, number, number];
const triple = (v: number | Triple, what: string): Triple => {
  const t = typeof v === 'number' ? ([v, v, v] as const) : v;
  if (t.length !== 3 || !t.every((x) => Number.isInteger(x) && x >= 0)) throw new GpuError('usage', `conv3d: ${what} must be an integer or a (depth, height, width) triple, got ${String(v)}`);
  return t;
};

/**
 * conv3d(input [N, Cin, D, H, W], weight [Cout, Cin, kD, kH, kW], bias = null, stride = 1,
 * padding = 0, dilation = 1). Bias is not supported (the networks have none: BN follows every conv).
 */
export function conv3d(input: Tensor, weight: Tensor, bias: Tensor | null = null, stride: number | Triple = 1, padding: number | Triple = 0, dilation: number | Triple = 1): Tensor {
  if (bias) throw new GpuError('usage', 'conv3d: bias is not supported (every convolution of these networks is followed by batch norm); add it separately');
  const attrs = {
    stride: triple(stride, 'stride'),
    pad: triple(padding, 'padding'),
    dilation: triple(dilation, 'dilation'),
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

