import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pairwiseSqDistRef, tripletLossBatchHardRef, type TripletLossOptions } from '../../src/kernels/triplet.ref.js';
import { gradCheck, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface TripletCase {
  name: string;
  shape: number[];
  margin: number;
  normalize: boolean;
  x: number[];
  labels: number[];
  loss: number;
  grad: number[];
  hardPositive: number[];
  hardNegative: number[];
  validAnchors: number;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/triplet/triplet.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: TripletCase[];
};

/**
 * Independent loss: for each anchor, max over all (positive, negative) pairs of D_ap − D_an + m
 * (equal to the hardest-positive minus hardest-negative form), with D from the Gram matrix.
 */
function bruteForceLoss(x: ArrayLike<number>, n: number, e: number, labels: number[], margin: number): number {
  const dist = (i: number, j: number) => {
    let a = 0;
    let b = 0;
    let ab = 0;
    for (let k = 0; k < e; k++) {
      a += x[i * e + k]! ** 2;
      b += x[j * e + k]! ** 2;
      ab += x[i * e + k]! * x[j * e + k]!;
    }
    return Math.max(0, a + b - 2 * ab);
  };
  let sum = 0;
  let valid = 0;
  for (let a = 0; a < n; a++) {
    let best = -Infinity;
    for (let p = 0; p < n; p++) {
      if (p === a || labels[p] !== labels[a]) continue;
      for (let q = 0; q < n; q++) if (labels[q] !== labels[a]) best = Math.max(best, dist(a, p) - dist(a, q) + margin);
    }
    if (best === -Infinity) continue;
    valid++;
    sum += Math.max(0, best);
  }
  return valid === 0 ? 0 : sum / valid;
}

describe('batch-hard triplet loss', () => {
  const rng = new Rng(41);
  const [n, e] = [9, 5];
  const x = randomNormal(rng, n * e);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 1];

  const variants: TripletLossOptions[] = [{ margin: 1 }, { margin: 4 }, { margin: 0.5, normalize: true }];
  for (const opts of variants) {
    it(`gradient by finite differences ${JSON.stringify(opts)}`, () => {
      const r = tripletLossBatchHardRef(x, [n, e], labels, opts);
      expect(r.perAnchor.some((v) => v > 0)).toBe(true);
      const c = gradCheck((v) => tripletLossBatchHardRef(v, [n, e], labels, opts).loss, x, r.grad);
      expect(c.relErr).toBeLessThan(1e-7);
    });
  }

  it('loss equals the brute force over all triplets', () => {
    for (const m of [0, 0.2, 1, 5]) {
      const r = tripletLossBatchHardRef(x, [n, e], labels, { margin: m });
      expect(r.loss).toBeCloseTo(bruteForceLoss(x, n, e, labels, m), 12);
      expect(r.validAnchors).toBe(n);
    }
  });

  it('distances are exact zeros on the diagonal and symmetric', () => {
    const d = pairwiseSqDistRef(x, [n, e]);
    for (let i = 0; i < n; i++) {
      expect(d[i * n + i]).toBe(0);
      for (let j = 0; j < n; j++) expect(d[i * n + j]).toBe(d[j * n + i]);
    }
  });

  it('one class only, or all singletons: loss 0, gradient 0, no NaN', () => {
    for (const lab of [new Array(n).fill(3), Array.from({ length: n }, (_, i) => i)]) {
      const r = tripletLossBatchHardRef(x, [n, e], lab, { margin: 0.5, normalize: true });
      expect(r.loss).toBe(0);
      expect(r.validAnchors).toBe(0);
      expect(r.grad.every((v) => v === 0)).toBe(true);
      expect(Array.from(r.hardPositive)).toEqual(new Array(n).fill(-1));
    }
    const single = tripletLossBatchHardRef([1, 2], [1, 2], [0]);
    expect(single.loss).toBe(0);
  });

  it('anchors without a positive are left out of the mean', () => {
    const lab = [0, 0, 1, 1, 2, 0, 1, 3, 1];
    const r = tripletLossBatchHardRef(x, [n, e], lab, { margin: 2 });
    expect(r.validAnchors).toBe(7);
    expect(r.hardPositive[4]).toBe(-1);
    expect(r.hardNegative[7]).toBe(-1);
    expect(r.loss).toBeCloseTo(bruteForceLoss(x, n, e, lab, 2), 12);
    const c = gradCheck((v) => tripletLossBatchHardRef(v, [n, e], lab, { margin: 2 }).loss, x, r.grad);
    expect(c.relErr).toBeLessThan(1e-7);
  });

  it('duplicate embeddings: ties go to the first index, gradients are finite', () => {
    const d = Float64Array.from(x);
    const copy = (to: number, from: number) => d.set(d.subarray(from * e, from * e + e), to * e);
    copy(3, 0); // same class as 0: a positive at distance 0
    copy(4, 0); // class 1: a negative at distance 0 from anchor 0
    copy(7, 0); // class 1 again: ties with 4
    for (const normalize of [false, true]) {
      const r = tripletLossBatchHardRef(d, [n, e], labels, { margin: 0.3, normalize });
      expect(r.hardNegative[0]).toBe(4);
      expect(r.hardNegative[3]).toBe(4);
      // every anchor's negative is the first index among the nearest negatives (0 and 3 always tie)
      for (let a = 0; a < n; a++) {
        const negs = labels.flatMap((l, j) => (l !== labels[a] ? [j] : []));
        const dmin = Math.min(...negs.map((q) => r.dist[a * n + q]!));
        expect(r.hardNegative[a]).toBe(negs.find((j) => r.dist[a * n + j] === dmin));
      }
      expect(r.grad.every(Number.isFinite)).toBe(true);
      expect(r.loss).toBeCloseTo(bruteForceLoss(normalize ? l2rows(d, n, e) : d, n, e, labels, 0.3), 12);
    }
  });

  it('rejects bad input', () => {
    expect(() => tripletLossBatchHardRef(x, [n, e], labels.slice(1))).toThrow(/labels/);
    expect(() => tripletLossBatchHardRef(x, [n, e], labels, { margin: -1 })).toThrow(/margin/);
    expect(() => tripletLossBatchHardRef(x, [n, e + 1], labels)).toThrow(/needs/);
  });
});

function l2rows(x: Float64Array, n: number, e: number): Float64Array {
  const y = new Float64Array(n * e);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < e; k++) s += x[i * e + k]! ** 2;
    for (let k = 0; k < e; k++) y[i * e + k] = x[i * e + k]! / Math.sqrt(s);
  }
  return y;
}

describe('batch-hard triplet loss: PyTorch goldens', () => {
  for (const g of golden.cases) {
    it(`${g.name} (torch ${golden.torch})`, () => {
      const r = tripletLossBatchHardRef(g.x, g.shape, g.labels, { margin: g.margin, normalize: g.normalize });
      expect(Array.from(r.hardPositive)).toEqual(g.hardPositive);
      expect(Array.from(r.hardNegative)).toEqual(g.hardNegative);
      expect(r.validAnchors).toBe(g.validAnchors);
      expect(relErr([r.loss], [g.loss])).toBeLessThan(1e-9);
      expect(relErr(r.grad, g.grad)).toBeLessThan(1e-9);
    });
  }
});
