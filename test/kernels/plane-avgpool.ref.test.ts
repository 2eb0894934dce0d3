import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { planeAvgPoolBackwardRef, planeAvgPoolRef } from '../../src/kernels/plane-avgpool.ref.js';
import { dot, gradCheck, numel, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { listGoldens, loadGolden } from '../golden.js';

describe('in-plane global average pooling reference', () => {
  for (const shape of [
    [1, 1, 1, 1, 1],
    [1, 2, 3, 5, 7],
    [2, 3, 4, 4, 3],
  ]) {
    it(`[${shape.join(', ')}]: forward is the slice mean, backward matches finite differences`, () => {
      const rng = new Rng(numel(shape));
      const x = randomNormal(rng, numel(shape));
      const { y, yShape } = planeAvgPoolRef(x, shape);
      expect(yShape).toEqual(shape.slice(0, 3));
      const plane = shape[3]! * shape[4]!;
      for (let s = 0; s < y.length; s++) {
        const slice = Array.from(x.subarray(s * plane, (s + 1) * plane));
        expect(y[s]).toBeCloseTo(slice.reduce((a, b) => a + b, 0) / plane, 14);
      }
      const r = randomNormal(rng, y.length);
      const dx = planeAvgPoolBackwardRef(r, shape);
      expect(gradCheck((xx) => dot(planeAvgPoolRef(xx, shape).y, r), x, dx, { h: 1e-4, maxCoords: 100, rng }).relErr).toBeLessThan(1e-9);
    });
  }

  it('rejects bad input with specific messages', () => {
    expect(() => planeAvgPoolRef(new Float64Array(12), [3, 4])).toThrow(/rank 2/);
    expect(() => planeAvgPoolBackwardRef(new Float64Array(5), [1, 2, 3, 2, 2])).toThrow(/dy \[N, C, D\] has 5 elements/);
  });
});

describe('plane avg pool reference vs PyTorch goldens (float64)', () => {
  for (const file of listGoldens('kernels/plane-avgpool')) {
    it(file, () => {
      const g = loadGolden(file);
      const x = g.get('x');
      const { y, yShape } = planeAvgPoolRef(x.data, x.shape);
      expect(yShape).toEqual(g.get('y').shape);
      expect(relErr(y, g.get('y').data)).toBeLessThan(1e-10);
      expect(relErr(planeAvgPoolBackwardRef(g.get('dy').data, x.shape), g.get('dx').data)).toBeLessThan(1e-10);
    });
  }
});
