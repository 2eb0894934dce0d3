import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lrAt, type LrSchedule } from '../../src/kernels/sgd.js';
import { sgdStepRef, type SgdOptions } from '../../src/kernels/sgd.ref.js';
import { randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface SgdCase {
  name: string;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  param0: number[];
  grads: number[][];
  params: number[][];
  finalBuf: number[] | null;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/sgd/sgd.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: SgdCase[];
  schedules: { schedule: LrSchedule; lrs: number[] }[];
};

describe('SGD step', () => {
  it('plain step and weight decay, by hand', () => {
    const r = sgdStepRef([1, -2], [0.5, 0.25], null, { lr: 0.1, weightDecay: 0.01 });
    expect(r.param[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.01), 15);
    expect(r.param[1]).toBeCloseTo(-2 - 0.1 * (0.25 - 0.02), 15);
    expect(r.buf).toBeNull();
  });

  it('momentum with a constant gradient follows the geometric series', () => {
    // buf_k = g (1 + μ + … + μ^(k−1)); p_K = p0 − lr·g·Σ_{k=1..K} (1 − μ^k)/(1 − μ)
    const [mu, lr, g] = [0.9, 0.05, 0.3];
    let p: Float64Array = Float64Array.from([2]);
    let buf: Float64Array | null = null;
    let want = 2;
    for (let k = 1; k <= 6; k++) {
      ({ param: p, buf } = sgdStepRef(p, [g], buf, { lr, momentum: mu }));
      want -= (lr * g * (1 - mu ** k)) / (1 - mu);
      expect(p[0]).toBeCloseTo(want, 14);
      expect(buf![0]).toBeCloseTo((g * (1 - mu ** k)) / (1 - mu), 14);
    }
  });

  it('nesterov and dampening, one step by hand', () => {
    const first = sgdStepRef([1], [0.5], null, { lr: 0.1, momentum: 0.9, nesterov: true });
    expect(first.buf![0]).toBe(0.5);
    expect(first.param[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.9 * 0.5), 15);
    const damp = sgdStepRef([1], [0.5], [2], { lr: 0.1, momentum: 0.9, dampening: 0.25 });
    expect(damp.buf![0]).toBeCloseTo(0.9 * 2 + 0.75 * 0.5, 15);
  });

  it('one fused call over concatenated parameters equals one call per parameter', () => {
    const rng = new Rng(51);
    const a = randomNormal(rng, 5);
    const b = randomNormal(rng, 3);
    const ga = randomNormal(rng, 5);
    const gb = randomNormal(rng, 3);
    const opts: SgdOptions = { lr: 0.01, momentum: 0.9, weightDecay: 0.01 };
    const fused = sgdStepRef([...a, ...b], [...ga, ...gb], null, opts);
    const sa = sgdStepRef(a, ga, null, opts);
    const sb = sgdStepRef(b, gb, null, opts);
    expect(Array.from(fused.param)).toEqual([...sa.param, ...sb.param]);
    expect(Array.from(fused.buf!)).toEqual([...sa.buf!, ...sb.buf!]);
  });

  it('does not modify its inputs', () => {
    const p = [1, 2];
    const buf = [0.1, 0.2];
    sgdStepRef(p, [1, 1], buf, { lr: 0.1, momentum: 0.5 });
    expect(p).toEqual([1, 2]);
    expect(buf).toEqual([0.1, 0.2]);
  });

  it('rejects bad options', () => {
    expect(() => sgdStepRef([1], [1, 2], null, { lr: 0.1 })).toThrow(/grad has 2/);
    expect(() => sgdStepRef([1], [1], null, { lr: -1 })).toThrow(/lr/);
    expect(() => sgdStepRef([1], [1], null, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => sgdStepRef([1], [1], null, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening/);
    expect(() => sgdStepRef([1], [1], [1, 2], { lr: 0.1, momentum: 0.9 })).toThrow(/buffer/);
  });
});

describe('learning-rate schedules', () => {
  it('constant and step', () => {
    expect(lrAt({ kind: 'constant', lr: 0.01 }, 37)).toBe(0.01);
    const s: LrSchedule = { kind: 'step', lr: 0.1, stepSize: 10, gamma: 0.1 };
    expect(lrAt(s, 0)).toBe(0.1);
    expect(lrAt(s, 9)).toBe(0.1);
    expect(lrAt(s, 10)).toBeCloseTo(0.01, 16);
    expect(lrAt(s, 25)).toBeCloseTo(0.001, 16);
  });

  it('cosine: lr at 0, the midpoint halfway, minLr at T and after', () => {
    const s: LrSchedule = { kind: 'cosine', lr: 0.01, T: 50, minLr: 0.001 };
    expect(lrAt(s, 0)).toBe(0.01);
    expect(lrAt(s, 25)).toBeCloseTo(0.0055, 16);
    expect(lrAt(s, 50)).toBe(0.001);
    expect(lrAt(s, 80)).toBe(0.001);
    expect(lrAt({ kind: 'cosine', lr: 1, T: 4 }, 1)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 15);
  });

  it('rejects bad schedules', () => {
    expect(() => lrAt({ kind: 'step', lr: 0.1, stepSize: 0, gamma: 0.5 }, 1)).toThrow(/stepSize/);
    expect(() => lrAt({ kind: 'cosine', lr: 0.1, T: 0 }, 1)).toThrow(/T/);
    expect(() => lrAt({ kind: 'cosine', lr: 0.1, T: 5, minLr: 0.2 }, 1)).toThrow(/minLr/);
    expect(() => lrAt({ kind: 'constant', lr: 0.1 }, -1)).toThrow(/epoch/);
    expect(() => lrAt({ kind: 'linear', lr: 0.1 } as unknown as LrSchedule, 1)).toThrow(/unknown/);
  });
});

describe('SGD: PyTorch goldens (torch.optim.SGD, StepLR, CosineAnnealingLR)', () => {
  for (const c of golden.cases) {
    it(`${c.name} (torch ${golden.torch})`, () => {
      const opts: SgdOptions = { lr: c.lr, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weightDecay, nesterov: c.nesterov };
      let p: Float64Array = Float64Array.from(c.param0);
      let buf: Float64Array | null = null;
      c.grads.forEach((g, k) => {
        ({ param: p, buf } = sgdStepRef(p, g, buf, opts));
        expect(relErr(p, c.params[k]!)).toBeLessThan(1e-9);
      });
      if (c.finalBuf === null) expect(buf).toBeNull();
      else expect(relErr(buf!, c.finalBuf)).toBeLessThan(1e-9);
    });
  }
  for (const s of golden.schedules) {
    it(`schedule ${JSON.stringify(s.schedule)}`, () => {
      expect(
        relErr(
          s.lrs.map((_, e) => lrAt(s.schedule, e)),
          s.lrs,
        ),
      ).toBeLessThan(1e-9);
    });
  }
});
