import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { centerLossRef, centerUpdateRef, type CenterLossOptions as RefOptions } from '../../src/kernels/center.ref.js';
import { randomNormal as randomNormal64 } from '../../src/kernels/ref-util.js';
import { centerLoss, centerUpdate } from '../../src/kernels/center.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

/** Random normals rounded to f32, so the float64 reference sees exactly the values the GPU gets. */
const randomNormal = (rng: Rng, n: number, mean = 0, std = 1) => Float64Array.from(randomNormal64(rng, n, mean, std), Math.fround);

interface CenterCase {
  name: string;
  shape: [number, number];
  numClasses: number;
  lambda: number;
  reduction: 'sum' | 'mean';
  alpha: number;
  x: number[];
  labels: number[];
  centers: number[];
  loss: number;
  gradX: number[];
  updatedCenters: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/center/center.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: CenterCase[];
};

const TOL = 1e-4;

async function runGpu(
  gpu: Gpu,
  x: ArrayLike<number>,
  shape: [number, number],
  labels: number[],
  centers: ArrayLike<number>,
  k: number,
  opts: RefOptions,
  alpha: number,
  gpuLabels = false,
) {
  return gpu.tidy(async () => {
    const tx = gpu.tensor(x, shape);
    const tc = gpu.tensor(centers, [k, shape[1]]);
    const lab = gpuLabels ? gpu.tensor(Int32Array.from(labels), [labels.length], 'i32') : labels;
    const r = centerLoss(tx, lab, tc, opts, { loss: poisoned(gpu, [1]), grad: poisoned(gpu, shape) });
    const updated = centerUpdate(tx, lab, tc, alpha);
    const before = await tc.read();
    centerUpdate(tx, lab, tc, alpha, { inPlace: true });
    return { loss: (await r.loss.read())[0]!, grad: await r.grad.read(), updated: await updated.read(), before, inPlace: await tc.read() };
  });
}

describe('center loss on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  const cases: { n: number; e: number; k: number; opts: RefOptions; alpha: number }[] = [
    { n: 1, e: 1, k: 1, opts: {}, alpha: 0.5 },
    { n: 8, e: 5, k: 3, opts: {}, alpha: 0.5 },
    { n: 7, e: 300, k: 2, opts: { lambda: 0.003, reduction: 'mean' }, alpha: 0.5 },
    { n: 32, e: 256, k: 2, opts: { lambda: 0.5 }, alpha: 0.9 },
    { n: 5, e: 1031, k: 4, opts: { reduction: 'mean' }, alpha: 0.1 },
  ];
  for (const c of cases) {
    for (const gpuLabels of [false, true]) {
      it(`N=${c.n} E=${c.e} K=${c.k} ${JSON.stringify(c.opts)} α=${c.alpha} ${gpuLabels ? 'GPU' : 'host'} labels seed=${seed}`, async () => {
        const x = randomNormal(rng, c.n * c.e);
        const centers = randomNormal(rng, c.k * c.e, 0, 0.5);
        const labels = Array.from({ length: c.n }, () => rng.int(0, c.k));
        const got = await runGpu(gpu, x, [c.n, c.e], labels, centers, c.k, c.opts, c.alpha, gpuLabels);
        const want = centerLossRef(x, [c.n, c.e], labels, centers, [c.k, c.e], c.opts);
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(TOL);
        expect(relErr(got.grad, want.grad)).toBeLessThan(TOL);
        const upd = centerUpdateRef(x, [c.n, c.e], labels, centers, [c.k, c.e], c.alpha);
        expect(relErr(got.updated, upd)).toBeLessThan(TOL);
        expect(relErr(got.inPlace, upd)).toBeLessThan(TOL);
        expect(relErr(got.before, centers)).toBeLessThan(1e-7); // the copying update left the input alone
      });
    }
  }

  it(`a batch of one class only: absent classes keep their centers, seed=${seed}`, async () => {
    const [n, e, k] = [6, 9, 3];
    const x = randomNormal(rng, n * e);
    const centers = randomNormal(rng, k * e);
    const labels = new Array(n).fill(2);
    const got = await runGpu(gpu, x, [n, e], labels, centers, k, {}, 0.5);
    const want = centerLossRef(x, [n, e], labels, centers, [k, e]);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(TOL);
    expect(relErr(got.grad, want.grad)).toBeLessThan(TOL);
    expect(Array.from(got.updated.slice(0, 2 * e))).toEqual(Array.from(Float32Array.from(centers.slice(0, 2 * e))));
    expect(relErr(got.updated, centerUpdateRef(x, [n, e], labels, centers, [k, e], 0.5))).toBeLessThan(TOL);
  });

  it('features equal to their centers: loss 0, gradient 0, centers unchanged', async () => {
    const [n, e, k] = [4, 3, 2];
    const centers = randomNormal(rng, k * e);
    const labels = [0, 1, 1, 0];
    const x = labels.flatMap((y) => Array.from(Float32Array.from(centers.slice(y * e, y * e + e))));
    const got = await runGpu(gpu, x, [n, e], labels, Float32Array.from(centers), k, { lambda: 2 }, 0.5);
    expect(got.loss).toBe(0);
    expect(got.grad.every((v) => v === 0)).toBe(true);
    expect(Array.from(got.updated)).toEqual(Array.from(Float32Array.from(centers)));
  });

  it('the upstream scalar multiplies the gradient only', async () => {
    const x = randomNormal(rng, 12);
    const centers = randomNormal(rng, 6);
    const labels = [0, 1, 0, 1];
    const want = centerLossRef(x, [4, 3], labels, centers, [2, 3]);
    const got = await gpu.tidy(async () => {
      const r = centerLoss(gpu.tensor(x, [4, 3]), labels, gpu.tensor(centers, [2, 3]), { upstream: gpu.tensor([4], [1]) });
      return { loss: (await r.loss.read())[0]!, grad: await r.grad.read() };
    });
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(TOL);
    expect(
      relErr(
        got.grad,
        Array.from(want.grad, (g) => 4 * g),
      ),
    ).toBeLessThan(TOL);
  });

  it('releases every temporary (only the returned tensors stay alive)', async () => {
    const x = gpu.tensor(randomNormal(rng, 5 * 7), [5, 7]);
    const c = gpu.tensor(randomNormal(rng, 2 * 7), [2, 7]);
    await gpu.sync();
    const before = gpu.memory().liveTensors;
    const r = centerLoss(x, [0, 1, 1, 0, 1], c, { reduction: 'mean' });
    const u = centerUpdate(x, [0, 1, 1, 0, 1], c, 0.5);
    centerUpdate(x, [0, 1, 1, 0, 1], c, 0.5, { inPlace: true });
    for (const t of [r.loss, r.grad, u]) t.release();
    await gpu.sync();
    expect(gpu.memory().liveTensors).toBe(before);
    x.release();
    c.release();
  });

  it('bad labels: host labels throw; an out-of-range GPU label poisons the loss with NaN', async () => {
    const x = gpu.tensor(randomNormal(rng, 6), [2, 3]);
    const c = gpu.tensor(randomNormal(rng, 6), [2, 3]);
    expect(() => centerLoss(x, [0, 2], c)).toThrow(/labels\[1\] = 2 is not a class index in \[0, 2\)/);
    expect(() => centerLoss(x, [0, 0.5], c)).toThrow(/labels\[1\]/);
    expect(() => centerLoss(x, [0], c)).toThrow(/1 labels for 2 samples/);
    expect(() => centerLoss(x, [0, 1], gpu.tensor([1, 2], [1, 2]))).toThrow(/\[K, 3\]/);
    const bad = gpu.tensor(Int32Array.from([1, 7]), [2], 'i32');
    const r = centerLoss(x, bad, c);
    expect((await r.loss.read())[0]).toBeNaN();
    const g = await r.grad.read();
    expect(g.slice(0, 3).every(Number.isFinite)).toBe(true);
    expect(g.slice(3).every(Number.isNaN)).toBe(true);
    // the update ignores the bad sample: class 1 is updated from sample 0 alone
    const upd = await centerUpdate(x, bad, c, 0.5).read();
    const want = centerUpdateRef(await x.read(), [2, 3], [1, 0], await c.read(), [2, 3], 0.5);
    expect(relErr(upd.slice(3), want.slice(3))).toBeLessThan(TOL);
    for (const t of [x, c, bad, r.loss, r.grad]) t.release();
  });
});

describe('center loss on the GPU vs PyTorch goldens', async () => {
  const gpu = await testGpu();
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch})`, async () => {
      const got = await runGpu(gpu, c.x, c.shape, c.labels, c.centers, c.numClasses, { lambda: c.lambda, reduction: c.reduction }, c.alpha);
      expect(Math.abs(got.loss - c.loss) / c.loss).toBeLessThan(TOL);
      expect(relErr(got.grad, c.gradX)).toBeLessThan(TOL);
      expect(relErr(got.updated, c.updatedCenters)).toBeLessThan(TOL);
    });
  }
});
