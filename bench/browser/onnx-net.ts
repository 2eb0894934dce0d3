/**
 * The paper's networks (eval mode, bilinear head) as an ONNX graph with our weights, for ONNX Runtime
 * Web's whole-network forward (bench/browser/ort-peer.ts). Browser-safe and Node-safe: test/bench runs
 * it through ONNX Runtime's CPU provider in Node against our forward.
 */
import type { NetSpec } from '../net-peer.js';
import { OnnxGraph } from './onnx.js';

/**
 * The eval-mode network as an ONNX graph with our weights: 2-D stages on [N·D, C, H, W], 3-D stages on
 * [N, C, D, H, W] (one transpose where the kind changes), batch norm with the running statistics (0/1
 * in a fresh model), the bilinear head, sigmoid. Outputs: prob [N], slice_logits [N·D].
 */
export function networkGraph(spec: NetSpec): OnnxGraph {
  const g = new OnnxGraph();
  const [n, , d, h, w] = spec.input;
  const W = (name: string) => {
    const v = spec.weights.get(name);
    if (!v) throw new Error(`onnx network: no parameter ${name}`);
    return v;
  };
  // Activation and its layout: folded [N·D, C, H, W] or 5-D [N, C, D, H, W].
  let t = g.input('x', [n, 1, d, h, w]);
  let folded = false;
  let c = 1;
  let hw = [h, w];
  const toLayout = (want: boolean) => {
    if (want === folded) return;
    if (want) t = g.op('Reshape', [g.op('Transpose', [t], { perm: [0, 2, 1, 3, 4] }), g.ints([n * d, c, hw[0]!, hw[1]!])]);
    else t = g.op('Transpose', [g.op('Reshape', [t, g.ints([n, d, c, hw[0]!, hw[1]!])])], { perm: [0, 2, 1, 3, 4] });
    folded = want;
  };
  /** A convolution in the 2-D (folded) layout when `is2d`, else 5-D (a 1×1×1 downsample of a 3-D stage stays 5-D). */
  const conv = (name: string, cout: number, kd: number, k: number, s: number, is2d = kd === 1) => {
    const p = (k - 1) / 2;
    toLayout(is2d);
    const wdims = is2d ? [cout, c, k, k] : [cout, c, kd, k, k];
    const wt = g.init(`${name}.weight`, wdims, W(`${name}.weight`));
    const pads = is2d ? [p, p, p, p] : [(kd - 1) / 2, p, p, (kd - 1) / 2, p, p];
    t = g.op('Conv', [t, wt], { kernel_shape: wdims.slice(2), strides: is2d ? [s, s] : [1, s, s], pads });
    c = cout;
    hw = hw.map((x) => Math.floor((x + 2 * p - k) / s) + 1);
  };
  const bn = (name: string, relu: boolean) => {
    const ch = c;
    const ones = new Float32Array(ch).fill(1);
    t = g.op(
      'BatchNormalization',
      [
        t,
        g.init(`${name}.weight`, [ch], W(`${name}.weight`)),
        g.init(`${name}.bias`, [ch], W(`${name}.bias`)),
        g.init(`${name}.running_mean`, [ch], new Float32Array(ch)),
        g.init(`${name}.running_var`, [ch], ones),
      ],
      { epsilon: { f: 1e-5 } },
    );
    if (relu) t = g.op('Relu', [t]);
  };
  const kd = (kind: string) => (kind === '3d' ? 3 : 1);
  conv('conv1', spec.width, kd(spec.kinds[0]!), 7, 2);
  bn('bn1', true);
  t = folded
    ? g.op('MaxPool', [t], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })
    : g.op('MaxPool', [t], { kernel_shape: [1, 3, 3], strides: [1, 2, 2], pads: [0, 1, 1, 0, 1, 1] });
  hw = hw.map((x) => Math.floor((x + 2 - 3) / 2) + 1);
  const wd = spec.width;
  [wd, 2 * wd, 4 * wd, 8 * wd].forEach((cout, i) => {
    const k = kd(spec.kinds[i + 1]!);
    for (let b = 0; b < 2; b++) {
      const stride = i > 0 && b === 0 ? 2 : 1;
      const pre = `layer${i + 1}.${b}`;
      toLayout(k === 1);
      const input = t;
      const inC = c;
      const inHw = hw;
      conv(`${pre}.conv1`, cout, k, 3, stride);
      bn(`${pre}.bn1`, true);
      conv(`${pre}.conv2`, cout, k, 3, 1);
      bn(`${pre}.bn2`, false);
      let id = input;
      if (stride !== 1 || inC !== cout) {
        const main = t;
        const mainC = c;
        const mainHw = hw;
        // The 1×1×1 downsample of the block's input, in the block's layout.
        t = input;
        c = inC;
        hw = inHw;
        conv(`${pre}.downsample.0`, cout, 1, 1, stride, k === 1);
        bn(`${pre}.downsample.1`, false);
        id = t;
        t = main;
        c = mainC;
        hw = mainHw;
      }
      t = g.op('Relu', [g.op('Add', [t, id])]);
    }
  });
  // In-plane average → F [N, D, C].
  let f: string;
  if (folded) f = g.op('Reshape', [g.op('ReduceMean', [t], { axes: [2, 3], keepdims: 0 }), g.ints([n, d, c])]);
  else f = g.op('Transpose', [g.op('ReduceMean', [t], { axes: [3, 4], keepdims: 0 })], { perm: [0, 2, 1] });
  const sl = g.op('Gemm', [g.op('Reshape', [f, g.ints([n * d, c])]), g.init('fc.weight', [1, c], W('fc.weight')), g.init('fc.bias', [1], W('fc.bias'))], {
    transB: 1,
  });
  g.output(g.op('Reshape', [sl, g.ints([n * d])], undefined, 'slice_logits'), [n * d]);
  const gram = g.op('Div', [g.op('MatMul', [g.op('Transpose', [f], { perm: [0, 2, 1] }), f]), g.scalar(d)]);
  const ssqrt = g.op('Div', [gram, g.op('Add', [g.op('Sqrt', [g.op('Add', [g.op('Abs', [gram]), g.scalar(1e-10)])]), g.scalar(1e-5)])]);
  const flat = g.op('Reshape', [ssqrt, g.ints([n, c * c])]);
  const norm = g.op('Sqrt', [g.op('Add', [g.op('ReduceSum', [g.op('Mul', [flat, flat]), g.ints([1])], { keepdims: 1 }), g.scalar(1e-12)])]);
  const emb = g.op('Div', [flat, norm]);
  const logit = g.op('Gemm', [emb, g.init('head_fc.weight', [1, c * c], W('head_fc.weight')), g.init('head_fc.bias', [1], W('head_fc.bias'))], { transB: 1 });
  g.output(g.op('Sigmoid', [g.op('Reshape', [logit, g.ints([n])])], undefined, 'prob'), [n]);
  return g;
}
