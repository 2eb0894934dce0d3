import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { broadcastScalar, gatherRows, gatherRowsBackward, sumAll, swapAxes } from '../../src/kernels/layout.js';
import { gatherRowsBackwardRef, gatherRowsRef, swapAxesRef } from '../../src/kernels/layout.ref.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

describe('layout kernels vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);

  const cases: [number[], number, number][] = [
    [[2, 5, 3], 1, 2],
    [[1, 7, 4], 1, 2],
    [[3, 2, 5, 4, 3], 1, 3],
    [[6, 5], 0, 1],
    [[2, 3, 4, 5], 0, 3],
  ];
  for (const [shape, d0, d1] of cases) {
    it(`swapAxes [${shape}] (${d0},${d1}) seed=${seed}`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = rng.uniformArray(n);
      const t = gpu.tensor(x, shape);
      const want = swapAxesRef(x, shape, d0, d1);
      const outShape = [...shape];
      [outShape[d0], outShape[d1]] = [shape[d1]!, shape[d0]!];
      const got = await gpu.tidy(() => swapAxes(t, d0, d1, poisoned(gpu, outShape)).read());
      expect(relErr(got, want)).toBe(0);
      t.release();
    });
  }

  it(`gatherRows and its backward with repeated indices seed=${seed}`, async () => {
    const R = 9;
    const K = 7;
    const x = rng.uniformArray(R * K);
    const idx = [3, 0, 8, 3, 3, 5];
    const dy = rng.uniformArray(idx.length * K);
    const tx = gpu.tensor(x, [R, K]);
    const ti = gpu.tensor(idx, [idx.length], 'u32');
    const tdy = gpu.tensor(dy, [idx.length, K]);
    const y = await gpu.tidy(() => gatherRows(tx, ti, poisoned(gpu, [idx.length, K])).read());
    expect(relErr(y, gatherRowsRef(x, R, idx))).toBe(0);
    const dx = await gpu.tidy(() => gatherRowsBackward(tdy, ti, [R, K], poisoned(gpu, [R, K])).read());
    expect(relErr(dx, gatherRowsBackwardRef(dy, R, idx))).toBeLessThan(1e-6);
    [tx, ti, tdy].forEach((t) => t.release());
  });

  for (const n of [1, 255, 256, 1000, 70001]) {
    it(`sum and mean over ${n} elements; broadcast back`, async () => {
      const x = rng.uniformArray(n);
      const t = gpu.tensor(x, [n]);
      let want = 0;
      for (const v of x) want += v;
      const s = await gpu.tidy(() => sumAll(t, 1, poisoned(gpu, [1])).read());
      expect(Math.abs(s[0]! - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)) + 1e-3);
      const m = await gpu.tidy(() => sumAll(t, 1 / n).read());
      expect(Math.abs(m[0]! - want / n)).toBeLessThan(1e-5);
      const b = await gpu.tidy(() => broadcastScalar(gpu.tensor([2.5], [1]), [n], -2, poisoned(gpu, [n])).read());
      expect(b.every((v) => v === -5)).toBe(true);
      t.release();
    });
  }
});
