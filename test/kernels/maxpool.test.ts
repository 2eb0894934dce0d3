import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { maxPool3d, maxPool3dBackward, maxPool3dOutputShape, type MaxPoolParams } from '../../src/kernels/maxpool.js';
import { maxPool3dBackwardRef, maxPool3dRef } from '../../src/kernels/maxpool.ref.js';
import { listGoldens, loadGolden } from '../golden.js';
import { poisoned, relErr, testGpu } from '../helpers/gpu.js';

const STEM: MaxPoolParams = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] };
const CASES: { name: string; shape: number[]; params: MaxPoolParams }[] = [
  { name: 'stem, 3D maps, batch 2', shape: [2, 3, 3, 9, 8], params: STEM },
  { name: 'stem, odd plane, batch 1', shape: [1, 2, 2, 7, 7], params: STEM },
  { name: 'stem, 2D map (D = 1)', shape: [1, 4, 1, 13, 10], params: STEM },
  { name: 'stem, plane wider than a workgroup tile', shape: [1, 1, 2, 37, 41], params: STEM },
  // The golden's general configuration (one pipeline less to compile): overlapping 3D windows, dilation.
  {
    name: 'overlapping 3D window with dilation',
    shape: [2, 2, 4, 6, 9],
    params: { kernel: [2, 3, 3], stride: [1, 2, 1], pad: [1, 1, 1], dilation: [1, 1, 2] },
  },
  { name: 'default stride = kernel, strided depth, odd sizes', shape: [2, 1, 5, 7, 9], params: { kernel: [2, 2, 3] } },
];

describe('max pooling on the GPU vs float64 reference', async () => {
  const gpu = await testGpu();
  const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;
  const rng = new Rng(seed);

  async function check(x: ArrayLike<number>, shape: number[], params: MaxPoolParams, label: string) {
    const want = maxPool3dRef(x, shape, params);
    const ys = maxPool3dOutputShape(shape, params);
    expect(ys).toEqual(want.yShape);
    const dy = rng.normalArray(want.y.length);
    const wantDx = maxPool3dBackwardRef(dy, want.argmax, want.yShape, shape);
    await gpu.tidy(async () => {
      const outArg = gpu.empty(ys, 'i32');
      gpu.write(outArg, new Int32Array(outArg.size).fill(-7));
      const r = maxPool3d(gpu.tensor(x, shape), params, { y: poisoned(gpu, ys), argmax: outArg });
      expect(r.y.shape).toEqual(ys);
      const y = await r.y.read();
      const nans = want.y.filter(Number.isNaN).length;
      if (nans) {
        expect(Array.from(y, Number.isNaN), `${label}: NaN positions`).toEqual(Array.from(want.y, Number.isNaN));
        expect(
          relErr(
            y.map((v) => (Number.isNaN(v) ? 0 : v)),
            want.y.map((v) => (Number.isNaN(v) ? 0 : v)),
          ),
          `${label}: y`,
        ).toBeLessThan(1e-6);
      } else {
        expect(relErr(y, want.y), `${label}: y`).toBeLessThan(1e-6);
      }
      expect(Array.from(await r.argmax.read()), `${label}: argmax`).toEqual(Array.from(want.argmax));
      const dx = maxPool3dBackward(gpu.tensor(dy, ys), r.argmax, shape, params, poisoned(gpu, shape));
      expect(relErr(await dx.read(), wantDx), `${label}: dx`).toBeLessThan(1e-4);
    });
  }

  for (const { name, shape, params } of CASES) {
    it(`${name} [${shape.join(', ')}] seed=${seed}`, async () => {
      const live = gpu.memory().liveTensors;
      await check(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape, params, name);
      expect(gpu.memory().liveTensors).toBe(live);
    });
  }

  it(`ties keep the first maximum, and the backward routes to it alone seed=${seed}`, async () => {
    for (const { shape, params } of CASES) {
      const x = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(0, 3));
      await check(x, shape, params, `ties ${shape.join('x')}`);
    }
  });

  it('NaN wins its windows, as PyTorch', async () => {
    const shape = [1, 2, 2, 7, 7];
    const x = Array.from(rng.normalArray(196));
    x[10] = Number.NaN;
    x[120] = Number.NaN;
    x[121] = Number.NaN;
    await check(x, shape, STEM, 'NaN');
  });

  for (const path of listGoldens('kernels/maxpool')) {
    it(`PyTorch golden ${path}`, async () => {
      const g = loadGolden(path);
      const params = { kernel: g.params.kernel, stride: g.params.stride, pad: g.params.pad, dilation: g.params.dilation } as MaxPoolParams;
      const xs = g.get('x').shape;
      await gpu.tidy(async () => {
        const r = maxPool3d(gpu.tensor(g.get('x').data, xs), params);
        expect(relErr(await r.y.read(), g.get('y').data)).toBeLessThan(1e-6);
        expect(Array.from(await r.argmax.read())).toEqual(Array.from(g.get('argmax').data));
        const dx = maxPool3dBackward(gpu.tensor(g.get('dy').data, g.get('dy').shape), r.argmax, xs, params);
        expect(relErr(await dx.read(), g.get('dx').data)).toBeLessThan(1e-4);
      });
    });
  }

  it('rejects bad geometry and mismatched gradients with clear errors', () => {
    gpu.tidy(() => {
      const x = gpu.tensor(new Float32Array(2 * 5 * 5), [1, 2, 1, 5, 5]);
      expect(() => maxPool3d(gpu.tensor(new Float32Array(50), [2, 5, 5]), STEM)).toThrow(/\[N, C, D, H, W\]/);
      expect(() => maxPool3d(x, { kernel: [1, 3, 3], pad: [0, 2, 1] })).toThrow(/exceeds half the kernel/);
      expect(() => maxPool3d(x, { kernel: [1, 7, 3] })).toThrow(/output would be empty/);
      expect(() => maxPool3d(x, { kernel: [1, 0, 3] as unknown as [number, number, number] })).toThrow(/kernel must be three integers >= 1/);
      const r = maxPool3d(x, STEM);
      expect(() => maxPool3dBackward(r.y, r.argmax, [1, 2, 1, 8, 8], STEM)).toThrow(/must be f32 of shape \[1, 2, 1, 4, 4\]/);
      expect(() => maxPool3dBackward(r.y, r.y as never, [1, 2, 1, 5, 5], STEM)).toThrow(/argmax .* must be i32/);
    });
  });
});
