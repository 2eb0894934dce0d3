import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dOutputShape, conv3dRef, convOutSize, type Conv3dParams } from '../../src/kernels/conv.ref.js';
import { dot, gradCheck, numel, randomNormal, relErr, type Triple } from '../../src/kernels/ref-util.js';
import { listGoldens, loadGolden } from '../golden.js';

interface Case {
  name: string;
  x: [number, number, number, number, number];
  w: [number, number, number, number, number];
  stride?: Triple;
  pad?: Triple;
  dilation?: Triple;
}

// Every extent of the paper's family, stride (1,2,2), keep/halve padding, dilation, odd sizes, N = 1 and 2.
const CASES: Case[] = [
  { name: '3x3x3 keep, N=2', x: [2, 2, 4, 5, 3], w: [2, 2, 3, 3, 3], pad: [1, 1, 1] },
  { name: '3x3x3 no pad, N=1', x: [1, 1, 4, 5, 5], w: [2, 1, 3, 3, 3] },
  { name: '1x3x3 keep, N=1', x: [1, 3, 2, 5, 7], w: [2, 3, 1, 3, 3], pad: [0, 1, 1] },
  { name: '1x3x3 stride 122 halves, N=2', x: [2, 2, 2, 7, 6], w: [3, 2, 1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] },
  { name: '3x1x1 keep, N=2', x: [2, 2, 5, 3, 3], w: [2, 2, 3, 1, 1], pad: [1, 0, 0] },
  { name: '1x7x7 stem stride 122, N=1', x: [1, 1, 2, 9, 8], w: [2, 1, 1, 7, 7], stride: [1, 2, 2], pad: [0, 3, 3] },
  { name: '3x7x7 stem stride 122, N=2', x: [2, 1, 3, 7, 7], w: [2, 1, 3, 7, 7], stride: [1, 2, 2], pad: [1, 3, 3] },
  { name: '1x1x1 downsample stride 122, N=2', x: [2, 3, 2, 5, 7], w: [4, 3, 1, 1, 1], stride: [1, 2, 2] },
  { name: '1x1x1 stride 1, N=1', x: [1, 3, 2, 3, 3], w: [2, 3, 1, 1, 1] },
  { name: '3x3x3 dilation 122, N=1', x: [1, 2, 4, 7, 7], w: [2, 2, 3, 3, 3], pad: [1, 2, 2], dilation: [1, 2, 2] },
  // Every per-axis parameter distinct, so an axis mix-up in stride, pad or dilation cannot cancel out.
  { name: '2x3x2 stride 213 pad 102 dilation 123, N=1', x: [1, 2, 5, 6, 11], w: [2, 2, 2, 3, 2], stride: [2, 1, 3], pad: [1, 0, 2], dilation: [1, 2, 3] },
  { name: '3x3x3 dilation 211 stride 212 odd pad, N=2', x: [2, 1, 7, 5, 6], w: [1, 1, 3, 3, 3], stride: [2, 1, 2], pad: [2, 0, 1], dilation: [2, 1, 1] },
];

function params(c: Case): Conv3dParams {
  return { stride: c.stride, pad: c.pad, dilation: c.dilation };
}

/**
 * Independent forward: materialise the zero-padded input, then index it with no bounds tests.
 * Shares nothing with the reference's clipped traversal.
 */
function convByPadding(x: Float64Array, xs: number[], w: Float64Array, ws: number[], p: Conv3dParams): Float64Array {
  const [n, ci, d, h, wd] = xs as [number, number, number, number, number];
  const [co, , kd, kh, kw] = ws as [number, number, number, number, number];
  const s = p.stride ?? [1, 1, 1];
  const pd = p.pad ?? [0, 0, 0];
  const dl = p.dilation ?? [1, 1, 1];
  const [D, H, W] = [d + 2 * pd[0], h + 2 * pd[1], wd + 2 * pd[2]];
  const padded = new Float64Array(n * ci * D * H * W);
  for (let b = 0; b < n * ci; b++)
    for (let z = 0; z < d; z++)
      for (let y = 0; y < h; y++)
        for (let q = 0; q < wd; q++) padded[((b * D + z + pd[0]) * H + y + pd[1]) * W + q + pd[2]] = x[((b * d + z) * h + y) * wd + q]!;
  const od = Math.floor((D - dl[0] * (kd - 1) - 1) / s[0]) + 1;
  const oh = Math.floor((H - dl[1] * (kh - 1) - 1) / s[1]) + 1;
  const ow = Math.floor((W - dl[2] * (kw - 1) - 1) / s[2]) + 1;
  const out = new Float64Array(n * co * od * oh * ow);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let c = 0; c < co; c++)
      for (let z = 0; z < od; z++)
        for (let y = 0; y < oh; y++)
          for (let q = 0; q < ow; q++, o++) {
            let acc = 0;
            for (let i = 0; i < ci; i++)
              for (let a = 0; a < kd; a++)
                for (let bb = 0; bb < kh; bb++)
                  for (let cc = 0; cc < kw; cc++)
                    acc +=
                      w[(((c * ci + i) * kd + a) * kh + bb) * kw + cc]! *
                      padded[(((b * ci + i) * D + z * s[0] + a * dl[0]) * H + y * s[1] + bb * dl[1]) * W + q * s[2] + cc * dl[2]]!;
            out[o] = acc;
          }
  return out;
}

describe('conv3d reference', () => {
  it('output size follows PyTorch floor((in + 2p - dil(k-1) - 1)/s) + 1', () => {
    expect(convOutSize(9, 3, 2, 1, 1)).toBe(5); // halves odd sizes rounding up
    expect(convOutSize(8, 3, 2, 1, 1)).toBe(4);
    expect(convOutSize(256, 7, 2, 3, 1)).toBe(128); // ResNet stem
    expect(convOutSize(7, 3, 1, 2, 2)).toBe(7); // dilated, keeps size
    expect(conv3dOutputShape([2, 1, 24, 256, 256], [64, 1, 1, 7, 7], { stride: [1, 2, 2], pad: [0, 3, 3] })).toEqual([2, 64, 24, 128, 128]);
  });

  for (const c of CASES) {
    describe(c.name, () => {
      const rng = new Rng(numel(c.x) * 31 + numel(c.w));
      const x = randomNormal(rng, numel(c.x));
      const w = randomNormal(rng, numel(c.w), 0, 0.5);
      const p = params(c);
      const { y, yShape } = conv3dRef(x, c.x, w, c.w, p);
      const r = randomNormal(rng, y.length);

      it('forward matches an explicit zero-padded convolution', () => {
        expect(yShape).toEqual(conv3dOutputShape(c.x, c.w, p));
        expect(relErr(y, convByPadding(x, c.x, w, c.w, p))).toBeLessThan(1e-14);
      });

      it('backward input and weight match central finite differences of sum(y*r)', () => {
        const dx = conv3dBackwardInputRef(r, w, c.w, c.x, p);
        const dw = conv3dBackwardWeightRef(r, x, c.x, c.w, p);
        const gx = gradCheck((xx) => dot(conv3dRef(xx, c.x, w, c.w, p).y, r), x, dx, { h: 1e-4, maxCoords: 96, rng });
        const gw = gradCheck((ww) => dot(conv3dRef(x, c.x, ww, c.w, p).y, r), w, dw, { h: 1e-4, maxCoords: 96, rng });
        expect(gx.relErr).toBeLessThan(1e-8);
        expect(gw.relErr).toBeLessThan(1e-8);
      });
    });
  }

  it('backward passes are adjoint: <conv(x), dy> = <x, dx(dy)> = <w, dw(dy)>', () => {
    const rng = new Rng(7);
    const xs = [2, 3, 3, 6, 5];
    const ws = [2, 3, 3, 3, 3];
    const p: Conv3dParams = { stride: [1, 2, 2], pad: [1, 1, 1], dilation: [1, 1, 2] };
    const x = randomNormal(rng, numel(xs));
    const w = randomNormal(rng, numel(ws));
    const { y } = conv3dRef(x, xs, w, ws, p);
    const dy = randomNormal(rng, y.length);
    const lhs = dot(y, dy);
    expect(Math.abs(dot(x, conv3dBackwardInputRef(dy, w, ws, xs, p)) - lhs)).toBeLessThan(1e-11 * Math.abs(lhs) + 1e-12);
    expect(Math.abs(dot(w, conv3dBackwardWeightRef(dy, x, xs, ws, p)) - lhs)).toBeLessThan(1e-11 * Math.abs(lhs) + 1e-12);
  });

  it('reads Float32Array inputs exactly', () => {
    const rng = new Rng(3);
    const x32 = rng.normalArray(1 * 2 * 2 * 4 * 4);
    const w32 = rng.normalArray(3 * 2 * 1 * 3 * 3);
    const a = conv3dRef(x32, [1, 2, 2, 4, 4], w32, [3, 2, 1, 3, 3], { pad: [0, 1, 1] }).y;
    const b = conv3dRef(Float64Array.from(x32), [1, 2, 2, 4, 4], Float64Array.from(w32), [3, 2, 1, 3, 3], { pad: [0, 1, 1] }).y;
    expect(a).toEqual(b);
  });

  it('rejects bad input with specific messages', () => {
    const x = new Float64Array(1 * 2 * 3 * 4 * 4);
    expect(() => conv3dRef(x, [1, 2, 3, 4, 4], new Float64Array(27), [1, 1, 3, 3, 3])).toThrow(/1 input channels but the input has 2/);
    expect(() => conv3dRef(x, [1, 2, 3, 4, 4], new Float64Array(2 * 5 * 5 * 5), [1, 2, 5, 5, 5])).toThrow(/output would be empty/);
    expect(() => conv3dRef(x, [1, 2, 3, 4, 4], new Float64Array(18), [1, 2, 1, 3, 3], { stride: [1, 0, 1] })).toThrow(/stride must be three integers >= 1/);
    expect(() => conv3dRef(x, [1, 2, 3, 4, 5], new Float64Array(18), [1, 2, 1, 3, 3])).toThrow(/has 96 elements but its shape/);
    expect(() => conv3dRef(x, [2, 3, 4, 4], new Float64Array(18), [1, 2, 1, 3, 3])).toThrow(/rank 4/);
    expect(() => conv3dBackwardInputRef(new Float64Array(5), new Float64Array(18), [1, 2, 1, 3, 3], [1, 2, 3, 4, 4])).toThrow(/dy/);
  });
});

describe('conv3d reference vs PyTorch goldens (float64)', () => {
  const files = listGoldens('kernels/conv3d');

  it('has a golden for every extent of the paper family', () => {
    for (const ext of ['k3x3x3', 'k1x3x3', 'k3x1x1', 'k1x7x7', 'k3x7x7', 'k1x1x1']) {
      expect(files.some((f) => f.includes(`/${ext}_`))).toBe(true);
    }
  });

  for (const file of files) {
    it(file, () => {
      const g = loadGolden(file);
      expect(g.torch).toMatch(/^\d+\.\d+/);
      const p = g.params as { stride: Triple; pad: Triple; dilation: Triple };
      const x = g.get('x');
      const w = g.get('w');
      const dy = g.get('dy');
      const { y, yShape } = conv3dRef(x.data, x.shape, w.data, w.shape, p);
      expect(yShape).toEqual(g.get('y').shape);
      expect(relErr(y, g.get('y').data)).toBeLessThan(1e-10);
      expect(relErr(conv3dBackwardInputRef(dy.data, w.data, w.shape, x.shape, p), g.get('dx').data)).toBeLessThan(1e-10);
      expect(relErr(conv3dBackwardWeightRef(dy.data, x.data, x.shape, w.shape, p), g.get('dw').data)).toBeLessThan(1e-10);
    });
  }
});
