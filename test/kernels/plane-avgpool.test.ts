import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { planeAvgPool, planeAvgPoolBackward } from '../../src/kernels/plane-avgpool.js';
import { planeAvgPoolBackwardRef, planeAvgPoolRef } from '../../src/kernels/plane-avgpool.ref.js';
import { listGoldens, loadGolden } from '../golden.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

const SHAPES: number[][] = [
  [2, 3, 4, 5, 7], // 3D maps, batch 2, odd plane
  [1, 4, 3, 8, 8], // batch 1, the late-stage plane size
  [1, 2, 1, 9, 11], // a 2D map (D = 1)
  [2, 2, 3, 1, 1], // 1×1 planes
  [1, 2, 2, 97, 89], // planes long enough to be split across workgroups
];

describe('in-plane global average pooling on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);

  for (const shape of SHAPES) {
    it(`forward and backward [${shape.join(', ')}] seed=${seed}`, async () => {
      const live = gpu.memory().liveTensors;
      const [n, c, d] = shape as [number, number, number];
      const x = rng.normalArray(
        shape.reduce((a, b) => a * b, 1),
        0.5,
        1,
      );
      const dy = rng.normalArray(n * c * d);
      await gpu.tidy(async () => {
        const y = planeAvgPool(gpu.tensor(x, shape), poisoned(gpu, [n, c, d]));
        expect(y.shape).toEqual([n, c, d]);
        expect(relErr(await y.read(), planeAvgPoolRef(x, shape).y)).toBeLessThan(1e-4);
        const dx = planeAvgPoolBackward(gpu.tensor(dy, [n, c, d]), shape, poisoned(gpu, shape));
        expect(dx.shape).toEqual(shape);
        expect(relErr(await dx.read(), planeAvgPoolBackwardRef(dy, shape))).toBeLessThan(1e-4);
      });
      expect(gpu.memory().liveTensors).toBe(live);
    });
  }

  for (const path of listGoldens('kernels/plane-avgpool')) {
    it(`PyTorch golden ${path}`, async () => {
      const g = loadGolden(path);
      const xs = g.get('x').shape;
      await gpu.tidy(async () => {
        const y = planeAvgPool(gpu.tensor(g.get('x').data, xs));
        expect(relErr(await y.read(), g.get('y').data)).toBeLessThan(1e-4);
        const dx = planeAvgPoolBackward(gpu.tensor(g.get('dy').data, g.get('dy').shape), xs);
        expect(relErr(await dx.read(), g.get('dx').data)).toBeLessThan(1e-4);
      });
    });
  }

  it('rejects wrong ranks and gradient shapes', () => {
    gpu.tidy(() => {
      const x4 = gpu.tensor(new Float32Array(12), [1, 3, 2, 2]);
      expect(() => planeAvgPool(x4)).toThrow(/\[N, C, D, H, W\]/);
      expect(() => planeAvgPoolBackward(gpu.tensor(new Float32Array(6), [1, 3, 2]), [1, 3, 3, 2, 2])).toThrow(/must have shape \[1, 3, 3\]/);
    });
  });
});
