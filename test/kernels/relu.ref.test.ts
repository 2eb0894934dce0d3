import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { addBackwardRef, addRef, reluBackwardRef, reluRef } from '../../src/kernels/relu.ref.js';
import { dot, gradCheck, randomNormal } from '../../src/kernels/ref-util.js';

describe('relu and residual add references', () => {
  const rng = new Rng(21);
  const x = randomNormal(rng, 97);
  const r = randomNormal(rng, 97);

  it('relu forward clamps negatives, keeps NaN; backward is 0 at and below 0', () => {
    expect(Array.from(reluRef([-2, -0, 0, 1.5, NaN]))).toEqual([0, 0, 0, 1.5, NaN]);
    expect(Array.from(reluBackwardRef([1, 1, 1], [-1, 0, 2]))).toEqual([0, 0, 1]);
  });

  it('relu backward matches finite differences', () => {
    const dx = reluBackwardRef(r, x);
    expect(gradCheck((xx) => dot(reluRef(xx), r), x, dx, { h: 1e-7 }).relErr).toBeLessThan(1e-8);
  });

  it('add forward and backward (identity) match finite differences in both operands', () => {
    const b = randomNormal(rng, 97);
    const y = addRef(x, b);
    for (let i = 0; i < y.length; i++) expect(y[i]).toBe(x[i]! + b[i]!);
    const { da, db } = addBackwardRef(r);
    expect(gradCheck((xx) => dot(addRef(xx, b), r), x, da, { h: 1e-4 }).relErr).toBeLessThan(1e-9);
    expect(gradCheck((bb) => dot(addRef(x, bb), r), b, db, { h: 1e-4 }).relErr).toBeLessThan(1e-9);
    da[0] = 123; // copies: mutating one gradient leaves the other and dy alone
    expect(db[0]).toBe(r[0]);
  });

  it('rejects operands of different sizes', () => {
    expect(() => addRef([1, 2], [1])).toThrow(/same shape/);
    expect(() => reluBackwardRef([1, 2], [1])).toThrow(/same shape/);
  });
});
