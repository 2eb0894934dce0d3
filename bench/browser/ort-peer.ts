/**
 * ONNX Runtime Web (onnxruntime-web/webgpu, the WebGPU execution provider) as a peer in the page, for
 * the inference rows: matmul, convolution forwards and the whole network's eval forward. Each graph is
 * written in the page (bench/browser/onnx.ts) from our shapes and, for the network, our weights.
 * Layers with kernel depth 1 are 4-D Conv on the depth folded into the batch (what an ORT user exports
 * from a 2-D model); 3-D layers 5-D Conv. Operation rows bind inputs and outputs as GPU buffers (no
 * upload or readback in the timed run, like ours); the network forward takes the batch from the host
 * and reads the probabilities back, like ours. ORT places a node it has no WebGPU kernel for on its CPU
 * (wasm) provider with only a log warning: the peer captures that warning and reports it on the row.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { foldDepth, unfoldDepth } from '../layout.js';
import type { NetPeer, NetRun, NetSpec } from '../net-peer.js';
import type { OpPeer, PeerRun } from '../peer.js';
import { outShape } from '../shapes.js';
import { OnnxGraph } from './onnx.js';

const BUFFER = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const keepAlive: unknown[] = [];

export interface OrtPeers {
  op: OpPeer;
  net: NetPeer;
}

export async function startOrt(version: string): Promise<OrtPeers> {
  ort.env.logLevel = 'warning';
  // The WebGPU provider makes its device with the first session and hands it to env.webgpu.device.
  // It keeps it while a session lives (and would make a new one after the last is released), so the
  // first session is kept open: every input and output buffer of the peer lives on that device.
  // (A device of our own passed as the provider's `device` option cannot take GPU-buffer inputs in 1.31:
  // "no data transfer registered" between its device ids.)
  const probe = new OnnxGraph();
  probe.output(probe.op('Relu', [probe.input('x', [4])], undefined, 'y'), [4]);
  const keep = await ort.InferenceSession.create(probe.encode(), { executionProviders: ['webgpu'] });
  await keep.run({ x: new ort.Tensor('float32', new Float32Array(4), [4]) });
  const device = (await ort.env.webgpu.device) as GPUDevice | undefined;
  if (!device) throw new Error('ONNX Runtime Web started without a WebGPU device (ort.env.webgpu.device is empty)');
  keepAlive.push(keep);
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'webgpu';

  /** Creates a session, collecting what ORT logs while it places the nodes. */
  const session = async (model: Uint8Array, gpuOutputs: boolean) => {
    const logs: string[] = [];
    const orig = { warn: console.warn, log: console.log, error: console.error };
    const grab = (f: (...a: unknown[]) => void) => (...a: unknown[]) => {
      logs.push(a.map(String).join(' '));
      f(...a);
    };
    console.warn = grab(orig.warn);
    console.log = grab(orig.log);
    console.error = grab(orig.error);
    try {
      const s = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all', ...(gpuOutputs ? { preferredOutputLocation: 'gpu-buffer' } : {}) });
      const fallback = logs.find((l) => /not assigned to the preferred execution provider|CPUExecutionProvider|fall ?back/i.test(l));
      return { s, ...(fallback ? { fallback } : {}) };
    } finally {
      Object.assign(console, orig);
    }
  };
  const upload = (data: Float32Array, dims: number[]) => {
    const buf = device.createBuffer({ size: Math.max(16, data.byteLength), usage: BUFFER });
    device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return { buf, tensor: ort.Tensor.fromGpuBuffer(buf, { dataType: 'float32', dims }) };
  };
  const sync = async () => void (await device.queue.onSubmittedWorkDone());

  /** An operation graph with GPU-bound inputs and outputs. */
  const prepared = async (g: OnnxGraph, feeds: Record<string, { data: Float32Array; dims: number[] }>, convert: (out: Record<string, Float32Array>) => Record<string, Float32Array>): Promise<PeerRun> => {
    const { s, fallback } = await session(g.encode(), true);
    if (fallback) {
      await s.release();
      throw new Error(`ONNX Runtime ran part of this graph on its CPU provider: ${fallback.slice(0, 160)}`);
    }
    const bound = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, upload(v.data, v.dims)]));
    const inputs = Object.fromEntries(Object.entries(bound).map(([k, v]) => [k, v.tensor]));
    let pending: ort.Tensor[] = [];
    return {
      async run() {
        const out = await s.run(inputs);
        pending.push(...Object.values(out));
      },
      async sync() {
        await sync();
        for (const t of pending.splice(0)) t.dispose();
      },
      async outputs() {
        const out = await s.run(inputs);
        const data: Record<string, Float32Array> = {};
        for (const [k, t] of Object.entries(out)) {
          data[k] = (await t.getData()) as Float32Array;
          t.dispose();
        }
        return convert(data);
      },
      dispose() {
        for (const t of pending.splice(0)) t.dispose();
        void s.release();
        for (const v of Object.values(bound)) v.buf.destroy();
        pending = [];
      },
    };
  };

  const op: OpPeer = {
    name: 'ort',
    version,
    adapter,
    convSupport: (_s, backward) => (backward ? 'ONNX Runtime Web is inference only (no gradients)' : null),
    async matmul(a, b, m, n, k) {
      const g = new OnnxGraph();
      g.output(g.op('MatMul', [g.input('a', [m, k]), g.input('b', [k, n])], undefined, 'y'), [m, n]);
      return prepared(g, { a: { data: a, dims: [m, k] }, b: { data: b, dims: [k, n] } }, (o) => ({ y: o.y! }));
    },
    async conv(s, d, backward) {
      if (backward) throw new Error('ONNX Runtime Web is inference only (no gradients)');
      const [n, cin, dd, h, w] = s.x;
      const [cout, , kd, kh, kw] = s.w;
      const ys = outShape(s);
      const folded = kd === 1 && s.stride[0] === 1 && s.pad[0] === 0;
      const g = new OnnxGraph();
      const xDims = folded ? [n * dd, cin, h, w] : [...s.x];
      const wDims = folded ? [cout, cin, kh, kw] : [...s.w];
      const yDims = folded ? [ys[0] * ys[2], cout, ys[3], ys[4]] : [...ys];
      const pads = folded ? [s.pad[1], s.pad[2]] : [...s.pad];
      const y = g.op('Conv', [g.input('x', xDims), g.init('w', wDims, d.w)], { kernel_shape: wDims.slice(2), strides: folded ? [s.stride[1], s.stride[2]] : [...s.stride], pads: [...pads, ...pads] }, 'y');
      g.output(y, yDims);
      return prepared(g, { x: { data: folded ? foldDepth(d.x, s.x) : d.x, dims: xDims } }, (o) => ({ y: folded ? unfoldDepth(o.y!, ys) : o.y! }));
    },
  };

  const net: NetPeer = {
    name: 'ort',
    version,
    support: (spec, kind) => (kind === 'step' ? 'ONNX Runtime Web is inference only (no training step)' : spec.kinds.every((k) => k === '2d' || k === '3d') ? null : 'only 2-D/3-D convolutions'),
    async prepare(spec, kind, batch): Promise<NetRun> {
      if (kind === 'step') throw new Error('ONNX Runtime Web is inference only');
      const g = networkGraph(spec);
      const { s, fallback } = await session(g.encode(), false);
      const [n, , d, h, w] = spec.input;
      const x = new ort.Tensor('float32', batch.data, [n, 1, d, h, w]);
      const forward = async () => {
        const out = await s.run({ x });
        const prob = (await out.prob!.getData()) as Float32Array;
        const sliceLogits = (await out.slice_logits!.getData()) as Float32Array;
        for (const t of Object.values(out)) t.dispose();
        return { prob, sliceLogits };
      };
      if (fallback) console.warn(`ort network: ${fallback}`);
      return {
        run: forward,
        sync,
        outputs: forward,
        parameterCount: [...spec.weights.values()].reduce((a, v) => a + v.length, 0),
        dispose: () => void s.release(),
      };
    },
  };
  return { op, net };
}

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
    t = g.op('BatchNormalization', [t, g.init(`${name}.weight`, [ch], W(`${name}.weight`)), g.init(`${name}.bias`, [ch], W(`${name}.bias`)), g.init(`${name}.running_mean`, [ch], new Float32Array(ch)), g.init(`${name}.running_var`, [ch], ones)], { epsilon: { f: 1e-5 } });
    if (relu) t = g.op('Relu', [t]);
  };
  const kd = (kind: string) => (kind === '3d' ? 3 : 1);
  conv('conv1', spec.width, kd(spec.kinds[0]!), 7, 2);
  bn('bn1', true);
  t = folded ? g.op('MaxPool', [t], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) : g.op('MaxPool', [t], { kernel_shape: [1, 3, 3], strides: [1, 2, 2], pads: [0, 1, 1, 0, 1, 1] });
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
  const sl = g.op('Gemm', [g.op('Reshape', [f, g.ints([n * d, c])]), g.init('fc.weight', [1, c], W('fc.weight')), g.init('fc.bias', [1], W('fc.bias'))], { transB: 1 });
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
