import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dOutputShape, conv3dRef, type Conv3dParams } from '../../src/kernels/conv.ref.js';
import { numel, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { WINOGRAD_TILES, winogradMatrices } from '../../src/kernels/winograd-matrices.js';
import {
  conv3dDepthWinogradBackwardInputRef,
  conv3dDepthWinogradBackwardWeightRef,
  conv3dDepthWinogradRef,
  depthGatherRef,
  depthWindowRef,
} from '../../src/kernels/winograd.ref.js';

const seed = Number(process.env.VOXELGRAD_SEED) || Date.now() >>> 0;

describe('Winograd F(m, 3) matrices', () => {
  for (const m of WINOGRAD_TILES) {
    it(`F(${m}, 3) computes the m-output 3-tap correlation exactly (float64), seed=${seed}`, () => {
      const rng = new Rng(seed + m);
      const f = winogradMatrices(m, 3);
      expect(f.n).toBe(m + 2);
      expect(f.AT.length).toBe(m);
      expect(f.G.length).toBe(f.n);
      expect(f.BT.length).toBe(f.n);
      for (let trial = 0; trial < 20; trial++) {
        const d = randomNormal(rng, f.n);
        const g = randomNormal(rng, 3);
        const u = f.G.map((row) => row.reduce((s, c, k) => s + c * g[k]!, 0));
        const v = f.BT.map((row) => row.reduce((s, c, j) => s + c * d[j]!, 0));
        const y = f.AT.map((row) => row.reduce((s, c, p) => s + c * u[p]! * v[p]!, 0));
        const direct = Array.from({ length: m }, (_, i) => g[0]! * d[i]! + g[1]! * d[i + 1]! + g[2]! * d[i + 2]!);
        expect(relErr(y, direct)).toBeLessThan(1e-12);
      }
    });
  }

  it('rejects tiles without points and non-3-tap kernels with clear errors', () => {
    expect(() => winogradMatrices(5, 3)).toThrow(/no points for a tile of 5/);
    expect(() => winogradMatrices(4, 5)).toThrow(/needs 7 finite points/);
  });
});

describe('depth transforms (reference)', () => {
  it('window and gather are transposes of each other: ⟨window(a), b⟩ = ⟨a, gather(b)⟩', () => {
    const rng = new Rng(seed);
    const mat = [
      [1, -2, 0.5],
      [3, 0, -1],
      [0.25, 1, 1],
      [2, 2, -3],
    ]; // P = 4 points × J = 3 taps
    const t = { outer: 3, inner: 5, tiles: 3, step: 2, off: 1 };
    const din = 6;
    const a = randomNormal(rng, t.outer * din * t.inner);
    const b = mat.map(() => randomNormal(rng, t.outer * t.tiles * t.inner));
    const wa = depthWindowRef(a, din, mat, t);
    const lhs = wa.reduce((s, wp, p) => s + wp.reduce((q, v, i) => q + v * b[p]![i]!, 0), 0);
    const matT = mat[0]!.map((_, j) => mat.map((row) => row[j]!));
    const gb = depthGatherRef(b, din, matT, t);
    const rhs = gb.reduce((s, v, i) => s + v * a[i]!, 0);
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.abs(lhs) + 1e-9);
  });
});

interface Case {
  name: string;
  x: [number, number, number, number, number];
  cout: number;
  kh: number;
  kw: number;
  p: Conv3dParams;
}
const CASES: Case[] = [
  { name: '3×3×3 keep, depth 5 (partial last tile), N=2', x: [2, 3, 5, 4, 5], cout: 2, kh: 3, kw: 3, p: { pad: [1, 1, 1] } },
  { name: '3×3×3 stride (1,2,2), depth 8', x: [1, 2, 8, 7, 6], cout: 3, kh: 3, kw: 3, p: { stride: [1, 2, 2], pad: [1, 1, 1] } },
  { name: '3×1×1 keep, depth 7', x: [2, 2, 7, 3, 2], cout: 2, kh: 1, kw: 1, p: { pad: [1, 0, 0] } },
  { name: '3×3×3 no depth padding, depth 9', x: [1, 2, 9, 5, 5], cout: 2, kh: 3, kw: 3, p: { pad: [0, 1, 1] } },
  { name: '3×3×2 depth pad 2, in-plane dilation, depth 3', x: [1, 2, 3, 6, 7], cout: 2, kh: 3, kw: 2, p: { pad: [2, 0, 1], dilation: [1, 2, 1] } },
];

describe('depth-Winograd convolution (reference) equals the direct convolution', () => {
  for (const c of CASES) {
    for (const m of WINOGRAD_TILES) {
      it(`${c.name}, F(${m}, 3): forward, input and weight gradients, seed=${seed}`, () => {
        const rng = new Rng(seed + m);
        const wShape = [c.cout, c.x[1], 3, c.kh, c.kw];
        const x = randomNormal(rng, numel(c.x));
        const w = randomNormal(rng, numel(wShape));
        const yShape = conv3dOutputShape(c.x, wShape, c.p);
        const dy = randomNormal(rng, numel(yShape));
        expect(relErr(conv3dDepthWinogradRef(x, c.x, w, wShape, c.p, m), conv3dRef(x, c.x, w, wShape, c.p).y)).toBeLessThan(1e-12);
        expect(relErr(conv3dDepthWinogradBackwardInputRef(dy, w, wShape, c.x, c.p, m), conv3dBackwardInputRef(dy, w, wShape, c.x, c.p))).toBeLessThan(1e-12);
        expect(relErr(conv3dDepthWinogradBackwardWeightRef(dy, x, c.x, wShape, c.p, m), conv3dBackwardWeightRef(dy, x, c.x, wShape, c.p))).toBeLessThan(1e-12);
      });
    }
  }
});
