import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { sigmoidRef, softmaxBackwardRef, softmaxRef } from '../../src/kernels/activations.ref.js';
import { randomNormal as randomNormal64 } from '../../src/kernels/ref-util.js';
import { sigmoid, softmax, softmaxBackward } from '../../src/kernels/activations.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

/** Random normals rounded to f32, so the float64 reference sees exactly the values the GPU gets. */
const randomNormal = (rng: Rng, n: number, mean = 0, std = 1) => Float64Array.from(randomNormal64(rng, n, mean, std), Math.fround);

const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/activations/activations.json', import.meta.url), 'utf8')) as {
  torch: string;
  elementwise: { x: number[]; sigmoid: { y: number[] } };
  softmax: { shape: [number, number]; x: number[]; upstream: number[]; y: number[]; gradX: number[] };
};

const TOL = 1e-4;

async function runSoftmax(gpu: Gpu, x: ArrayLike<number>, gy: ArrayLike<number>, shape: number[]) {
  return gpu.tidy(async () => {
    const y = softmax(gpu.tensor(x, shape), poisoned(gpu, shape));
    const gx = softmaxBackward(y, gpu.tensor(gy, shape), poisoned(gpu, shape));
    return { y: await y.read(), gx: await gx.read() };
  });
}

describe('row softmax on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  // cols 1 / 2 (binary) / 33 (crosses a 32-thread group) / 300 (> 256 threads, looped); rows 1 and many
  for (const [rows, cols] of [
    [1, 1],
    [5, 2],
    [3, 33],
    [2, 300],
    [700, 7],
  ]) {
    it(`[${rows}, ${cols}] seed=${seed}`, async () => {
      const x = randomNormal(rng, rows * cols, 0, 3);
      const gy = randomNormal(rng, rows * cols);
      const got = await runSoftmax(gpu, x, gy, [rows, cols]);
      const y = softmaxRef(x, [rows, cols]);
      expect(relErr(got.y, y)).toBeLessThan(TOL);
      expect(relErr(got.gx, softmaxBackwardRef(y, gy, [rows, cols]))).toBeLessThan(TOL);
    });
  }

  it('logits of ±50 and ±1000 and all-equal rows stay finite and exact', async () => {
    const x = [50, -50, 0, 49, 1000, -1000, 999, 0, 3, 3, 3, 3];
    const gy = [1, 2, 3, 4, -1, 0, 1, 0.5, 1, 2, 3, 4];
    const got = await runSoftmax(gpu, x, gy, [3, 4]);
    expect(got.y.every(Number.isFinite) && got.gx.every(Number.isFinite)).toBe(true);
    const y = softmaxRef(x, [3, 4]);
    expect(relErr(got.y, y)).toBeLessThan(1e-6);
    expect(relErr(got.gx, softmaxBackwardRef(y, gy, [3, 4]))).toBeLessThan(TOL);
    expect(Array.from(got.y.slice(8))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('works on any rank (softmax over the last axis) and rejects mismatched gradients', async () => {
    const x = randomNormal(rng, 2 * 3 * 5);
    const got = await gpu.tidy(() => softmax(gpu.tensor(x, [2, 3, 5])).read());
    expect(relErr(got, softmaxRef(x, [6, 5]))).toBeLessThan(TOL);
    const y = gpu.tensor([0.5, 0.5], [1, 2]);
    expect(() => softmaxBackward(y, gpu.tensor([1], [1]))).toThrow(/as many elements/);
    y.release();
  });

  it(`PyTorch golden (torch ${golden.torch}): softmax and sigmoid`, async () => {
    const s = golden.softmax;
    const got = await runSoftmax(gpu, s.x, s.upstream, s.shape);
    expect(relErr(got.y, s.y)).toBeLessThan(TOL);
    expect(relErr(got.gx, s.gradX)).toBeLessThan(TOL);
    const e = golden.elementwise;
    const sg = await gpu.tidy(() => sigmoid(gpu.tensor(e.x, [e.x.length])).read());
    expect(relErr(sg, e.sigmoid.y)).toBeLessThan(TOL);
    expect(relErr(sg, sigmoidRef(e.x))).toBeLessThan(TOL);
  });
});
