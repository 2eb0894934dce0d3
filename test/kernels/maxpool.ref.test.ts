import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { maxPool3dBackwardRef, maxPool3dOutputShape, maxPool3dRef, type MaxPool3dParams } from '../../src/kernels/maxpool.ref.js';
import { dot, gradCheck, numel, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { listGoldens, loadGolden } from '../golden.js';

const STEM: MaxPool3dParams = { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] };

const CASES: { name: string; x: number[]; p: MaxPool3dParams }[] = [
  { name: 'stem, N=2 even plane', x: [2, 2, 2, 6, 8], p: STEM },
  { name: 'stem, N=1 odd plane', x: [1, 3, 3, 7, 5], p: STEM },
  { name: 'kernel 2x2x2 default stride', x: [1, 2, 4, 4, 6], p: { kernel: [2, 2, 2] } },
  {
    name: 'overlapping 3x3x3 stride 1 pad 1 dilation 1x1x2',
    x: [2, 1, 3, 4, 5],
    p: { kernel: [3, 3, 3], stride: [1, 1, 1], pad: [1, 1, 1], dilation: [1, 1, 2] },
  },
];

/** Independent forward: pad with −∞ explicitly, take Math.max and the first index reaching it. */
function poolByPadding(x: Float64Array, xs: number[], p: MaxPool3dParams): { y: number[]; idx: number[] } {
  const [n, c, d, h, w] = xs as [number, number, number, number, number];
  const k = p.kernel;
  const s = p.stride ?? k;
  const pd = p.pad ?? [0, 0, 0];
  const dl = p.dilation ?? [1, 1, 1];
  const [D, H, W] = [d + 2 * pd[0], h + 2 * pd[1], w + 2 * pd[2]];
  const val = (nc: number, z: number, y: number, q: number): [number, number] => {
    const [zi, yi, qi] = [z - pd[0], y - pd[1], q - pd[2]];
    if (zi < 0 || zi >= d || yi < 0 || yi >= h || qi < 0 || qi >= w) return [-Infinity, -1];
    return [x[nc * d * h * w + (zi * h + yi) * w + qi]!, (zi * h + yi) * w + qi];
  };
  const ys: number[] = [];
  const idx: number[] = [];
  for (let nc = 0; nc < n * c; nc++)
    for (let z = 0; z + dl[0] * (k[0] - 1) < D; z += s[0])
      for (let y = 0; y + dl[1] * (k[1] - 1) < H; y += s[1])
        for (let q = 0; q + dl[2] * (k[2] - 1) < W; q += s[2]) {
          const win: [number, number][] = [];
          for (let a = 0; a < k[0]; a++)
            for (let b = 0; b < k[1]; b++) for (let e = 0; e < k[2]; e++) win.push(val(nc, z + a * dl[0], y + b * dl[1], q + e * dl[2]));
          const m = Math.max(...win.map((v) => v[0]));
          ys.push(m);
          idx.push(win.find((v) => v[0] === m && v[1] >= 0)![1]);
        }
  return { y: ys, idx };
}

describe('max pool reference', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const rng = new Rng(numel(c.x));
      const x = randomNormal(rng, numel(c.x));
      const { y, yShape, argmax } = maxPool3dRef(x, c.x, c.p);
      const r = randomNormal(rng, y.length);

      it('forward and argmax match an explicitly −∞-padded window scan', () => {
        expect(yShape).toEqual(maxPool3dOutputShape(c.x, c.p));
        const want = poolByPadding(x, c.x, c.p);
        expect(Array.from(y)).toEqual(want.y);
        expect(Array.from(argmax)).toEqual(want.idx);
      });

      it('backward routes through argmax: matches finite differences', () => {
        const dx = maxPool3dBackwardRef(r, argmax, yShape, c.x);
        const chk = gradCheck((xx) => dot(maxPool3dRef(xx, c.x, c.p).y, r), x, dx, { h: 1e-7, maxCoords: 120, rng });
        expect(chk.relErr).toBeLessThan(1e-7);
      });
    });
  }

  it('ties keep the first maximum in (d, h, w) scan order; all −∞ picks the first in-bounds element', () => {
    const xs = [1, 1, 1, 4, 4];
    const ones = new Float64Array(16).fill(1);
    const { argmax } = maxPool3dRef(ones, xs, STEM);
    // Windows start at rows/cols -1, 1 (clipped to 0, 1): first in-bounds element of each window.
    expect(Array.from(argmax)).toEqual([0, 1, 4, 5]);
    const neg = maxPool3dRef(new Float64Array(16).fill(-Infinity), xs, STEM);
    expect(Array.from(neg.y)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
    expect(Array.from(neg.argmax)).toEqual([0, 1, 4, 5]);
  });

  it('overlapping windows accumulate gradients into a shared maximum', () => {
    const x = new Float64Array(9);
    x[4] = 5; // the centre of a 3x3 plane wins all four stem windows
    const { argmax, yShape } = maxPool3dRef(x, [1, 1, 1, 3, 3], { kernel: [1, 3, 3], stride: [1, 1, 1], pad: [0, 1, 1] });
    const dx = maxPool3dBackwardRef(new Float64Array(9).fill(1), argmax, yShape, [1, 1, 1, 3, 3]);
    expect(dx[4]).toBe(9);
  });

  it('NaN propagates', () => {
    const x = new Float64Array(16);
    x[5] = NaN;
    expect(Number.isNaN(maxPool3dRef(x, [1, 1, 1, 4, 4], STEM).y[0])).toBe(true);
  });

  it('rejects bad input with specific messages', () => {
    const x = new Float64Array(16);
    expect(() => maxPool3dRef(x, [1, 1, 1, 4, 4], { kernel: [1, 3, 3], pad: [0, 2, 2] })).toThrow(/exceeds half the kernel/);
    expect(() => maxPool3dRef(x, [1, 1, 1, 4, 4], { kernel: [1, 5, 5] })).toThrow(/output would be empty/);
    expect(() => maxPool3dBackwardRef(new Float64Array(4), new Int32Array([0, 1, 2, 99]), [1, 1, 1, 2, 2], [1, 1, 1, 4, 4])).toThrow(/argmax 99/);
    expect(() => maxPool3dBackwardRef(new Float64Array(4), new Int32Array(4), [1, 2, 1, 2, 2], [1, 1, 1, 4, 4])).toThrow(/disagree on N or C/);
  });
});

describe('max pool reference vs PyTorch goldens (float64)', () => {
  for (const file of listGoldens('kernels/maxpool')) {
    it(file, () => {
      const g = loadGolden(file);
      const p = g.params as unknown as MaxPool3dParams;
      const x = g.get('x');
      const { y, yShape, argmax } = maxPool3dRef(x.data, x.shape, p);
      expect(yShape).toEqual(g.get('y').shape);
      expect(relErr(y, g.get('y').data)).toBeLessThan(1e-10);
      expect(Array.from(argmax)).toEqual(Array.from(g.get('argmax').data));
      expect(relErr(maxPool3dBackwardRef(g.get('dy').data, argmax, yShape, x.shape), g.get('dx').data)).toBeLessThan(1e-10);
    });
  }
});
