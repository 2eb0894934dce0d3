import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { checkTriple, finiteDiffGrad, gradCheck, maxAbsDiff, numel, randomNormal, relErr } from '../../src/kernels/ref-util.js';

describe('reference helpers', () => {
  it('relErr is ||out - ref|| / ||ref||, absolute for a zero ref, NaN-sensitive', () => {
    expect(relErr([3, 4], [3, 4])).toBe(0);
    expect(relErr([3, 5], [3, 4])).toBeCloseTo(1 / 5, 15);
    expect(relErr([0, 2], [0, 0])).toBe(2);
    expect(relErr([NaN, 0], [1, 0]) < 1).toBe(false);
    expect(() => relErr([1], [1, 2])).toThrow(/different lengths/);
    expect(maxAbsDiff([1, NaN], [1, 2])).toBeNaN();
  });

  it('finite differences of a known function match its derivative and restore x', () => {
    const x = Float64Array.from([0.3, -1.2, 2.5]);
    const f = (v: Float64Array) => Math.sin(v[0]!) * v[1]! + Math.exp(v[2]! / 3);
    const g = finiteDiffGrad(f, x, { h: 1e-5 });
    expect(Array.from(x)).toEqual([0.3, -1.2, 2.5]);
    const want = [Math.cos(0.3) * -1.2, Math.sin(0.3), Math.exp(2.5 / 3) / 3];
    expect(relErr(g, want)).toBeLessThan(1e-9);
  });

  it('gradCheck detects a wrong gradient and samples coordinates with an rng', () => {
    const rng = new Rng(1);
    const x = randomNormal(rng, 500);
    const f = (v: Float64Array) => v.reduce((a, b, i) => a + (i + 1) * b * b, 0);
    const good = x.map((v, i) => 2 * (i + 1) * v);
    const bad = good.slice();
    bad[0] = bad[0]! + 1; // gradCheck always includes the first and last coordinates
    expect(gradCheck(f, x, good, { h: 1e-4, maxCoords: 50, rng }).relErr).toBeLessThan(1e-9);
    expect(gradCheck(f, x, bad, { h: 1e-4, maxCoords: 50, rng }).relErr).toBeGreaterThan(1e-4);
    expect(gradCheck(f, x, good, { maxCoords: 50, rng }).coords).toHaveLength(50);
    expect(() => gradCheck(f, x, good, { maxCoords: 50 })).toThrow(/pass an rng/);
  });

  it('numel and triple validation', () => {
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([])).toBe(1);
    expect(checkTriple(undefined, [1, 1, 1], 1, 'stride')).toEqual([1, 1, 1]);
    expect(() => checkTriple([1, 1.5, 1], [1, 1, 1], 1, 'stride')).toThrow(/stride must be three integers >= 1/);
  });
});
