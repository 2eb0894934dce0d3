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
import type { NetPeer, NetRun } from '../net-peer.js';
import type { OpPeer, PeerRun } from '../peer.js';
import { outShape } from '../shapes.js';
import { OnnxGraph } from './onnx.js';
import { networkGraph } from './onnx-net.js';

const BUFFER = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const keepAlive: unknown[] = [];

export interface OrtPeers {
  op: OpPeer;
  net: NetPeer;
}

export async function startOrt(version: string, verbose = false): Promise<OrtPeers> {
  ort.env.logLevel = verbose ? 'verbose' : 'warning';
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
    const grab =
      (f: (...a: unknown[]) => void) =>
      (...a: unknown[]) => {
        logs.push(a.map(String).join(' '));
        f(...a);
      };
    console.warn = grab(orig.warn);
    console.log = grab(orig.log);
    console.error = grab(orig.error);
    try {
      const s = await ort.InferenceSession.create(model, {
        executionProviders: ['webgpu'],
        graphOptimizationLevel: 'all',
        ...(gpuOutputs ? { preferredOutputLocation: 'gpu-buffer' } : {}),
      });
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
  const prepared = async (
    g: OnnxGraph,
    feeds: Record<string, { data: Float32Array; dims: number[] }>,
    convert: (out: Record<string, Float32Array>) => Record<string, Float32Array>,
  ): Promise<PeerRun> => {
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
      async dispose() {
        for (const t of pending.splice(0)) t.dispose();
        await s.release();
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
      const y = g.op(
        'Conv',
        [g.input('x', xDims), g.init('w', wDims, d.w)],
        { kernel_shape: wDims.slice(2), strides: folded ? [s.stride[1], s.stride[2]] : [...s.stride], pads: [...pads, ...pads] },
        'y',
      );
      g.output(y, yDims);
      return prepared(g, { x: { data: folded ? foldDepth(d.x, s.x) : d.x, dims: xDims } }, (o) => ({ y: folded ? unfoldDepth(o.y!, ys) : o.y! }));
    },
  };

  const net: NetPeer = {
    name: 'ort',
    version,
    support: (spec, kind) =>
      kind === 'step'
        ? 'ONNX Runtime Web is inference only (no training step)'
        : spec.kinds.every((k) => k === '2d' || k === '3d')
          ? null
          : 'only 2-D/3-D convolutions',
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
        dispose: () => s.release(),
      };
    },
  };
  return { op, net };
}
