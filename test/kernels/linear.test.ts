import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { linear, linearBackward, linearBiasGrad } from '../../src/kernels/linear.js';
import { linearBackwardRef, linearRef } from '../../src/kernels/linear.ref.js';
import { listGoldens, loadGolden } from '../golden.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

describe('linear kernels vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0; // fresh each run; VOXELGRAD_SEED=<seed> replays a failure
  const rng = new Rng(seed);

  // [M, in, out]: batch 1 and 2, the paper's slice-wise FC (24 slices, 256 features → 1) and odd sizes.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [2, 7, 3],
    [24, 256, 1],
    [48, 256, 2],
    [13, 33, 17],
    [5, 1, 9],
  ];
  for (const [m, k, o] of shapes) {
    it(`x [${m}, ${k}], W [${o}, ${k}], with and without bias: forward and backward, seed=${seed}`, async () => {
      const x = rng.uniformArray(m * k, -1, 1);
      const w = rng.uniformArray(o * k, -1, 1);
      const b = rng.uniformArray(o, -1, 1);
      const dy = rng.uniformArray(m * o, -1, 1);
      await gpu.tidy(async () => {
        const tx = gpu.tensor(x, [m, k]);
        const tw = gpu.tensor(w, [o, k]);
        const tb = gpu.tensor(b, [o]);
        const tdy = gpu.tensor(dy, [m, o]);
        const y = await linear(tx, tw, tb, poisoned(gpu, [m, o])).read();
        expect(relErr(y, linearRef(x, [m, k], w, [o, k], b).y), 'y').toBeLessThan(1e-5);
        const y0 = await linear(tx, tw, null, poisoned(gpu, [m, o])).read();
        expect(relErr(y0, linearRef(x, [m, k], w, [o, k], null).y), 'y without bias').toBeLessThan(1e-5);
        const g = linearBackward(tdy, tx, tw);
        const want = linearBackwardRef(dy, x, [m, k], w, [o, k]);
        expect(relErr(await g.dx.read(), want.dx), 'dx').toBeLessThan(1e-5);
        expect(relErr(await g.dw.read(), want.dw), 'dw').toBeLessThan(1e-5);
        expect(relErr(await g.db!.read(), want.db), 'db').toBeLessThan(1e-5);
        expect(linearBackward(tdy, tx, tw, false).db).toBeNull();
        expect(relErr(await linearBiasGrad(tdy, poisoned(gpu, [o])).read(), want.db), 'db into a given output').toBeLessThan(1e-5);
      });
    });
  }

  for (const path of listGoldens('kernels/linear')) {
    it(`PyTorch golden ${path}`, async () => {
      const g = loadGolden(path);
      await gpu.tidy(async () => {
        const t = (name: string) => gpu.tensor(g.get(name).data, g.get(name).shape);
        const x = t('x');
        const w = t('w');
        const y = await linear(x, w, t('b')).read();
        expect(relErr(y, g.get('y').data), 'y').toBeLessThan(1e-5);
        const grads = linearBackward(t('dy'), x, w);
        expect(relErr(await grads.dx.read(), g.get('dx').data), 'dx').toBeLessThan(1e-5);
        expect(relErr(await grads.dw.read(), g.get('dw').data), 'dw').toBeLessThan(1e-5);
        expect(relErr(await grads.db!.read(), g.get('db').data), 'db').toBeLessThan(1e-5);
      });
    });
  }

  it('rejects mismatched shapes with clear errors', () => {
    gpu.tidy(() => {
      const x = gpu.tensor(new Float32Array(6), [2, 3]);
      const w = gpu.tensor(new Float32Array(8), [2, 4]);
      const w3 = gpu.tensor(new Float32Array(6), [2, 3]);
      expect(() => linear(x, w)).toThrow(/input has 3 features but the weight expects 4/);
      expect(() => linear(x, w3, gpu.tensor([1, 2, 3], [3]))).toThrow(/bias must be \[2\]/);
      expect(() => linear(gpu.tensor(new Float32Array(6), [6]), w3)).toThrow(/input must be \[M, in\]/);
      expect(() => linearBackward(gpu.tensor(new Float32Array(4), [4, 1]), x, w3)).toThrow(/dy must be \[2, 2\]/);
    });
  });
});
