import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import {
  batchNormBackwardRef,
  batchNormEvalRef,
  batchNormReluBackwardRef,
  batchNormReluEvalRef,
  batchNormReluTrainRef,
  batchNormTrainRef,
  batchStatsRef,
} from '../../src/kernels/batchnorm.ref.js';
import { dot, gradCheck, numel, randomNormal, randomUniform, relErr } from '../../src/kernels/ref-util.js';
import { listGoldens, loadGolden } from '../golden.js';

const SHAPES: { name: string; shape: number[] }[] = [
  { name: '3D maps N=2', shape: [2, 3, 3, 4, 5] },
  { name: '3D maps N=1', shape: [1, 2, 3, 3, 5] },
  { name: '2D maps N=3', shape: [3, 2, 5, 3] },
  { name: 'features [N, C]', shape: [5, 3] },
];

/** Per-channel sums written independently of the reference (strided channel walk). */
function channelValues(x: ArrayLike<number>, shape: number[], ch: number): number[] {
  const c = shape[1]!;
  const plane = numel(shape.slice(2));
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) if (Math.floor(i / plane) % c === ch) out.push(x[i]!);
  return out;
}

describe('batch norm reference', () => {
  for (const { name, shape } of SHAPES) {
    describe(name, () => {
      const c = shape[1]!;
      const rng = new Rng(numel(shape) + 11);
      const x = randomNormal(rng, numel(shape), 0.7, 1.5);
      const gamma = randomNormal(rng, c, 1, 0.3);
      const beta = randomNormal(rng, c, 0, 0.3);
      const rm = randomNormal(rng, c);
      const rv = randomUniform(rng, c, 0.5, 1.5);
      const r = randomNormal(rng, x.length);

      it('training forward: normalized per channel, running stats updated with unbiased variance', () => {
        const [rm0, rv0, x0] = [rm.slice(), rv.slice(), x.slice()];
        const out = batchNormTrainRef(x, shape, gamma, beta, rm, rv);
        expect([rm, rv, x]).toEqual([rm0, rv0, x0]); // inputs are not mutated
        for (let ch = 0; ch < c; ch++) {
          const v = channelValues(x, shape, ch);
          const m = v.reduce((a, b) => a + b, 0) / v.length;
          const ss = v.reduce((a, b) => a + (b - m) ** 2, 0);
          expect(out.mean[ch]).toBeCloseTo(m, 13);
          expect(out.variance[ch]).toBeCloseTo(ss / v.length, 13);
          expect(out.runningMean[ch]).toBeCloseTo(0.9 * rm[ch]! + 0.1 * m, 13);
          expect(out.runningVar[ch]).toBeCloseTo(0.9 * rv[ch]! + 0.1 * (ss / (v.length - 1)), 13);
          // (y - beta)/gamma has zero mean and variance var/(var+eps) in each channel.
          const z = channelValues(out.y, shape, ch).map((yv) => (yv - beta[ch]!) / gamma[ch]!);
          const zm = z.reduce((a, b) => a + b, 0) / z.length;
          const zv = z.reduce((a, b) => a + (b - zm) ** 2, 0) / z.length;
          expect(Math.abs(zm)).toBeLessThan(1e-12);
          expect(zv).toBeCloseTo(ss / v.length / (ss / v.length + 1e-5), 12);
        }
      });

      it('training backward (dx, dgamma, dbeta) matches finite differences', () => {
        const fwd = batchNormTrainRef(x, shape, gamma, beta, rm, rv);
        const g = batchNormBackwardRef(r, x, shape, gamma, fwd.mean, fwd.invStd);
        const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => dot(batchNormTrainRef(xx, shape, gg, bb, rm, rv).y, r);
        const opts = { h: 1e-5, maxCoords: 80, rng };
        expect(gradCheck((xx) => loss(xx, gamma, beta), x, g.dx, opts).relErr).toBeLessThan(1e-7);
        expect(gradCheck((gg) => loss(x, gg, beta), gamma, g.dgamma, opts).relErr).toBeLessThan(1e-7);
        expect(gradCheck((bb) => loss(x, gamma, bb), beta, g.dbeta, opts).relErr).toBeLessThan(1e-7);
      });

      it('fused BN+ReLU: forward is relu(bn(x)); backward matches finite differences', () => {
        const bn = batchNormTrainRef(x, shape, gamma, beta, rm, rv);
        const fused = batchNormReluTrainRef(x, shape, gamma, beta, rm, rv);
        expect(fused.y).toEqual(bn.y.map((v) => Math.max(v, 0)));
        expect(fused.runningVar).toEqual(bn.runningVar);
        const g = batchNormReluBackwardRef(r, x, shape, gamma, beta, fused.mean, fused.invStd);
        const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => dot(batchNormReluTrainRef(xx, shape, gg, bb, rm, rv).y, r);
        const opts = { h: 1e-6, maxCoords: 80, rng };
        expect(gradCheck((xx) => loss(xx, gamma, beta), x, g.dx, opts).relErr).toBeLessThan(1e-6);
        expect(gradCheck((gg) => loss(x, gg, beta), gamma, g.dgamma, opts).relErr).toBeLessThan(1e-6);
        expect(gradCheck((bb) => loss(x, gamma, bb), beta, g.dbeta, opts).relErr).toBeLessThan(1e-6);
      });

      it('eval forward uses running statistics (and the fused variant clamps at 0)', () => {
        const y = batchNormEvalRef(x, shape, gamma, beta, rm, rv);
        const yr = batchNormReluEvalRef(x, shape, gamma, beta, rm, rv);
        const plane = numel(shape.slice(2));
        for (let i = 0; i < x.length; i++) {
          const ch = Math.floor(i / plane) % c;
          const want = (gamma[ch]! * (x[i]! - rm[ch]!)) / Math.sqrt(rv[ch]! + 1e-5) + beta[ch]!;
          expect(y[i]).toBeCloseTo(want, 13);
          expect(yr[i]).toBe(Math.max(y[i]!, 0));
        }
      });
    });
  }

  it('batch statistics stay accurate when |mean| >> std (two-pass, no E[x²]−E[x]² cancellation)', () => {
    const rng = new Rng(5);
    const shape = [2, 2, 3, 4, 4];
    const noise = randomNormal(rng, numel(shape));
    const x = noise.map((v) => 1e8 + v);
    // x − 1e8 is exact in float64 here (Sterbenz), so these are the true statistics of the stored x.
    const shifted = batchStatsRef(
      x.map((v) => v - 1e8),
      shape,
    );
    const s = batchStatsRef(x, shape);
    expect(relErr(s.variance, shifted.variance)).toBeLessThan(1e-7);
    const naive = Array.from({ length: 2 }, (_, ch) => {
      const v = channelValues(x, shape, ch);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return v.reduce((a, b) => a + b * b, 0) / v.length - m * m;
    });
    expect(relErr(naive, shifted.variance)).toBeGreaterThan(1e-3); // the test can tell the two apart
  });

  it('rejects bad input with specific messages', () => {
    const x = new Float64Array(2 * 3 * 4);
    const three = new Float64Array(3);
    expect(() => batchNormTrainRef(x, [2, 3, 4], new Float64Array(2), three, three, three)).toThrow(/gamma has 2 elements but the input has 3 channels/);
    expect(() => batchNormTrainRef(new Float64Array(3), [1, 3], three, three, three, three)).toThrow(/more than one value per channel/);
    expect(() => batchNormEvalRef(x, [24], three, three, three, three)).toThrow(/rank 1/);
    expect(() => batchNormBackwardRef(new Float64Array(5), x, [2, 3, 4], three, three, three)).toThrow(/dy has 5 elements/);
  });
});

describe('batch norm reference vs PyTorch goldens (float64)', () => {
  for (const file of listGoldens('kernels/batchnorm')) {
    it(file, () => {
      const g = loadGolden(file);
      const p = g.params as { training: boolean; relu: boolean; eps: number; momentum?: number };
      const x = g.get('x');
      const [gamma, beta] = [g.get('gamma').data, g.get('beta').data];
      if (!p.training) {
        const f = p.relu ? batchNormReluEvalRef : batchNormEvalRef;
        const y = f(x.data, x.shape, gamma, beta, g.get('runningMean').data, g.get('runningVar').data, { eps: p.eps });
        expect(relErr(y, g.get('y').data)).toBeLessThan(1e-10);
        return;
      }
      const f = p.relu ? batchNormReluTrainRef : batchNormTrainRef;
      const out = f(x.data, x.shape, gamma, beta, g.get('runningMeanIn').data, g.get('runningVarIn').data, { eps: p.eps, momentum: p.momentum });
      expect(relErr(out.y, g.get('y').data)).toBeLessThan(1e-10);
      expect(relErr(out.mean, g.get('mean').data)).toBeLessThan(1e-10);
      expect(relErr(out.variance, g.get('variance').data)).toBeLessThan(1e-10);
      expect(relErr(out.runningMean, g.get('runningMean').data)).toBeLessThan(1e-10);
      expect(relErr(out.runningVar, g.get('runningVar').data)).toBeLessThan(1e-10);
      const dy = g.get('dy').data;
      const grads = p.relu
        ? batchNormReluBackwardRef(dy, x.data, x.shape, gamma, beta, out.mean, out.invStd)
        : batchNormBackwardRef(dy, x.data, x.shape, gamma, out.mean, out.invStd);
      expect(relErr(grads.dx, g.get('dx').data)).toBeLessThan(1e-10);
      expect(relErr(grads.dgamma, g.get('dgamma').data)).toBeLessThan(1e-10);
      expect(relErr(grads.dbeta, g.get('dbeta').data)).toBeLessThan(1e-10);
    });
  }
});
