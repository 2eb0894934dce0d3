/**
 * The browser bench's building blocks without a browser: the layout conversions the peers use, the
 * checks that decide whether a peer's time is comparable, the ONNX writer + network graph (run through
 * ONNX Runtime's CPU provider in Node against our forward on the same weights), the tfjs layers twin
 * (in Node, on Dawn) against our forward, loss and parameter updates, and the report's goals.
 */
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { jaxNetPeer } from '../../bench/browser/jax-net.js';
import { networkGraph } from '../../bench/browser/onnx-net.js';
import { OnnxGraph } from '../../bench/browser/onnx.js';
import { filterFromTf, filterToTf, foldDepth, fromChannelsLast, permute, toChannelsLast, unfoldDepth } from '../../bench/layout.js';
import type { NetBatch, NetSpec, Shape5 } from '../../bench/net-peer.js';
import { checkOutputs } from '../../bench/peer.js';
import type { BenchResults } from '../../bench/record.js';
import { evaluateGoals, renderHtml, renderMarkdown } from '../../bench/report.js';
import { tfjsLayersPeer } from '../../bench/tfjs-net.js';
import { tfConv3dPadding } from '../../bench/tfjs-peer.js';
import { tfjsNodeRuntime } from '../../bench/tfjs-peer.node.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { leaf, noGrad } from '../../src/graph/autograd.js';
import * as F from '../../src/graph/functional.js';
import { type ModelName, layerKinds } from '../../src/model/resnet.js';
import { DEFAULT_LOSS, type TrainConfig, buildModel, makeOptimizer, repRows, trainStep } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { testGpu } from '../helpers/gpu.js';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('layout conversions', () => {
  it('permute moves every element to its permuted index', () => {
    const shape = [2, 3, 4, 5];
    const x = Float32Array.from({ length: numel(shape) }, (_, i) => i);
    const y = permute(x, shape, [2, 0, 3, 1]); // [4, 2, 5, 3]
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 3; b++)
        for (let c = 0; c < 4; c++) for (let d = 0; d < 5; d++) expect(y[((c * 2 + a) * 5 + d) * 3 + b]).toBe(x[((a * 3 + b) * 4 + c) * 5 + d]);
  });

  it('channels-last, filter and depth-fold conversions round-trip', () => {
    const rng = new Rng(1);
    const s = [2, 3, 4, 5, 6];
    const x = rng.normalArray(numel(s));
    expect(fromChannelsLast(toChannelsLast(x, s), s)).toEqual(x);
    expect(unfoldDepth(foldDepth(x, s), s)).toEqual(x);
    expect(filterFromTf(filterToTf(x, s), s)).toEqual(x);
    // NCDHW element (n, c, d, h, w) sits at NDHWC (n, d, h, w, c).
    const cl = toChannelsLast(x, s);
    expect(cl[(((1 * 4 + 2) * 5 + 3) * 6 + 4) * 3 + 2]).toBe(x[(((1 * 3 + 2) * 4 + 2) * 5 + 3) * 6 + 4]);
  });
});

describe("tfjs's padding for 3-D layers", () => {
  const layer = (x: number[], stride: number[], pad: number[]) => ({
    name: 'l',
    x: x as [number, number, number, number, number],
    w: [8, 8, 3, 3, 3] as [number, number, number, number, number],
    stride: stride as [number, number, number],
    pad: pad as [number, number, number],
    count: 0,
  });
  it("uses 'same' only where TF pads like PyTorch", () => {
    expect(tfConv3dPadding(layer([1, 8, 6, 8, 8], [1, 1, 1], [1, 1, 1]))).toBe('same');
    // Stride 2 on an even size: TF pads 0 before and 1 after, PyTorch 1 and 1.
    expect(tfConv3dPadding(layer([1, 8, 6, 16, 16], [1, 2, 2], [1, 1, 1]))).toBe('explicit');
    expect(tfConv3dPadding(layer([1, 8, 6, 16, 16], [1, 2, 2], [0, 0, 0]))).toBe('valid');
  });
});

describe('peer checks', () => {
  it('pass identical outputs and flag a wrong gradient with its error', () => {
    const y = new Float32Array([1, 2, 3, 4]);
    expect(checkOutputs({ y: y.slice() }, { y })).toMatchObject({ ok: true, errors: { y: 0 } });
    const bad = checkOutputs({ dx: y.slice(), dw: new Float32Array([1, 2, 3, 40]) }, { dx: y, dw: y });
    expect(bad.ok).toBe(false);
    expect(bad.errors.dw).toBeCloseTo(36 / Math.sqrt(30), 6);
    expect(bad.detail).toMatch(/dw relative error 6\.57/);
    expect(checkOutputs({ y: new Float32Array([1, Number.NaN, 3, 4]) }, { y }).ok).toBe(false);
    expect(checkOutputs({}, { y }).detail).toMatch(/y missing/);
  });
});

const cfgOf = (model: ModelName, n: number): TrainConfig => ({
  model,
  head: 'bilinear',
  width: 4,
  epochs: 1,
  batchSize: n,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 0.01,
  schedule: 'constant',
  loss: { ...DEFAULT_LOSS },
  oversample: false,
  augment: false,
  tta: 1,
  headLrScale: 1,
  sliceEpochs: 0,
  seed: 0,
});

/** A fresh model's spec (weights), batch, eval forward and first training step, as the network bench takes them. */
async function ours(gpu: Gpu, model: ModelName, input: Shape5) {
  const cfg = cfgOf(model, input[0]);
  const m = buildModel(cfg).materialize(gpu, new Rng(3));
  const opt = makeOptimizer(gpu, m, cfg);
  const rng = new Rng(4);
  const [n, , d, h, w] = input;
  const labels = Array.from({ length: n }, (_, i) => (i % 2) as 0 | 1);
  const batch = { data: rng.normalArray(n * d * h * w), shape: input, labels, ids: labels.map(String), repSlices: labels.map(() => [0, 1]) };
  const weights = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  for (const [k, p] of m.namedParameters()) {
    weights.set(k, await p.value.read());
    shapes.set(k, p.shape);
  }
  const spec: NetSpec = {
    name: model,
    kinds: layerKinds(model).map((k) => (k === '3d' ? '3d' : '2d')),
    width: 4,
    input,
    weights,
    shapes,
    lr: cfg.lr,
    momentum: cfg.momentum,
    weightDecay: cfg.weightDecay,
    gamma: cfg.loss.gamma,
    margin: cfg.loss.margin,
    sliceLossWeight: cfg.loss.sliceLossWeight,
    triplet: cfg.loss.triplet,
  };
  m.eval();
  const fwd = await gpu.tidy(() =>
    noGrad(async () => {
      const out = m.forward(leaf(gpu.tensor(batch.data, batch.shape), false));
      return { prob: await F.sigmoid(out.volumeLogits!).read(), sliceLogits: await out.sliceLogits.read() };
    }),
  );
  m.train();
  const loss = await trainStep({ model: m, optimizer: opt, batch, loss: cfg.loss, lr: cfg.lr, stage: 'volume' });
  const update = new Float32Array([...weights.values()].reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (const [k, p] of m.namedParameters()) {
    const after = await p.value.read();
    const before = weights.get(k)!;
    for (let j = 0; j < after.length; j++) update[o + j] = after[j]! - before[j]!;
    o += after.length;
  }
  opt.release();
  m.release();
  const { rows, labels: repLabels } = repRows(batch);
  const nb: NetBatch = { data: batch.data, labels: [...labels], repRows: rows, repLabels };
  return { spec, batch: nb, fwd, step: { loss: new Float32Array([loss]), update } };
}

describe('ONNX network graph (ONNX Runtime CPU provider in Node) against our forward', () => {
  // ONNX Runtime's wasm provider installs worker_threads' Worker as globalThis.Worker in Node. jax-js
  // takes a global Worker (with SharedArrayBuffer) as leave to use shared memory, and with ORT's in place
  // its Wasm device fails to link its kernels in the test below ('memory import 0 has no maximum
  // limit'); alone it passes. Put the global back as it was.
  const hadWorker = 'Worker' in globalThis;
  afterAll(() => {
    if (!hadWorker) delete (globalThis as { Worker?: unknown }).Worker;
  });
  it('writes a model ONNX Runtime loads and runs', async () => {
    const g = new OnnxGraph();
    const x = g.input('x', [1, 2, 4, 4]);
    const w = g.init(
      'w',
      [3, 2, 3, 3],
      Float32Array.from({ length: 54 }, (_, i) => i / 54),
    );
    g.output(g.op('Relu', [g.op('Conv', [x, w], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] })], undefined, 'y'), [1, 3, 4, 4]);
    const s = await ort.InferenceSession.create(g.encode(), { executionProviders: ['wasm'] });
    const y = (await s.run({ x: new ort.Tensor('float32', new Float32Array(32).fill(1), [1, 2, 4, 4]) })).y!;
    expect(y.dims).toEqual([1, 3, 4, 4]);
    // Centre pixel of channel 0: all 18 taps of input channel 0 and 1, each 1·w.
    const c0 = Array.from({ length: 18 }, (_, i) => i / 54).reduce((a, b) => a + b, 0);
    expect((y.data as Float32Array)[5]).toBeCloseTo(c0, 5);
    await s.release();
  });

  for (const model of ['f-rMC5', 'f-R3D'] as ModelName[]) {
    it(`${model}: probabilities and slice logits match ours on the same weights`, async () => {
      const gpu = await testGpu();
      const o = await ours(gpu, model, [2, 1, 4, 32, 32]);
      const s = await ort.InferenceSession.create(networkGraph(o.spec).encode(), { executionProviders: ['wasm'] });
      const out = await s.run({ x: new ort.Tensor('float32', o.batch.data, [...o.spec.input]) });
      const r = checkOutputs({ prob: out.prob!.data as Float32Array, sliceLogits: out.slice_logits!.data as Float32Array }, o.fwd, 1e-4);
      expect(r.errors, JSON.stringify(r)).toBeDefined();
      expect(r.ok, JSON.stringify(r.errors)).toBe(true);
      await s.release();
    });
  }
});

describe('the tfjs layers twin (Node, Dawn) against ours on the same weights', () => {
  it('f-rMC5: forward, loss and every parameter update match', async () => {
    const gpu = await testGpu();
    const o = await ours(gpu, 'f-rMC5', [4, 1, 4, 32, 32]);
    const rt = await tfjsNodeRuntime();
    expect(rt, 'tfjs did not start').not.toBeNull();
    const peer = tfjsLayersPeer(rt!);
    const f = await peer.prepare(o.spec, 'fwd', o.batch);
    const fc = checkOutputs(await f.outputs(), o.fwd, 1e-3);
    await f.dispose();
    expect(fc.ok, JSON.stringify(fc.errors)).toBe(true);
    const st = await peer.prepare(o.spec, 'step', o.batch);
    expect(st.parameterCount).toBe(numel([o.step.update.length]));
    const sc = checkOutputs(await st.outputs(), o.step, 5e-3);
    await st.dispose();
    expect(sc.ok, JSON.stringify(sc.errors)).toBe(true);
  });
});

describe('the jax-js network (Node, its Wasm device) against ours on the same weights', () => {
  it('f-rMC5: forward, loss and every parameter update match', async () => {
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('wasm');
    expect(devices).toContain('wasm');
    jax.defaultDevice('wasm');
    const gpu = await testGpu();
    const o = await ours(gpu, 'f-rMC5', [4, 1, 4, 32, 32]);
    const peer = jaxNetPeer('test', async () => {});
    const f = await peer.prepare(o.spec, 'fwd', o.batch);
    const fc = checkOutputs(await f.outputs(), o.fwd, 1e-3);
    await f.dispose();
    expect(fc.ok, JSON.stringify(fc.errors)).toBe(true);
    const st = await peer.prepare(o.spec, 'step', o.batch);
    const sc = checkOutputs(await st.outputs(), o.step, 5e-3);
    await st.dispose();
    expect(sc.ok, JSON.stringify(sc.errors)).toBe(true);
  });
});

describe('report', () => {
  const base = (records: BenchResults['benches'][string]['records'], stem = 'conv'): BenchResults => ({
    adapter: { description: 'SwiftShader', vendor: 'google', architecture: 'swiftshader', device: '', backend: 'chromium' },
    date: '2026-12-06T10:00:00.000Z',
    quick: true,
    node: 'v20',
    loadavg: { start: [6, 6, 6], end: [7, 6, 6] },
    browser: { userAgent: 'HeadlessChrome/156.0.0.0', flags: [], engines: { tfjs: '4.22.0', 'jax-js': '0.1.25' }, timestampQuery: true },
    benches: { [stem]: { seconds: 10, records } },
  });
  const conv3d = [1, 32, 16, 64, 64, 32, 32, 3, 3, 3];
  const rec = {
    name: 'conv3d 3×3×3 fwd+bwd',
    shape: conv3d,
    ms: 100,
    loadavg: { start: [6, 6, 6], end: [7, 6, 6] },
    peers: [
      { name: 'tfjs', ms: 2500, speedup: 25, check: { ok: true, tolerance: 1e-3, errors: { dx: 1e-6, dw: 2e-6 } } },
      { name: 'jax-js', ms: 700, check: { ok: false, tolerance: 1e-3, errors: { dx: 1e-6, dw: 18.9 }, detail: 'wrong: dw relative error 18.9' } },
    ],
  };

  it('says a wrong peer is wrong, with its error, and derives no goal from it', () => {
    const res = base([rec]);
    const md = renderMarkdown(res);
    expect(md).toMatch(/\*\*wrong\*\* \(dw rel\. error 18\.9; 700 ms, not comparable\)/);
    expect(md).toMatch(/2\.50 s · 25×/);
    const goals = evaluateGoals(res);
    expect(goals.find((g) => g.goal.includes('tfjs'))).toMatchObject({ goal: 'conv fwd+bwd ≥ 20× tfjs', met: true });
    expect(goals.find((g) => g.goal.includes('jax-js'))?.met).toBeNull();
    const html = renderHtml(res);
    expect(html).toContain('class="bar wrong"');
    expect(html).not.toMatch(/<script/);
  });

  it('checks the whole-network goal on speed and memory together', () => {
    const step = {
      name: 'f-rMC5+bilinear train step',
      shape: [4, 1, 6, 64, 64],
      ms: 1000,
      ratio: { memoryVsTfjs: 0.3 },
      peers: [{ name: 'tfjs-layers', ms: 12000, speedup: 12, check: { ok: true, tolerance: 5e-3, errors: { loss: 1e-6 } } }],
    };
    expect(evaluateGoals(base([step], 'network'))[0]).toMatchObject({ met: false });
    step.ratio.memoryVsTfjs = 0.2;
    expect(evaluateGoals(base([step], 'network'))[0]).toMatchObject({ met: true });
  });
});
