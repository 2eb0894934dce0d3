import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { L2_NORM_EPS } from '../../src/kernels/activations.js';
import {
  l2NormalizeRowsBackwardRef,
  l2NormalizeRowsRef,
  logSigmoidBackwardRef,
  logSigmoidRef,
  sigmoidBackwardRef,
  sigmoidRef,
  softmaxBackwardRef,
  softmaxRef,
  softplusBackwardRef,
  softplusRef,
} from '../../src/kernels/activations.ref.js';
import { dot, gradCheck, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface ElementwiseGolden {
  x: number[];
  upstream: number[];
  sigmoid: { y: number[]; gradX: number[] };
  logSigmoid: { y: number[]; gradX: number[] };
  softplus: { y: number[]; gradX: number[] };
}
interface ActivationsGolden {
  torch: string;
  elementwise: ElementwiseGolden;
  softmax: { shape: number[]; x: number[]; upstream: number[]; y: number[]; gradX: number[] };
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/activations/activations.json', import.meta.url), 'utf8')) as ActivationsGolden;

const GOLDEN_TOL = 1e-9;
const FD_TOL = 1e-7;

describe('elementwise activations', () => {
  const rng = new Rng(11);
  const x = randomNormal(rng, 40, 0, 4);
  const up = randomNormal(rng, 40);

  it('sigmoid backward matches finite differences', () => {
    const y = sigmoidRef(x);
    const r = gradCheck((v) => dot(sigmoidRef(v), up), x, sigmoidBackwardRef(y, up));
    expect(r.relErr).toBeLessThan(FD_TOL);
  });

  it('log-sigmoid backward matches finite differences', () => {
    const r = gradCheck((v) => dot(logSigmoidRef(v), up), x, logSigmoidBackwardRef(x, up));
    expect(r.relErr).toBeLessThan(FD_TOL);
  });

  it('softplus backward matches finite differences', () => {
    const r = gradCheck((v) => dot(softplusRef(v), up), x, softplusBackwardRef(x, up));
    expect(r.relErr).toBeLessThan(FD_TOL);
  });

  it('is exact at ±50 and finite at ±800', () => {
    const e50 = Math.exp(-50);
    const v = [50, -50, 800, -800];
    const s = sigmoidRef(v);
    expect(s[0]).toBe(1);
    expect(s[1]! / (e50 / (1 + e50))).toBeCloseTo(1, 14);
    expect(s[2]).toBe(1);
    expect(s[3]).toBe(0);
    const ls = logSigmoidRef(v);
    // log σ(50) = −log1p(e^−50) ≈ −e^−50, which a naive log(σ) would round to 0
    expect(ls[0]! / -e50).toBeCloseTo(1, 14);
    expect(ls[1]).toBeCloseTo(-50, 12);
    expect(ls[2]).toBe(0);
    expect(ls[3]).toBe(-800);
    const sp = softplusRef(v);
    expect(sp[1]! / e50).toBeCloseTo(1, 14);
    expect(sp[2]).toBe(800);
    for (const a of [s, ls, sp, logSigmoidBackwardRef(v, [1, 1, 1, 1]), softplusBackwardRef(v, [1, 1, 1, 1])]) {
      for (const t of a) expect(Number.isFinite(t)).toBe(true);
    }
  });

  it('matches the PyTorch golden', () => {
    const g = golden.elementwise;
    expect(relErr(sigmoidRef(g.x), g.sigmoid.y)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(sigmoidBackwardRef(sigmoidRef(g.x), g.upstream), g.sigmoid.gradX)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(logSigmoidRef(g.x), g.logSigmoid.y)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(logSigmoidBackwardRef(g.x, g.upstream), g.logSigmoid.gradX)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(softplusRef(g.x), g.softplus.y)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(softplusBackwardRef(g.x, g.upstream), g.softplus.gradX)).toBeLessThan(GOLDEN_TOL);
  });
});

describe('softmax over the last axis', () => {
  it('backward matches finite differences', () => {
    const rng = new Rng(12);
    const shape = [3, 7];
    const x = randomNormal(rng, 21, 0, 2);
    const up = randomNormal(rng, 21);
    const y = softmaxRef(x, shape);
    const r = gradCheck((v) => dot(softmaxRef(v, shape), up), x, softmaxBackwardRef(y, up, shape));
    expect(r.relErr).toBeLessThan(FD_TOL);
  });

  it('rows sum to 1, are shift invariant and survive logits of 1000', () => {
    const x = [1000, 999, -1000, 0, 2, 3];
    const y = softmaxRef(x, [2, 3]);
    expect(y[0]! + y[1]! + y[2]!).toBeCloseTo(1, 15);
    expect(y[0]! / y[1]!).toBeCloseTo(Math.E, 12);
    expect(y[2]).toBe(0);
    const shifted = softmaxRef(
      [0, 2, 3].map((v) => v + 700),
      [1, 3],
    );
    const naive = [Math.exp(0), Math.exp(2), Math.exp(3)];
    const z = naive[0]! + naive[1]! + naive[2]!;
    expect(
      relErr(
        shifted,
        naive.map((v) => v / z),
      ),
    ).toBeLessThan(1e-15);
    expect(
      relErr(
        y.subarray(3),
        naive.map((v) => v / z),
      ),
    ).toBeLessThan(1e-15);
  });

  it('matches the PyTorch golden', () => {
    const g = golden.softmax;
    const y = softmaxRef(g.x, g.shape);
    expect(relErr(y, g.y)).toBeLessThan(GOLDEN_TOL);
    expect(relErr(softmaxBackwardRef(y, g.upstream, g.shape), g.gradX)).toBeLessThan(GOLDEN_TOL);
  });

  it('rejects a wrong shape', () => {
    expect(() => softmaxRef([1, 2, 3], [2, 2])).toThrow(/needs 4/);
  });
});

describe('row L2 normalisation', () => {
  it('backward matches finite differences', () => {
    const rng = new Rng(13);
    const shape = [4, 5];
    const x = randomNormal(rng, 20);
    const up = randomNormal(rng, 20);
    const { y, norm } = l2NormalizeRowsRef(x, shape);
    const r = gradCheck((v) => dot(l2NormalizeRowsRef(v, shape).y, up), x, l2NormalizeRowsBackwardRef(y, norm, up, shape));
    expect(r.relErr).toBeLessThan(FD_TOL);
  });

  it('gives unit rows, and a zero row stays zero with a finite gradient', () => {
    const x = [3, 4, 0, 0];
    const { y, norm } = l2NormalizeRowsRef(x, [2, 2]);
    expect(y[0]).toBeCloseTo(0.6, 12);
    expect(y[1]).toBeCloseTo(0.8, 12);
    expect(y[2]).toBe(0);
    const g = l2NormalizeRowsBackwardRef(y, norm, [1, 1, 1, 1], [2, 2]);
    expect(g[2]).toBeCloseTo(1 / Math.sqrt(L2_NORM_EPS), 6);
    for (const v of g) expect(Number.isFinite(v)).toBe(true);
  });
});
