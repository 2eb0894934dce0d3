import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { centerLossRef, centerUpdateRef } from '../../src/kernels/center.ref.js';
import { gradCheck, randomNormal, relErr } from '../../src/kernels/ref-util.js';
import { Rng } from '../../src/util/rng.js';

interface CenterCase {
  name: string;
  shape: number[];
  numClasses: number;
  lambda: number;
  reduction: 'sum' | 'mean';
  alpha: number;
  x: number[];
  labels: number[];
  centers: number[];
  loss: number;
  gradX: number[];
  gradCenters: number[];
  updatedCenters: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden/kernels/center/center.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: CenterCase[];
};

describe('center loss', () => {
  const rng = new Rng(31);
  const [n, e, k] = [7, 4, 3];
  const x = randomNormal(rng, n * e);
  const c = randomNormal(rng, k * e);
  const labels = [0, 2, 2, 1, 0, 2, 0];

  for (const opts of [{}, { lambda: 0.003, reduction: 'mean' as const }]) {
    it(`gradients by finite differences ${JSON.stringify(opts)}`, () => {
      const r = centerLossRef(x, [n, e], labels, c, [k, e], opts);
      const gx = gradCheck((v) => centerLossRef(v, [n, e], labels, c, [k, e], opts).loss, x, r.grad);
      const gc = gradCheck((v) => centerLossRef(x, [n, e], labels, v, [k, e], opts).loss, c, r.gradCenters);
      expect(gx.relErr).toBeLessThan(1e-8);
      expect(gc.relErr).toBeLessThan(1e-8);
    });
  }

  it('is λ/2 Σ‖x − c‖² (hand-computed), and mean divides by the batch size', () => {
    const xs = [1, 2, 0, -1, 3, 3];
    const cs = [0, 0, 1, 1];
    // ‖(1,2)−(0,0)‖² = 5, ‖(0,−1)−(1,1)‖² = 5, ‖(3,3)−(0,0)‖² = 18
    expect(centerLossRef(xs, [3, 2], [0, 1, 0], cs, [2, 2]).loss).toBeCloseTo(14, 15);
    expect(centerLossRef(xs, [3, 2], [0, 1, 0], cs, [2, 2], { lambda: 0.5 }).loss).toBeCloseTo(7, 15);
    expect(centerLossRef(xs, [3, 2], [0, 1, 0], cs, [2, 2], { reduction: 'mean' }).loss).toBeCloseTo(14 / 3, 14);
  });

  it('center update moves a class center to (c + Σx)/(1 + n) at α = 1 and leaves absent classes alone', () => {
    const upd = centerUpdateRef(x, [n, e], labels, c, [k, e], 1);
    for (const cls of [0, 1, 2]) {
      const members = labels.flatMap((l, i) => (l === cls ? [i] : []));
      for (let f = 0; f < e; f++) {
        const s = members.reduce((a, i) => a + x[i * e + f]!, c[cls * e + f]!);
        expect(upd[cls * e + f]).toBeCloseTo(s / (1 + members.length), 14);
      }
    }
    const absent = centerUpdateRef(x, [n, e], [0, 0, 0, 0, 0, 0, 0], c, [k, e], 0.5);
    expect(Array.from(absent.subarray(e))).toEqual(Array.from(c.subarray(e)));
    expect(Array.from(centerUpdateRef(x, [n, e], labels, c, [k, e], 0))).toEqual(Array.from(c));
  });

  it('a batch with one class only: finite loss and gradient, only that center moves', () => {
    const one = new Array(n).fill(1);
    const r = centerLossRef(x, [n, e], one, c, [k, e]);
    expect(Number.isFinite(r.loss)).toBe(true);
    const gx = gradCheck((v) => centerLossRef(v, [n, e], one, c, [k, e]).loss, x, r.grad);
    expect(gx.relErr).toBeLessThan(1e-8);
    expect(r.gradCenters.subarray(0, e).every((v) => v === 0)).toBe(true);
    const upd = centerUpdateRef(x, [n, e], one, c, [k, e], 0.5);
    expect(Array.from(upd.subarray(0, e))).toEqual(Array.from(c.subarray(0, e)));
    expect(relErr(upd.subarray(e, 2 * e), c.subarray(e, 2 * e))).toBeGreaterThan(0);
  });

  it('rejects bad labels and shapes', () => {
    expect(() => centerLossRef(x, [n, e], [0, 1, 2, 3, 0, 0, 0], c, [k, e])).toThrow(/labels\[3\] = 3/);
    expect(() => centerLossRef(x, [n, e], [0, 1, 0.5, 1, 0, 0, 0], c, [k, e])).toThrow(/labels\[2\]/);
    expect(() => centerLossRef(x, [n, e], labels, c, [k, e + 1])).toThrow(/dimension/);
    expect(() => centerLossRef(x, [n, e], labels.slice(1), c, [k, e])).toThrow(/labels/);
  });
});

describe('center loss: PyTorch goldens', () => {
  for (const g of golden.cases) {
    it(`${g.name} (torch ${golden.torch})`, () => {
      const cShape = [g.numClasses, g.shape[1]!];
      const r = centerLossRef(g.x, g.shape, g.labels, g.centers, cShape, { lambda: g.lambda, reduction: g.reduction });
      expect(relErr([r.loss], [g.loss])).toBeLessThan(1e-9);
      expect(relErr(r.grad, g.gradX)).toBeLessThan(1e-9);
      expect(relErr(r.gradCenters, g.gradCenters)).toBeLessThan(1e-9);
      expect(relErr(centerUpdateRef(g.x, g.shape, g.labels, g.centers, cShape, g.alpha), g.updatedCenters)).toBeLessThan(1e-9);
    });
  }
});
