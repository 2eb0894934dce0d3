import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { focalLossRef, type FocalLossOptions } from '../../src/kernels/focal.ref.js';
import { gradCheck, randomNormal, randomUniform, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface FocalCase {
  name: string;
  gamma: number;
  alpha: number;
  reduction: 'mean' | 'sum';
  weights: number[] | null;
  logits: number[];
  targets: number[];
  loss: number;
  perSample: number[];
  grad: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/focal/focal.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: FocalCase[];
};

/** The textbook formula with p = 1/(1 + e^−z), fine for moderate logits; independent of the reference. */
function naiveFocal(z: number, t: number, gamma: number, alpha: number): number {
  const p = 1 / (1 + Math.exp(-z));
  const ce = -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
  const pt = p * t + (1 - p) * (1 - t);
  const at = alpha >= 0 ? alpha * t + (1 - alpha) * (1 - t) : 1;
  return at * (1 - pt) ** gamma * ce;
}

function hardTargets(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
}

describe('focal loss: gradients by finite differences', () => {
  const rng = new Rng(21);
  const n = 12;
  const z = randomNormal(rng, n, 0, 3);
  const t = hardTargets(rng, n);
  const w = randomUniform(rng, n, 0, 2);
  const cases: [string, FocalLossOptions, Float64Array][] = [
    ['γ = 2, α unset, mean', {}, t],
    ['γ = 2, α = 0.25, mean', { alpha: 0.25 }, t],
    ['γ = 0 (BCE)', { gamma: 0 }, t],
    ['γ = 0.5, α = 0.75, sum', { gamma: 0.5, alpha: 0.75, reduction: 'sum' }, t],
    ['weighted mean', { alpha: 0.25, weights: w }, t],
    ['weighted sum', { weights: w, reduction: 'sum' }, t],
    ['soft targets', { gamma: 2, alpha: 0.25 }, randomUniform(rng, n, 0, 1)],
  ];
  for (const [name, opts, tg] of cases) {
    it(name, () => {
      const r = focalLossRef(z, tg, opts);
      const c = gradCheck((v) => focalLossRef(v, tg, opts).loss, z, r.grad);
      expect(c.relErr).toBeLessThan(1e-7);
    });
  }

  it('large logits (±20, ±35) still differentiate correctly', () => {
    const zl = Float64Array.from([20, -20, 35, -35, 20, -20]);
    const tl = [1, 1, 1, 1, 0, 0];
    const r = focalLossRef(zl, tl, { alpha: 0.25 });
    const c = gradCheck((v) => focalLossRef(v, tl, { alpha: 0.25 }).loss, zl, r.grad, { h: 1e-5 });
    expect(c.relErr).toBeLessThan(1e-7);
  });
});

describe('focal loss: values', () => {
  it('matches the textbook formula on moderate logits, with and without α', () => {
    const rng = new Rng(22);
    const z = randomNormal(rng, 10, 0, 2);
    const t = hardTargets(rng, 10);
    for (const [gamma, alpha] of [
      [2, -1],
      [2, 0.25],
      [0, -1],
      [1.5, 0.6],
    ] as const) {
      const r = focalLossRef(z, t, { gamma, alpha });
      const want = Array.from(z, (v, i) => naiveFocal(v, t[i]!, gamma, alpha));
      expect(relErr(r.perSample, want)).toBeLessThan(1e-13);
      expect(r.loss).toBeCloseTo(want.reduce((a, b) => a + b, 0) / 10, 14);
    }
  });

  it('logits of ±50: exact tiny losses on the confident side, ≈ 50 on the wrong side, no NaN', () => {
    const r = focalLossRef([50, -50, -50, 50], [1, 1, 0, 0], { reduction: 'sum' });
    // z = 50, t = 1: ce = log1p(e^−50) and 1 − p_t = σ(−50), both ≈ e^−50, so l ≈ e^−150
    expect(r.perSample[0]! / Math.exp(-150)).toBeCloseTo(1, 12);
    expect(r.perSample[2]! / Math.exp(-150)).toBeCloseTo(1, 12);
    expect(r.perSample[1]).toBeCloseTo(50, 12);
    expect(r.perSample[3]).toBeCloseTo(50, 12);
    // wrong side: dl/dz = (σ(z) − t)·(1 − p_t)² + ce·2(1 − p_t)·∂(1 − p_t)/∂z ≈ ∓1 − 100·e^−50
    expect(r.grad[1]).toBeCloseTo(-1, 12);
    expect(r.grad[3]).toBeCloseTo(1, 12);
    expect(Math.abs(r.grad[0]!)).toBeLessThan(1e-60);
    expect(r.grad[0]).toBeLessThan(0);
    const huge = focalLossRef([500, -500, 1000, -1000], [1, 1, 0, 0], { alpha: 0.25 });
    for (const v of [huge.loss, ...huge.perSample, ...huge.grad]) expect(Number.isFinite(v)).toBe(true);
    expect(huge.perSample[1]).toBeCloseTo(0.25 * 500, 9);
  });

  it('weights: weighted mean is Σ w·l / Σ w; zero weights drop samples', () => {
    const z = [0.3, -1.1, 2.2, 0.7];
    const t = [1, 0, 0, 1];
    const plain = focalLossRef(z, t, { alpha: 0.25 });
    const w = [2, 0, 0.5, 1];
    const r = focalLossRef(z, t, { alpha: 0.25, weights: w });
    const want = (2 * plain.perSample[0]! + 0.5 * plain.perSample[2]! + plain.perSample[3]!) / 3.5;
    expect(r.loss).toBeCloseTo(want, 15);
    expect(r.grad[1]).toBe(0);
    const sub = focalLossRef([0.3, 2.2, 0.7], [1, 0, 1], { alpha: 0.25, weights: [2, 0.5, 1] });
    expect(sub.loss).toBeCloseTo(r.loss, 15);
    expect(relErr([r.grad[0]!, r.grad[2]!, r.grad[3]!], sub.grad)).toBeLessThan(1e-15);
    expect(focalLossRef(z, t, { weights: [1, 1, 1, 1] }).loss).toBeCloseTo(focalLossRef(z, t).loss, 15);
  });

  it('rejects bad input with a clear message', () => {
    expect(() => focalLossRef([], [])).toThrow(/empty/);
    expect(() => focalLossRef([1, 2], [1])).toThrow(/targets/);
    expect(() => focalLossRef([1], [2])).toThrow(/\[0, 1\]/);
    expect(() => focalLossRef([1], [1], { gamma: -1 })).toThrow(/gamma/);
    expect(() => focalLossRef([1], [1], { alpha: 1.5 })).toThrow(/alpha/);
    expect(() => focalLossRef([1, 2], [1, 0], { weights: [0, 0] })).toThrow(/sum to 0/);
    expect(() => focalLossRef([1, 2], [1, 0], { weights: [1, -1] })).toThrow(/weights\[1\]/);
  });
});

describe('focal loss: PyTorch goldens (torchvision sigmoid_focal_loss semantics)', () => {
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch})`, () => {
      const opts: FocalLossOptions = { gamma: c.gamma, alpha: c.alpha, reduction: c.reduction };
      if (c.weights) opts.weights = c.weights;
      const r = focalLossRef(c.logits, c.targets, opts);
      expect(relErr([r.loss], [c.loss])).toBeLessThan(1e-9);
      expect(relErr(r.perSample, c.perSample)).toBeLessThan(1e-9);
      expect(relErr(r.grad, c.grad)).toBeLessThan(1e-9);
    });
  }
});
