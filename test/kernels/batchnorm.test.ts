import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { batchNormBackward, batchNormEval, batchNormEvalBackward, batchNormTrain } from '../../src/kernels/batchnorm.js';
import {
  batchNormBackwardRef,
  batchNormEvalRef,
  batchNormReluBackwardRef,
  batchNormReluEvalRef,
  batchNormReluTrainRef,
  batchNormTrainRef,
  batchStatsRef,
} from '../../src/kernels/batchnorm.ref.js';
import { finiteDiffGrad } from '../../src/kernels/ref-util.js';
import { CPU_TUNING, forceReductionTuning, GPU_TUNING } from '../../src/kernels/reduce.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import { add, relu, reluBackward } from '../../src/kernels/elementwise.js';
import { addRef, reluBackwardRef, reluRef } from '../../src/kernels/relu.ref.js';
import { listGoldens, loadGolden } from '../golden.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

type F32 = GpuTensor<'f32'>;
const TOL = 1e-4;

// Odd and even plane sizes (scalar and vec4 paths), several segments per plane, batch 1 and 2, 2D and 3D
// maps and [N, C] features.
const SHAPES: number[][] = [
  [2, 3, 3, 4, 5], // S = 60: vec4
  [1, 2, 3, 3, 5], // S = 45: scalar
  [2, 3, 5, 7], // 2D, S = 35
  [1, 4, 4, 4], // 2D, N = 1, S = 16: vec4
  [5, 3], // features, S = 1
  [2, 3, 4, 33, 40], // S = 5280: vec4, 2 segments per plane on a GPU (the last one partial)
  [1, 2, 3, 37, 41], // S = 4551: scalar, several segments per plane on every adapter
  [1, 2, 3, 60, 64], // S = 11520: vec4, several segments per plane on every adapter
];

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Values exactly representable in f32, so the float64 reference sees what the GPU sees. */
function f32Normal(rng: Rng, n: number, mean = 0, std = 1): Float64Array {
  return Float64Array.from(rng.normalArray(n, mean, std));
}
function f32Uniform(rng: Rng, n: number, lo: number, hi: number): Float64Array {
  return Float64Array.from(rng.uniformArray(n, lo, hi));
}

/** Independent eval-mode backward: BN is affine with the running statistics as constants. */
function evalBackwardLoops(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  shape: number[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rm: ArrayLike<number>,
  rv: ArrayLike<number>,
  relu: boolean,
  eps = 1e-5,
) {
  const c = shape[1]!;
  const plane = numel(shape.slice(2));
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % c;
    const is = 1 / Math.sqrt(rv[ch]! + eps);
    const xh = (x[i]! - rm[ch]!) * is;
    const g = relu && !(gamma[ch]! * xh + beta[ch]! > 0) ? 0 : dy[i]!;
    dx[i] = g * gamma[ch]! * is;
    dgamma[ch] += g * xh;
    dbeta[ch] += g;
  }
  return { dx, dgamma, dbeta };
}

describe('batch norm on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);

  async function trainCase(shape: number[], relu: boolean): Promise<void> {
    const live = gpu.memory().liveTensors;
    const c = shape[1]!;
    const n = numel(shape);
    const x = f32Normal(rng, n, 0.7, 1.5);
    const gamma = f32Normal(rng, c, 1, 0.3);
    const beta = f32Normal(rng, c, 0, 0.3);
    const rm = f32Normal(rng, c);
    const rv = f32Uniform(rng, c, 0.5, 1.5);
    const dy = f32Normal(rng, n);
    const want = (relu ? batchNormReluTrainRef : batchNormTrainRef)(x, shape, gamma, beta, rm, rv);
    const wantG = relu
      ? batchNormReluBackwardRef(dy, x, shape, gamma, beta, want.mean, want.invStd)
      : batchNormBackwardRef(dy, x, shape, gamma, want.mean, want.invStd);

    await gpu.tidy(async () => {
      const tx = gpu.tensor(x, shape);
      const tg = gpu.tensor(gamma, [c]);
      const tb = gpu.tensor(beta, [c]);
      const trm = gpu.tensor(rm, [c]);
      const trv = gpu.tensor(rv, [c]);
      const out = { y: poisoned(gpu, shape), mean: poisoned(gpu, [c]), invStd: poisoned(gpu, [c]) };
      const r = batchNormTrain(tx, tg, tb, trm, trv, { relu, out });
      expect(r.y).toBe(out.y);
      expect(relErr(await r.y.read(), want.y), 'y').toBeLessThan(TOL);
      expect(relErr(await r.mean.read(), want.mean), 'mean').toBeLessThan(TOL);
      expect(relErr(await r.invStd.read(), want.invStd), 'invStd').toBeLessThan(TOL);
      expect(relErr(await trm.read(), want.runningMean), 'runningMean (in place)').toBeLessThan(TOL);
      expect(relErr(await trv.read(), want.runningVar), 'runningVar (in place, unbiased)').toBeLessThan(TOL);

      const tdy = gpu.tensor(dy, shape);
      const gout = { dx: poisoned(gpu, shape), dgamma: poisoned(gpu, [c]), dbeta: poisoned(gpu, [c]) };
      const gr = batchNormBackward(tdy, tx, tg, r.mean, r.invStd, relu ? { relu, y: r.y, out: gout } : { out: gout });
      expect(gr.dx).toBe(gout.dx);
      expect(relErr(await gr.dx.read(), wantG.dx), 'dx').toBeLessThan(TOL);
      expect(relErr(await gr.dgamma.read(), wantG.dgamma), 'dgamma').toBeLessThan(TOL);
      expect(relErr(await gr.dbeta.read(), wantG.dbeta), 'dbeta').toBeLessThan(TOL);
    });
    expect(gpu.memory().liveTensors).toBe(live);
  }

  for (const shape of SHAPES) {
    for (const relu of [false, true]) {
      it(`train forward + backward${relu ? ' (fused ReLU)' : ''} [${shape.join(', ')}] seed=${seed}`, () => trainCase(shape, relu));
    }
  }

  // The reductions are shaped per adapter: run the multi-segment shapes with both shapings here.
  for (const [label, tuning] of [
    ['GPU', GPU_TUNING],
    ['CPU', CPU_TUNING],
  ] as const) {
    for (const shape of SHAPES.filter((s) => s.length === 5 && s[3]! > 30)) {
      it(`train forward + backward (fused ReLU) with the ${label} reduction shaping [${shape.join(', ')}] seed=${seed}`, async () => {
        forceReductionTuning(tuning);
        try {
          await trainCase(shape, true);
          await trainCase(shape, false);
        } finally {
          forceReductionTuning(null);
        }
      });
    }
  }

  // Many planes of a few values (the deep stages of a batch-8 network): reduction workgroups span
  // several planes of one channel, segments start mid-plane, and a thread's (n, s) or channel steps
  // cross planes. NARROW forces tiny workgroups and few of them, so every stepping and wrap path runs.
  const SMALL_PLANES = [
    [8, 64, 8, 2, 2],
    [3, 40, 3, 3, 1],
    [40, 2, 7, 5, 1],
    [6, 5, 4, 3],
  ];
  const NARROW = { threads: 16, targetGroups: 2, minPerThread: 64, minThreads: 4 };
  for (const [label, tuning] of [
    ['adapter', null],
    ['GPU', GPU_TUNING],
    ['CPU', CPU_TUNING],
    ['narrow', NARROW],
  ] as const) {
    for (const shape of SMALL_PLANES) {
      it(`train forward + backward, small planes, ${label} shaping [${shape.join(', ')}] seed=${seed}`, async () => {
        forceReductionTuning(tuning);
        try {
          await trainCase(shape, true);
          await trainCase(shape, false);
        } finally {
          forceReductionTuning(null);
        }
      });
    }
  }

  for (const shape of [
    [2, 3, 3, 4, 5],
    [1, 3, 5, 7],
    [4, 5],
    [3, 40, 3, 3, 1],
    [8, 64, 8, 2, 2],
  ]) {
    for (const relu of [false, true]) {
      it(`eval forward + backward${relu ? ' (fused ReLU)' : ''} [${shape.join(', ')}] seed=${seed}`, async () => {
        const c = shape[1]!;
        const n = numel(shape);
        const x = f32Normal(rng, n, 0.3, 1.2);
        const gamma = f32Normal(rng, c, 1, 0.3);
        const beta = f32Normal(rng, c, 0, 0.3);
        const rm = f32Normal(rng, c, 0, 0.5);
        const rv = f32Uniform(rng, c, 0.5, 1.5);
        const dy = f32Normal(rng, n);
        const wantY = (relu ? batchNormReluEvalRef : batchNormEvalRef)(x, shape, gamma, beta, rm, rv);
        const wantG = evalBackwardLoops(dy, x, shape, gamma, beta, rm, rv, relu);
        await gpu.tidy(async () => {
          const [tx, tg, tb, trm, trv, tdy] = [
            gpu.tensor(x, shape),
            gpu.tensor(gamma, [c]),
            gpu.tensor(beta, [c]),
            gpu.tensor(rm, [c]),
            gpu.tensor(rv, [c]),
            gpu.tensor(dy, shape),
          ];
          const y = batchNormEval(tx, tg, tb, trm, trv, { relu, out: poisoned(gpu, shape) });
          expect(relErr(await y.read(), wantY), 'y').toBeLessThan(TOL);
          const out = { dx: poisoned(gpu, shape), dgamma: poisoned(gpu, [c]), dbeta: poisoned(gpu, [c]) };
          const gr = batchNormEvalBackward(tdy, tx, tg, trm, trv, relu ? { relu, y, out } : { out });
          expect(relErr(await gr.dx.read(), wantG.dx), 'dx').toBeLessThan(TOL);
          expect(relErr(await gr.dgamma.read(), wantG.dgamma), 'dgamma').toBeLessThan(TOL);
          expect(relErr(await gr.dbeta.read(), wantG.dbeta), 'dbeta').toBeLessThan(TOL);
          // Running statistics are inputs in eval mode: untouched.
          expect(Array.from(await trm.read())).toEqual(Array.from(Float32Array.from(rm)));
        });
      });
    }
  }

  it('the eval-backward loops used above are the gradient of the eval reference (finite differences)', () => {
    const shape = [2, 2, 3, 2];
    const c = 2;
    const x = f32Normal(rng, 24, 0.2, 1);
    const gamma = [1.3, -0.7];
    const beta = [0.1, 0.4];
    const rm = [0.2, -0.1];
    const rv = [0.8, 1.3];
    const dy = f32Normal(rng, 24);
    for (const relu of [false, true]) {
      const f = (xx: ArrayLike<number>, gg: ArrayLike<number>, bb: ArrayLike<number>) =>
        (relu ? batchNormReluEvalRef : batchNormEvalRef)(xx, shape, gg, bb, rm, rv).reduce((s, v, i) => s + v * dy[i]!, 0);
      const g = evalBackwardLoops(dy, x, shape, gamma, beta, rm, rv, relu);
      expect(
        relErr(
          g.dx,
          finiteDiffGrad((v) => f(v, gamma, beta), x),
        ),
      ).toBeLessThan(1e-6);
      expect(
        relErr(
          g.dgamma,
          finiteDiffGrad((v) => f(x, v, beta), Float64Array.from(gamma)),
        ),
      ).toBeLessThan(1e-6);
      expect(
        relErr(
          g.dbeta,
          finiteDiffGrad((v) => f(x, gamma, v), Float64Array.from(beta)),
        ),
      ).toBeLessThan(1e-6);
    }
    expect(c).toBe(2);
  });

  it(`stays accurate with a large mean offset: x = 1e4 + N(0, 1) seed=${seed}`, async () => {
    // Several segments per plane on every adapter, channels with different offsets.
    const shape = [2, 3, 4, 64, 64];
    const c = 3;
    const plane = 4 * 64 * 64;
    const x = new Float64Array(numel(shape));
    const offsets = [1e4, -3e4, 1e4 + 0.5];
    for (let i = 0; i < x.length; i++) x[i] = Math.fround(offsets[Math.floor(i / plane) % c]! + rng.normal());
    const gamma = [1, 1, 1];
    const beta = [0, 0, 0];
    const rm = [0, 0, 0];
    const rv = [1, 1, 1];
    const want = batchNormTrainRef(x, shape, gamma, beta, rm, rv);
    const { variance } = batchStatsRef(x, shape);
    await gpu.tidy(async () => {
      const trv = gpu.tensor(rv, [c]);
      const r = batchNormTrain(gpu.tensor(x, shape), gpu.tensor(gamma, [c]), gpu.tensor(beta, [c]), gpu.tensor(rm, [c]), trv);
      const invStd = await r.invStd.read();
      const gotVar = Array.from(invStd, (v) => 1 / (v * v) - 1e-5);
      // E[x²] − E[x]² in f32 would have no correct digit here (x² ≈ 1e8, ulp 8); the shifted
      // Welford/Chan statistics keep the variance to f32 precision.
      expect(relErr(gotVar, variance), 'variance').toBeLessThan(1e-5);
      expect(relErr(await trv.read(), want.runningVar), 'runningVar').toBeLessThan(1e-5);
      expect(relErr(await r.mean.read(), want.mean), 'mean').toBeLessThan(1e-7);
      // The f32 mean itself is rounded to half an ulp of 1e4..3e4 (≤ 1e-3), which shifts each
      // channel's output by up to that many standard deviations — the input's own f32 resolution.
      expect(relErr(await r.y.read(), want.y), 'y').toBeLessThan(2e-3);
    });
  });

  describe('PyTorch goldens', () => {
    for (const path of listGoldens('kernels/batchnorm')) {
      it(path, async () => {
        const gd = loadGolden(path);
        const relu = gd.params.relu as boolean;
        const xs = gd.get('x');
        const c = xs.shape[1]!;
        await gpu.tidy(async () => {
          const t = (name: string) => gpu.tensor(gd.get(name).data, gd.get(name).shape);
          const [x, gamma, beta] = [t('x'), t('gamma'), t('beta')];
          if (!gd.params.training) {
            const y = batchNormEval(x, gamma, beta, t('runningMean'), t('runningVar'), { relu, eps: gd.params.eps as number });
            expect(relErr(await y.read(), gd.get('y').data)).toBeLessThan(TOL);
            return;
          }
          const [rm, rv] = [t('runningMeanIn'), t('runningVarIn')];
          const r = batchNormTrain(x, gamma, beta, rm, rv, { relu, eps: gd.params.eps as number, momentum: gd.params.momentum as number });
          expect(relErr(await r.y.read(), gd.get('y').data), 'y').toBeLessThan(TOL);
          expect(relErr(await r.mean.read(), gd.get('mean').data), 'mean').toBeLessThan(TOL);
          const variance = Array.from(await r.invStd.read(), (v) => 1 / (v * v) - 1e-5);
          expect(relErr(variance, gd.get('variance').data), 'variance').toBeLessThan(TOL);
          expect(relErr(await rm.read(), gd.get('runningMean').data), 'runningMean').toBeLessThan(TOL);
          expect(relErr(await rv.read(), gd.get('runningVar').data), 'runningVar').toBeLessThan(TOL);
          const g = batchNormBackward(t('dy'), x, gamma, r.mean, r.invStd, relu ? { relu, y: r.y } : {});
          expect(relErr(await g.dx.read(), gd.get('dx').data), 'dx').toBeLessThan(TOL);
          expect(relErr(await g.dgamma.read(), gd.get('dgamma').data), 'dgamma').toBeLessThan(TOL);
          expect(relErr(await g.dbeta.read(), gd.get('dbeta').data), 'dbeta').toBeLessThan(TOL);
          expect(c).toBe(gamma.size);
        });
      });
    }
  });

  it(`the rest of a residual block reuses elementwise.ts: relu, reluBackward (0 at exactly 0), add seed=${seed}`, async () => {
    const shape = [2, 3, 2, 5, 6];
    const n = numel(shape);
    const x = f32Normal(rng, n);
    for (let i = 0; i < n; i += 7) x[i] = 0; // exact zeros: PyTorch's threshold_backward gives 0 there
    const dy = f32Normal(rng, n);
    const skip = f32Normal(rng, n);
    await gpu.tidy(async () => {
      const tx = gpu.tensor(x, shape);
      expect(relErr(await relu(tx, poisoned(gpu, shape)).read(), reluRef(x))).toBe(0);
      expect(relErr(await reluBackward(gpu.tensor(dy, shape), tx, poisoned(gpu, shape)).read(), reluBackwardRef(dy, x))).toBe(0);
      expect(relErr(await add(tx, gpu.tensor(skip, shape), 1, poisoned(gpu, shape)).read(), addRef(x, skip))).toBeLessThan(1e-7);
      // Fused BN + ReLU = relu(BN) with the unfused kernels, forward and backward.
      const c = shape[1]!;
      const [g, b] = [gpu.tensor(f32Normal(rng, c, 1, 0.3), [c]), gpu.tensor(f32Normal(rng, c, 0, 0.3), [c])];
      const fused = batchNormTrain(tx, g, b, null, null, { relu: true });
      const plain = batchNormTrain(tx, g, b, null, null);
      expect(relErr(await fused.y.read(), await relu(plain.y).read())).toBeLessThan(1e-6);
      const tdy = gpu.tensor(dy, shape);
      const gf = batchNormBackward(tdy, tx, g, fused.mean, fused.invStd, { relu: true, y: fused.y });
      const gp = batchNormBackward(reluBackward(tdy, plain.y), tx, g, plain.mean, plain.invStd);
      expect(relErr(await gf.dx.read(), await gp.dx.read())).toBeLessThan(1e-5);
      expect(relErr(await gf.dgamma.read(), await gp.dgamma.read())).toBeLessThan(1e-5);
    });
  });

  it('rejects bad inputs with clear errors', () => {
    gpu.tidy(() => {
      const x = gpu.tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
      const g3 = gpu.tensor([1, 1, 1], [3]);
      const g2 = gpu.tensor([1, 1], [2]);
      expect(() => batchNormTrain(x, g2, g3, null, null)).toThrow(/gamma .* 3 values/);
      expect(() => batchNormTrain(x, g3, g3, g3, null)).toThrow(/both runningMean and runningVar/);
      const one = gpu.tensor([1, 2, 3], [1, 3]);
      expect(() => batchNormTrain(one, g3, g3, null, null)).toThrow(/more than one value per channel/);
      expect(() => batchNormTrain(gpu.tensor([1, 2, 3], [3]), g3, g3, null, null)).toThrow(/\[N, C\]/);
      expect(() => batchNormBackward(x, x, g3, g3, g3, { relu: true })).toThrow(/needs opts.y/);
      expect(() => batchNormBackward(gpu.tensor(new Float32Array(24), [2, 3, 2, 2]), x, g3, g3, g3)).toThrow(/dy .* input's shape/);
      expect(() => batchNormTrain(x, g3, g3, null, null, { out: { y: x as F32 } })).toThrow(/must not alias/);
    });
  });

  it('without running statistics leaves nothing behind and gives the same output', async () => {
    const shape = [2, 2, 6];
    const x = f32Normal(rng, 24);
    const want = batchNormTrainRef(x, shape, [1, 1], [0, 0], [0, 0], [1, 1]);
    const live = gpu.memory().liveTensors;
    await gpu.tidy(async () => {
      const r = batchNormTrain(gpu.tensor(x, shape), gpu.tensor([1, 1], [2]), gpu.tensor([0, 0], [2]), null, null);
      expect(relErr(await r.y.read(), want.y)).toBeLessThan(TOL);
    });
    expect(gpu.memory().liveTensors).toBe(live);
  });
});
