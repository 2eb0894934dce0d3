import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type DepthAggKind, SIGNED_SQRT_EPS } from '../../src/kernels/depth-agg.js';
import {
  attentionPoolDepthRef,
  bilinearEncodeRef,
  bilinearPoolDepthBackwardRef,
  bilinearPoolDepthRef,
  depthAggBackwardRef,
  depthAggOutputShape,
  depthAggRef,
  maxPoolDepthBackwardRef,
  maxPoolDepthRef,
  signedSqrtBackwardRef,
  signedSqrtRef,
} from '../../src/kernels/depth-agg.ref.js';
import { dot, gradCheck, numel, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface AggCase {
  name: string;
  kind: DepthAggKind;
  shape: number[];
  x: number[];
  upstream: number[];
  y: number[];
  gradX: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/depth-agg/depth-agg.json', import.meta.url), 'utf8')) as {
  torch: string;
  sqrtEps: number;
  cases: AggCase[];
};

const KINDS: DepthAggKind[] = ['avg', 'max', 'attention', 'bilinear'];
const FD_TOL = 1e-6;

/** Scalar Σ y·up of an aggregation, for finite differences. */
function probe(kind: DepthAggKind, shape: number[], up: Float64Array, opts = {}) {
  return (x: Float64Array) => dot(depthAggRef(kind, x, shape, opts), up);
}

describe('depth aggregation: gradients by finite differences', () => {
  for (const kind of KINDS) {
    for (const shape of [
      [2, 3, 5],
      [2, 4, 1],
      [1, 2, 24],
    ]) {
      it(`${kind} [${shape.join(', ')}]`, () => {
        const rng = new Rng(100 + shape[2]!);
        const x = randomNormal(rng, numel(shape));
        const out = depthAggOutputShape(kind, shape);
        const up = randomNormal(rng, numel(out));
        const g = depthAggBackwardRef(kind, x, up, shape);
        const r = gradCheck(probe(kind, shape, up), x, g);
        expect(r.relErr).toBeLessThan(FD_TOL);
      });
    }
  }

  it('bilinear through exact zeros of B (ReLU features with a dead channel), with a larger eps', () => {
    // B[i, ·] = 0 exactly for the dead channel, so the signed sqrt is probed at 0, where it is C¹ but
    // not C²: central differences err by ≈ h/(4ε) there. Hence ε = 1e−2 and h = 1e−8; the code path is
    // the same for any ε, and the default ε is checked against PyTorch's autograd by the golden test.
    const rng = new Rng(7);
    const shape = [2, 4, 3];
    const x = randomNormal(rng, 24).map((v) => Math.max(v, 0));
    for (let d = 0; d < 3; d++) x[1 * 3 + d] = 0;
    const up = randomNormal(rng, 2 * 16);
    const opts = { sqrtEps: 1e-2 };
    const g = depthAggBackwardRef('bilinear', x, up, shape, opts);
    expect(g.some((v, i) => i >= 3 && i < 6 && v !== 0)).toBe(true);
    const r = gradCheck(probe('bilinear', shape, up, opts), x, g, { h: 1e-8 });
    expect(r.relErr).toBeLessThan(FD_TOL);
  });
});

describe('depth aggregation: values and edge cases', () => {
  it('D = 1 is the identity for avg, max and attention, and f fᵀ for bilinear', () => {
    const rng = new Rng(3);
    const shape = [2, 3, 1];
    const x = randomNormal(rng, 6);
    for (const kind of ['avg', 'max', 'attention'] as const) {
      expect(relErr(depthAggRef(kind, x, shape), x)).toBeLessThan(1e-15);
      expect(relErr(depthAggBackwardRef(kind, x, x, shape), x)).toBeLessThan(1e-15);
    }
    const b = bilinearEncodeRef(x, shape);
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(b[n * 9 + i * 3 + j]).toBe(x[n * 3 + i]! * x[n * 3 + j]!);
    }
  });

  it('all-equal features: every pooling returns the value; max routes to the first slice; attention is uniform', () => {
    const shape = [1, 2, 4];
    const x = new Float64Array(8).fill(0.75);
    for (const kind of ['avg', 'max', 'attention'] as const) {
      const y = depthAggRef(kind, x, shape);
      expect(y[0]).toBeCloseTo(0.75, 15);
      expect(y[1]).toBeCloseTo(0.75, 15);
    }
    const { argmax } = maxPoolDepthRef(x, shape);
    expect(Array.from(argmax)).toEqual([0, 0]);
    expect(Array.from(maxPoolDepthBackwardRef([2, 3], argmax, shape))).toEqual([2, 0, 0, 0, 3, 0, 0, 0]);
    expect(Array.from(attentionPoolDepthRef(x, shape).attn)).toEqual(new Array(8).fill(0.25));
    // attention gradient with equal features: A_d (1 + f_d − g) = 1/D
    const ga = depthAggBackwardRef('attention', x, [1, 1], shape);
    for (const v of ga) expect(v).toBeCloseTo(0.25, 15);
  });

  it('attention matches a naive softmax on moderate features and stays finite at ±300', () => {
    const x = [0.3, -1.2, 2.0, 0.5];
    const e = x.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const want = x.reduce((s, v, i) => s + (e[i]! / z) * v, 0);
    expect(attentionPoolDepthRef(x, [1, 1, 4]).y[0]).toBeCloseTo(want, 14);
    const big = [300, -300, 299, 0];
    const y = attentionPoolDepthRef(big, [1, 1, 4]).y[0]!;
    const w = 1 / (1 + Math.exp(-1)); // weight of 300 against 299; the others underflow
    expect(y).toBeCloseTo(300 * w + 299 * (1 - w), 10);
    for (const v of depthAggBackwardRef('attention', big, [1], [1, 1, 4])) expect(Number.isFinite(v)).toBe(true);
  });

  it('max propagates NaN', () => {
    expect(maxPoolDepthRef([1, NaN, 3], [1, 1, 3]).y[0]).toBeNaN();
  });

  it('signed sqrt is continuous and odd, ≈ sign(b)·sqrt|b|, with slope 1/(2√ε) at 0', () => {
    const b = [0, 1e-300, -1e-300, 4, -9, 1e-4];
    const s = signedSqrtRef(b);
    expect(s[0]).toBe(0);
    expect(Math.abs(s[1]!)).toBeLessThan(1e-290);
    expect(s[2]).toBe(-s[1]!);
    expect(s[3]).toBeCloseTo(2, 4);
    expect(s[4]).toBeCloseTo(-3, 4);
    for (let i = 3; i < 6; i++) expect(Math.abs(s[i]! - Math.sign(b[i]!) * Math.sqrt(Math.abs(b[i]!)))).toBeLessThanOrEqual(Math.sqrt(SIGNED_SQRT_EPS));
    const g = signedSqrtBackwardRef(b, new Array(6).fill(1));
    expect(g[0]).toBeCloseTo(0.5 / Math.sqrt(SIGNED_SQRT_EPS), 6);
    expect(g[3]).toBeCloseTo(0.25, 6);
    const r = gradCheck((v) => dot(signedSqrtRef(v), [1, 1, 1]), Float64Array.from([0.3, -2, 5e-3]), signedSqrtBackwardRef([0.3, -2, 5e-3], [1, 1, 1]));
    expect(r.relErr).toBeLessThan(1e-7);
  });

  it('bilinear output rows have unit norm, B is symmetric, and all-zero features give 0 with a zero gradient', () => {
    const rng = new Rng(5);
    const shape = [2, 5, 6];
    const x = randomNormal(rng, 60);
    const { y, b } = bilinearPoolDepthRef(x, shape);
    for (let n = 0; n < 2; n++) {
      let s = 0;
      for (let k = 0; k < 25; k++) s += y[n * 25 + k]! ** 2;
      expect(s).toBeCloseTo(1, 12);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(b[n * 25 + i * 5 + j]).toBe(b[n * 25 + j * 5 + i]);
    }
    const zero = new Float64Array(60);
    const saved = bilinearPoolDepthRef(zero, shape);
    expect(saved.y.every((v) => v === 0)).toBe(true);
    const g = bilinearPoolDepthBackwardRef(zero, saved, randomNormal(rng, 50), shape);
    expect(g.every((v) => v === 0)).toBe(true);
  });

  it('output shapes and bad input', () => {
    expect(depthAggOutputShape('bilinear', [4, 256, 24])).toEqual([4, 65536]);
    expect(depthAggOutputShape('attention', [4, 256, 24])).toEqual([4, 256]);
    expect(() => depthAggRef('avg', [1, 2, 3], [1, 2, 2])).toThrow(/needs 4/);
    expect(() => depthAggRef('avg', [1, 2], [2])).toThrow(/rank 1/);
    expect(() => maxPoolDepthBackwardRef([1], [5], [1, 1, 3])).toThrow(/not a depth index/);
    expect(() => signedSqrtRef([1], 0)).toThrow(/eps/);
  });
});

describe('depth aggregation: PyTorch goldens', () => {
  it('fixture uses our signed-sqrt eps', () => {
    expect(golden.sqrtEps).toBe(SIGNED_SQRT_EPS);
  });
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch})`, () => {
      const y = depthAggRef(c.kind, c.x, c.shape);
      expect(relErr(y, c.y)).toBeLessThan(1e-9);
      const g = depthAggBackwardRef(c.kind, c.x, c.upstream, c.shape);
      expect(relErr(g, c.gradX)).toBeLessThan(1e-9);
    });
  }
});
