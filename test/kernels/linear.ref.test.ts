import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { linearBackwardRef, linearRef } from '../../src/kernels/linear.ref.js';
import { conv3dRef } from '../../src/kernels/conv.ref.js';
import { dot, gradCheck, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { listGoldens, loadGolden } from '../golden.js';

describe('linear reference', () => {
  for (const [m, k, o] of [
    [1, 1, 1],
    [1, 5, 2],
    [6, 7, 3],
    [4, 9, 10],
  ] as const) {
    describe(`M=${m} in=${k} out=${o}`, () => {
      const rng = new Rng(m * 100 + k * 10 + o);
      const x = randomNormal(rng, m * k);
      const w = randomNormal(rng, o * k, 0, 0.5);
      const b = randomNormal(rng, o);
      const r = randomNormal(rng, m * o);

      it('forward equals a 1x1x1 convolution plus bias (independent loops)', () => {
        // x [M, in] as a volume [1, in, M, 1, 1]: the conv's channel sum is the matmul's inner product.
        const xt = new Float64Array(k * m);
        for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) xt[t * m + i] = x[i * k + t]!;
        const conv = conv3dRef(xt, [1, k, m, 1, 1], w, [o, k, 1, 1, 1]).y;
        const want = new Float64Array(m * o);
        for (let i = 0; i < m; i++) for (let j = 0; j < o; j++) want[i * o + j] = conv[j * m + i]! + b[j]!;
        const { y, yShape } = linearRef(x, [m, k], w, [o, k], b);
        expect(yShape).toEqual([m, o]);
        expect(relErr(y, want)).toBeLessThan(1e-15);
        expect(
          relErr(
            linearRef(x, [m, k], w, [o, k], null).y,
            want.map((v, i) => v - b[i % o]!),
          ),
        ).toBeLessThan(1e-14);
      });

      it('backward (dx, dw, db) matches finite differences', () => {
        const g = linearBackwardRef(r, x, [m, k], w, [o, k]);
        const f = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => dot(linearRef(xx, [m, k], ww, [o, k], bb).y, r);
        const opts = { h: 1e-4, maxCoords: 80, rng };
        expect(gradCheck((xx) => f(xx, w, b), x, g.dx, opts).relErr).toBeLessThan(1e-9);
        expect(gradCheck((ww) => f(x, ww, b), w, g.dw, opts).relErr).toBeLessThan(1e-9);
        expect(gradCheck((bb) => f(x, w, bb), b, g.db, opts).relErr).toBeLessThan(1e-9);
      });
    });
  }

  it('rejects bad input with specific messages', () => {
    expect(() => linearRef(new Float64Array(6), [2, 3], new Float64Array(8), [2, 4], null)).toThrow(/3 features but the weight expects 4/);
    expect(() => linearRef(new Float64Array(6), [2, 3], new Float64Array(6), [2, 3], new Float64Array(3))).toThrow(/bias has 3 elements/);
    expect(() => linearBackwardRef(new Float64Array(3), new Float64Array(6), [2, 3], new Float64Array(6), [2, 3])).toThrow(/dy \[M, out\] has 3/);
  });
});

describe('linear reference vs PyTorch goldens (float64)', () => {
  for (const file of listGoldens('kernels/linear')) {
    it(file, () => {
      const g = loadGolden(file);
      const [x, w, b] = [g.get('x'), g.get('w'), g.get('b')];
      const { y } = linearRef(x.data, x.shape, w.data, w.shape, b.data);
      expect(relErr(y, g.get('y').data)).toBeLessThan(1e-10);
      const grads = linearBackwardRef(g.get('dy').data, x.data, x.shape, w.data, w.shape);
      expect(relErr(grads.dx, g.get('dx').data)).toBeLessThan(1e-10);
      expect(relErr(grads.dw, g.get('dw').data)).toBeLessThan(1e-10);
      expect(relErr(grads.db, g.get('db').data)).toBeLessThan(1e-10);
    });
  }
});
