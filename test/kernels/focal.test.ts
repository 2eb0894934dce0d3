import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { focalLossRef, type FocalLossOptions as RefOptions } from '../../src/kernels/focal.ref.js';
import { checkFocalInputs, focalLoss } from '../../src/kernels/focal.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

interface FocalCase {
  name: string;
  gamma: number;
  alpha: number;
  reduction: 'mean' | 'sum';
  weights: number[] | null;
  logits: number[];
  targets: number[];
  loss: number;
  grad: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/focal/focal.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: FocalCase[];
};

const TOL = 1e-4;

async function runGpu(gpu: Gpu, logits: ArrayLike<number>, targets: ArrayLike<number>, opts: RefOptions, upstream?: number) {
  return gpu.tidy(async () => {
    const n = logits.length;
    const r = focalLoss(
      gpu.tensor(logits, [n]),
      gpu.tensor(targets, [n]),
      {
        ...(opts.gamma !== undefined ? { gamma: opts.gamma } : {}),
        ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
        ...(opts.reduction ? { reduction: opts.reduction } : {}),
        ...(opts.weights ? { weights: gpu.tensor(opts.weights, [n]) } : {}),
        ...(upstream !== undefined ? { upstream: gpu.tensor([upstream], [1]) } : {}),
      },
      { loss: poisoned(gpu, [1]), grad: poisoned(gpu, [n]) },
    );
    return { loss: (await r.loss.read())[0]!, grad: await r.grad.read() };
  });
}

function expectClose(got: { loss: number; grad: ArrayLike<number> }, want: { loss: number; grad: ArrayLike<number> }, what: string) {
  expect(Math.abs(got.loss - want.loss) / Math.abs(want.loss), `${what} loss ${got.loss} vs ${want.loss}`).toBeLessThan(TOL);
  expect(relErr(got.grad, want.grad), `${what} grad`).toBeLessThan(TOL);
}

describe('focal loss on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  const configs: RefOptions[] = [{}, { alpha: 0.25 }, { gamma: 0 }, { gamma: 1.5, alpha: 0.75, reduction: 'sum' }, { gamma: 3, alpha: 0.5 }, { gamma: 0.5 }];
  // 1, 7: one partial workgroup; 300, 1000: several samples per thread (the kernel is one workgroup).
  for (const n of [1, 7, 300, 1000]) {
    it(`random logits n=${n}, γ/α/reduction/weights variants, seed=${seed}`, async () => {
      const logits = Array.from({ length: n }, () => Math.fround(rng.normal(0, 3))); // f32: what the GPU sees
      const hard = Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
      const soft = Array.from({ length: n }, () => Math.fround(rng.next()));
      const weights = Array.from({ length: n }, () => Math.fround(rng.uniform(0.1, 2)));
      for (const cfg of configs) {
        for (const targets of [hard, soft]) {
          expectClose(await runGpu(gpu, logits, targets, cfg), focalLossRef(logits, targets, cfg), JSON.stringify(cfg));
        }
        const w = { ...cfg, weights };
        expectClose(await runGpu(gpu, logits, hard, w), focalLossRef(logits, hard, w), `weighted ${JSON.stringify(cfg)}`);
      }
    });
  }

  it(`logits of ±50 (and ±500) stay finite and exact where the loss is not negligible, seed=${seed}`, async () => {
    const logits = [50, -50, 50, -50, 500, -500, 0.5, -2, 50, -50];
    const targets = [1, 0, 0, 1, 0, 1, 1, 0, 0.5, 0.25];
    for (const cfg of [{}, { alpha: 0.25 }, { gamma: 1.5 }] as RefOptions[]) {
      const got = await runGpu(gpu, logits, targets, cfg);
      expect(Number.isFinite(got.loss) && got.grad.every(Number.isFinite)).toBe(true);
      expectClose(got, focalLossRef(logits, targets, cfg), JSON.stringify(cfg));
    }
  });

  it('confident correct predictions give a tiny, non-negative, finite loss (no 0·∞, no NaN)', async () => {
    const logits = [50, -50, 80, -80];
    const targets = [1, 0, 1, 0];
    const got = await runGpu(gpu, logits, targets, {});
    const want = focalLossRef(logits, targets, {});
    expect(want.loss).toBeLessThan(1e-60);
    // f32 cannot hold 1e-66; it must round to (nearly) zero, never NaN or a visible value.
    expect(got.loss >= 0 && got.loss < 1e-30).toBe(true);
    expect(got.grad.every((g) => Number.isFinite(g) && Math.abs(g) < 1e-20)).toBe(true);
  });

  it('the upstream scalar multiplies the gradient, not the loss', async () => {
    const logits = Array.from({ length: 33 }, () => Math.fround(rng.normal(0, 2)));
    const targets = logits.map(() => (rng.next() < 0.5 ? 1 : 0));
    const want = focalLossRef(logits, targets, { alpha: 0.25 });
    const got = await runGpu(gpu, logits, targets, { alpha: 0.25 }, -0.3);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(TOL);
    expect(
      relErr(
        got.grad,
        Array.from(want.grad, (g) => -0.3 * g),
      ),
    ).toBeLessThan(TOL);
  });

  it('allocates only its two outputs', async () => {
    const l = gpu.tensor([0.5, -1, 2], [3]);
    const t = gpu.tensor([1, 0, 1], [3]);
    await gpu.sync();
    const before = gpu.memory().liveTensors;
    const r = focalLoss(l, t, { alpha: 0.25 });
    expect(gpu.memory().liveTensors - before).toBe(2);
    r.loss.release();
    r.grad.release();
    for (const x of [l, t]) x.release();
  });

  it('rejects bad options with clear errors', () => {
    const l = gpu.tensor([1, 2, 3], [3]);
    const t = gpu.tensor([1, 0, 1], [3]);
    expect(() => focalLoss(l, gpu.tensor([1, 0], [2]))).toThrow(/as many elements/);
    expect(() => focalLoss(l, t, { gamma: -1 })).toThrow(/gamma/);
    expect(() => focalLoss(l, t, { alpha: 1.5 })).toThrow(/alpha/);
    expect(() => focalLoss(l, t, { weights: gpu.tensor([1], [1]) })).toThrow(/weights/);
    expect(() => checkFocalInputs([0, 1.5])).toThrow(/\[0, 1\]/);
    expect(() => checkFocalInputs([0, 1], [0, 0])).toThrow(/sum to 0/);
    l.release();
    t.release();
  });
});

describe('focal loss on the GPU vs PyTorch goldens (torchvision semantics)', async () => {
  const gpu = await testGpu();
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch})`, async () => {
      const opts: RefOptions = { gamma: c.gamma, alpha: c.alpha, reduction: c.reduction, ...(c.weights ? { weights: c.weights } : {}) };
      expectClose(await runGpu(gpu, c.logits, c.targets, opts), c, c.name);
    });
  }
});
