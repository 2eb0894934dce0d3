import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adamStepRef, type AdamState } from '../../src/kernels/adam.ref.js';
import { randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

// biome-ignore lint/suspicious/noExportsInTest: the golden's case type, shared with adam.test.ts (the GPU test reads the same file)
export interface AdamCase {
  name: string;
  lrs: number[];
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  param0: number[];
  grads: number[][];
  params: number[][];
  finalM: number[];
  finalV: number[];
  steps: number;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/adam/adam.json', import.meta.url), 'utf8')) as { torch: string; cases: AdamCase[] };

describe('Adam step (float64 reference)', () => {
  it('first step by hand: the bias-corrected update is lr·sign(g) up to ε, and AdamW decays first', () => {
    const r = adamStepRef([1, -2], [0.5, -0.25], null, { lr: 0.1, weightDecay: 0.01 });
    // m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε).
    expect(r.param[0]).toBeCloseTo(1 * (1 - 0.1 * 0.01) - (0.1 * 0.5) / (0.5 + 1e-8), 14);
    expect(r.param[1]).toBeCloseTo(-2 * (1 - 0.1 * 0.01) + (0.1 * 0.25) / (0.25 + 1e-8), 14);
    expect(r.state.step).toBe(1);
    expect(r.state.m[0]).toBeCloseTo(0.05, 15);
    expect(r.state.v[0]).toBeCloseTo(0.001 * 0.25, 15);
    const l2 = adamStepRef([1], [0.5], null, { lr: 0.1, weightDecay: 0.5, decoupled: false });
    expect(l2.state.m[0]).toBeCloseTo(0.1 * (0.5 + 0.5), 15);
  });

  it('a constant gradient moves every step by lr (bias correction makes m̂ = g, v̂ = g² exactly)', () => {
    let p: Float64Array = Float64Array.from([3]);
    let s: AdamState | null = null;
    for (let k = 1; k <= 8; k++) {
      ({ param: p, state: s } = adamStepRef(p, [0.2], s, { lr: 0.01, eps: 1e-12 }));
      expect(p[0]).toBeCloseTo(3 - 0.01 * k, 12);
    }
  });

  for (const c of golden.cases) {
    it(`matches torch.optim.${c.decoupled ? 'AdamW' : 'Adam'} step for step: ${c.name} (torch ${golden.torch})`, () => {
      let p: Float64Array = Float64Array.from(c.param0);
      let s: AdamState | null = null;
      c.grads.forEach((g, k) => {
        ({ param: p, state: s } = adamStepRef(p, g, s, {
          lr: c.lrs[k]!,
          beta1: c.beta1,
          beta2: c.beta2,
          eps: c.eps,
          weightDecay: c.weightDecay,
          decoupled: c.decoupled,
        }));
        expect(relErr(p, c.params[k]!), `after step ${k + 1}`).toBeLessThan(1e-12);
      });
      expect(relErr(s!.m, c.finalM)).toBeLessThan(1e-12);
      expect(relErr(s!.v, c.finalV)).toBeLessThan(1e-12);
      expect(s!.step).toBe(c.steps);
    });
  }

  it('one call over concatenated parameters equals one call per parameter', () => {
    const rng = new Rng(52);
    const [a, b, ga, gb] = [randomNormal(rng, 5), randomNormal(rng, 3), randomNormal(rng, 5), randomNormal(rng, 3)];
    const o = { lr: 0.01, weightDecay: 0.01 };
    const fused = adamStepRef([...a, ...b], [...ga, ...gb], null, o);
    const sa = adamStepRef(a, ga, null, o);
    const sb = adamStepRef(b, gb, null, o);
    expect(Array.from(fused.param)).toEqual([...sa.param, ...sb.param]);
    expect(Array.from(fused.state.v)).toEqual([...sa.state.v, ...sb.state.v]);
  });

  it('rejects bad options and mismatched state', () => {
    expect(() => adamStepRef([1], [1, 2], null, { lr: 0.1 })).toThrow(/grad has 2/);
    expect(() => adamStepRef([1], [1], null, { lr: -1 })).toThrow(/lr/);
    expect(() => adamStepRef([1], [1], null, { lr: 0.1, beta1: 1 })).toThrow(/beta1/);
    expect(() => adamStepRef([1], [1], null, { lr: 0.1, eps: 0 })).toThrow(/eps/);
    expect(() => adamStepRef([1], [1], { m: new Float64Array(2), v: new Float64Array(2), step: 1 }, { lr: 0.1 })).toThrow(/state has 2/);
  });
});
