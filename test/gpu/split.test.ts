/**
 * Ops over tensors larger than one storage binding: batch norm, max-pool, the element-wise kernels and
 * the fused optimizers split their work into binding-sized views (chunks.ts) instead of refusing. Each is
 * run on a device whose bindings are capped at 256 KiB (the runtime's own `lowerLimits`) and compared with
 * the same op on the uncapped test device, where it runs in one piece; batch norm also against its float64
 * reference. Last, one whole training step of f-rMC5 + bilinear whose stem tensors exceed a 600 KiB cap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeGpu } from '../../src/gpu/acquire.node.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import { backward, leaf } from '../../src/graph/autograd.js';
import { FusedAdam } from '../../src/kernels/adam.js';
import { batchNormBackward, batchNormTrain } from '../../src/kernels/batchnorm.js';
import { batchNormBackwardRef, batchNormReluBackwardRef, batchNormReluTrainRef, batchNormTrainRef } from '../../src/kernels/batchnorm.ref.js';
import { add, copy, fill, relu, reluBackward, scale } from '../../src/kernels/elementwise.js';
import { maxPool3d, maxPool3dBackward } from '../../src/kernels/maxpool.js';
import { FusedSgd, packArena, planParamArena } from '../../src/kernels/sgd.js';
import { SGD } from '../../src/model/optimizer.js';
import { StagingNet } from '../../src/model/resnet.js';
import type { Batch } from '../../src/train/dataset.js';
import { DEFAULT_LOSS, batchLoss } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

const KiB = 1024;
const CAP = 256 * KiB;

describe('ops over tensors larger than one binding (256 KiB cap) match the uncapped device', async () => {
  const capped = await acquireNodeGpu({ lowerLimits: { maxStorageBufferBindingSize: CAP, maxBufferSize: 16 * 1024 * KiB } });
  const whole = await testGpu();
  afterAll(() => capped.destroy());
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);
  const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const over = (s: readonly number[]) => expect(4 * numel(s), `[${s.join(', ')}] must exceed the cap`).toBeGreaterThan(CAP);
  /** Runs `f` on both devices with the same inputs; returns each output's [capped, whole] host copies. */
  async function both(inputs: { data: Float32Array; shape: number[] }[], f: (g: Gpu, xs: GpuTensor<'f32'>[]) => GpuTensor[]) {
    const run = (g: Gpu) =>
      g.tidy(async () => {
        const outs = f(
          g,
          inputs.map((t) => g.tensor(t.data, t.shape)),
        );
        return Promise.all(outs.map((o) => o.read()));
      });
    const [a, b] = [await run(capped), await run(whole)];
    return a.map((v, i) => [Array.from(v), Array.from(b[i]!)] as const);
  }
  const data = (shape: number[], lo = -1, hi = 1) => ({ data: Float32Array.from(rng.uniformArray(numel(shape), lo, hi)), shape });

  it(`element-wise ops (fill, copy, add, scale, relu, reluBackward) are bit-identical; seed=${seed}`, async () => {
    const shape = [100_003];
    over(shape);
    const outs = await both([data(shape), data(shape)], (g, [a, b]) => [
      fill(g.empty(shape), 3.5),
      copy(a!),
      add(a!, b!, 0.5, poisoned(g, shape)),
      scale(a!, -2, 1),
      relu(a!),
      reluBackward(b!, a!),
    ]);
    expect(outs[0]![0].every((v) => v === 3.5)).toBe(true);
    for (const [k, [got, want]] of outs.entries()) expect(got, `output ${k}`).toEqual(want);
  });

  for (const [label, shape, reluOn] of [
    ['vec4 planes, BN + ReLU', [5, 8, 4, 20, 40], true],
    ['vec4 planes, plain BN, mean 1e4', [5, 8, 4, 20, 40], false],
    ['odd planes (scalar loads)', [8, 64, 3, 7, 9], false],
  ] as const) {
    it(`batch norm forward and backward (${label}) agree with the whole pass and the float64 reference; seed=${seed}`, async () => {
      const xs = [...shape];
      over(xs);
      const c = xs[1]!;
      const x = label.includes('1e4') ? { data: Float32Array.from(rng.uniformArray(numel(xs), 1e4 - 2, 1e4 + 2)), shape: xs } : data(xs);
      const gamma = data([c], 0.5, 1.5);
      const beta = data([c], -0.5, 0.5);
      const dy = data(xs);
      const outs = await both([x, gamma, beta, dy], (g, [tx, tg, tb, tdy]) => {
        const rm = g.tensor(new Float32Array(c), [c]);
        const rv = g.tensor(new Float32Array(c).fill(1), [c]);
        const r = batchNormTrain(tx!, tg!, tb!, rm, rv, { relu: reluOn, out: { y: poisoned(g, xs) } });
        const d = batchNormBackward(tdy!, tx!, tg!, r.mean, r.invStd, { relu: reluOn, y: reluOn ? r.y : undefined, out: { dx: poisoned(g, xs) } });
        return [r.y, r.mean, r.invStd, rv, d.dx, d.dgamma, d.dbeta];
      });
      // With a mean of 1e4 the f32 mean is rounded to half an ulp (≤ 1e-3 of a standard deviation here):
      // the input's own f32 resolution, as batchnorm.test.ts's large-offset case.
      const big = label.includes('1e4');
      const fwd = (reluOn ? batchNormReluTrainRef : batchNormTrainRef)(x.data, xs, gamma.data, beta.data, new Float64Array(c), new Float64Array(c).fill(1));
      const bwd = reluOn
        ? batchNormReluBackwardRef(dy.data, x.data, xs, gamma.data, beta.data, fwd.mean, fwd.invStd)
        : batchNormBackwardRef(dy.data, x.data, xs, gamma.data, fwd.mean, fwd.invStd);
      // The per-channel sums (mean, dgamma, dbeta) can nearly cancel, so they are judged in units of what
      // they sum: the mean in standard deviations, dgamma and dbeta in Σ|dy|·max|x̂| and Σ|dy| of the channel.
      const s = xs.slice(2).reduce((a, b) => a * b, 1);
      const sumAbsDy = Array.from({ length: c }, (_, ch) => {
        let t = 0;
        for (let n = 0; n < xs[0]!; n++) for (let i = 0; i < s; i++) t += Math.abs(dy.data[(n * c + ch) * s + i]!);
        return t;
      });
      const units = {
        mean: Array.from(fwd.invStd, (v) => 1 / v),
        dgamma: sumAbsDy.map((t) => 3 * t), // |x̂| < √3 for these uniform inputs
        dbeta: sumAbsDy,
      };
      const inUnits = (a: ArrayLike<number>, b: ArrayLike<number>, unit: number[]) => Math.max(...unit.map((u, i) => Math.abs(a[i]! - b[i]!) / u));
      const [y, mean, invStd, runningVar, dx, dgamma, dbeta] = outs as unknown as [readonly number[], readonly number[]][];
      for (const [name, [got, want]] of Object.entries({ y, invStd, runningVar, dx }))
        expect(relErr(got, want), `${name} vs the whole pass`).toBeLessThan(1e-5);
      for (const [name, [got, want]] of Object.entries({ mean, dgamma, dbeta })) {
        expect(inUnits(got, want, units[name as keyof typeof units]), `${name} vs the whole pass`).toBeLessThan(1e-5);
      }
      const tol = big ? 2e-3 : 1e-4;
      expect(relErr(y[0], fwd.y), 'y vs float64').toBeLessThan(tol);
      expect(relErr(dx[0], bwd.dx), 'dx vs float64').toBeLessThan(tol);
      expect(inUnits(mean[0], fwd.mean, units.mean), 'mean vs float64').toBeLessThan(big ? 2e-3 : 1e-5);
      expect(inUnits(dgamma[0], bwd.dgamma, units.dgamma), 'dgamma vs float64').toBeLessThan(big ? 2e-3 : 1e-5);
      expect(inUnits(dbeta[0], bwd.dbeta, units.dbeta), 'dbeta vs float64').toBeLessThan(1e-5);
    });
  }

  it(`max-pool forward (values and argmax) and backward are bit-identical; seed=${seed}`, async () => {
    const xs = [5, 8, 4, 20, 40];
    over(xs);
    const params = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] } as const;
    const dyShape = [5, 8, 4, 10, 20];
    const outs = await both([data(xs), data(dyShape)], (g, [x, dy]) => {
      const r = maxPool3d(x!, params);
      return [r.y, r.argmax, maxPool3dBackward(dy!, r.argmax, xs, params, poisoned(g, xs))];
    });
    for (const [k, [got, want]] of outs.entries()) expect(got, ['y', 'argmax', 'dx'][k]).toEqual(want);
  });

  it(`fused SGD and Adam over a parameter arena larger than a binding are bit-identical; seed=${seed}`, async () => {
    const sizes = [100_000, 3, 70_001];
    const layout = planParamArena(sizes);
    over([layout.total]);
    const p0 = data([layout.total]);
    const grads = [0, 1].map(() => ({
      data: packArena(
        layout,
        sizes.map((s) => rng.uniformArray(s, -1, 1)),
      ),
      shape: [layout.total],
    }));
    for (const make of [
      (g: Gpu) => new FusedSgd(g, layout, { momentum: 0.9, weightDecay: 0.01, groups: [{}, { lrScale: 10 }, { weightDecay: 0 }] }),
      (g: Gpu) => new FusedAdam(g, layout, { weightDecay: 0.01, decoupled: true }),
    ]) {
      const outs = await both(
        [
          {
            data: packArena(
              layout,
              sizes.map((s, t) => p0.data.subarray(layout.offsets[t]!, layout.offsets[t]! + s)),
            ),
            shape: [layout.total],
          },
          ...grads,
        ],
        (g, [p, g1, g2]) => {
          const opt = make(g);
          opt.step(p!, g1!, 0.01);
          opt.step(p!, g2!, 0.02);
          const out = copy(p!);
          opt.release();
          return [out];
        },
      );
      expect(outs[0]![0]).toEqual(outs[0]![1]);
    }
  });

  it(`one f-rMC5 + bilinear training step whose stem tensors exceed the cap matches the uncapped step; seed=${seed}`, async () => {
    // Width 8 on 4 × 1 × 8 × 64 × 64: the stem's output, its BN and max-pool are 1 MiB (4 entries of 256 KiB),
    // over a 600 KiB cap (the stem convolution re-lays one entry's input into 560 KiB, so 256 KiB is too small).
    const net = await acquireNodeGpu({ lowerLimits: { maxStorageBufferBindingSize: 600 * KiB } });
    const shape: Batch['shape'] = [4, 1, 8, 64, 64];
    const batch: Batch = {
      data: Float32Array.from(rng.uniformArray(numel(shape), -1, 1)),
      shape,
      labels: [0, 1, 0, 1],
      ids: ['a', 'b', 'c', 'd'],
      repSlices: [[1], [2], [1, 2], [3, 5]],
    };
    const step = async (g: Gpu) => {
      const model = new StagingNet({ name: 'f-rMC5', head: 'bilinear', width: 8 }).materialize(g, new Rng(seed));
      const opt = new SGD(g, [...model.namedParameters()], { lr: 0.01, momentum: 0.9, weightDecay: 0.01 });
      const loss = await g.tidy(async () => {
        const x = leaf(g.tensor(batch.data, batch.shape), false);
        const { total } = batchLoss(model, x, batch, { ...DEFAULT_LOSS, triplet: 1 }, null);
        total.retain();
        backward(total);
        return (await total.read())[0]!;
      });
      const grads = new Map<string, number[]>();
      for (const [name, p] of model.namedParameters()) grads.set(name, Array.from(await p.value.grad!.read()));
      opt.step(0.01);
      const after = new Map<string, number[]>();
      for (const [name, b] of model.namedBuffers()) if (b.dtype === 'f32') after.set(name, Array.from(await b.value.read()));
      for (const [name, p] of model.namedParameters()) after.set(name, Array.from(await p.value.read()));
      opt.release();
      model.release();
      return { loss, grads, after };
    };
    let got: Awaited<ReturnType<typeof step>>;
    try {
      got = await step(net);
    } finally {
      net.destroy();
    }
    const want = await step(whole);
    expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`).toBeLessThan(1e-5);
    for (const [name, w] of want.grads) expect(relErr(got.grads.get(name)!, w), `${name} gradient`).toBeLessThan(1e-4);
    for (const [name, w] of want.after) expect(relErr(got.after.get(name)!, w), `${name} after the step`).toBeLessThan(1e-4);
  });
});
