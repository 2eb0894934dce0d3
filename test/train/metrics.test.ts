import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addConfusion, binaryMetrics, confusionMatrix, meanSd, pooledRoc, quantileSorted, rocAuc, rocCurve, summarizeFolds } from '../../src/train/metrics.js';
import { Rng } from '../../src/util/rng.js';

interface SkCurve {
  fpr: number[];
  tpr: number[];
  thresholds_tail: number[];
}
interface SkCase {
  name: string;
  labels: number[];
  scores: number[];
  roc_auc_score: number;
  accuracy: number;
  recall_t2: number;
  recall_t3: number;
  confusion: [[number, number], [number, number]];
  roc_curve: SkCurve;
  roc_curve_drop: SkCurve;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/sklearn/metrics.json', import.meta.url), 'utf8')) as { sklearn_version: string; cases: SkCase[] };

function expectClose(a: number[], b: number[], tol = 1e-12): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol);
}

/** O(n²) pair-counting AUC: P(score_T3 > score_T2) + ½ P(tie). Independent of the rank formula. */
function pairAuc(labels: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe(`metrics vs scikit-learn ${fixture.sklearn_version}`, () => {
  it('has fixture cases', () => expect(fixture.cases.length).toBeGreaterThanOrEqual(8));
  for (const c of fixture.cases) {
    it(`${c.name}: AUC, ROC curve, confusion, accuracy, recalls`, () => {
      expect(Math.abs(rocAuc(c.labels, c.scores) - c.roc_auc_score)).toBeLessThanOrEqual(1e-12);
      for (const [drop, sk] of [
        [false, c.roc_curve],
        [true, c.roc_curve_drop],
      ] as const) {
        const r = rocCurve(c.labels, c.scores, { dropIntermediate: drop });
        expectClose(r.fpr, sk.fpr);
        expectClose(r.tpr, sk.tpr);
        expect(r.thresholds[0]).toBe(Infinity);
        expectClose(r.thresholds.slice(1), sk.thresholds_tail, 0);
      }
      const m = binaryMetrics(c.labels, c.scores);
      const [[tn, fp], [fn, tp]] = c.confusion;
      expect(m.confusion).toEqual({ tn, fp, fn, tp });
      expect(Math.abs(m.accuracy - c.accuracy)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(m.recallT2 - c.recall_t2)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(m.recallT3 - c.recall_t3)).toBeLessThanOrEqual(1e-12);
      expect(m.warnings).toEqual([]);
    });
  }
});

describe('rocAuc', () => {
  it('equals pair counting on random tie-heavy data', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 20; t++) {
      const n = rng.int(2, 60);
      const labels = Array.from({ length: n }, () => (rng.next() < 0.6 ? 1 : 0));
      labels[0] = 0;
      labels[1] = 1;
      const scores = Array.from({ length: n }, () => rng.int(0, 4) / 3);
      expect(Math.abs(rocAuc(labels, scores) - pairAuc(labels, scores))).toBeLessThan(1e-12);
    }
  });

  it('equals the trapezoidal area of its own ROC curve', () => {
    const rng = new Rng(3);
    const labels = Array.from({ length: 50 }, () => (rng.next() < 0.5 ? 1 : 0));
    const scores = Array.from({ length: 50 }, () => Math.round(rng.next() * 8) / 8);
    const r = rocCurve(labels, scores);
    let area = 0;
    for (let i = 1; i < r.fpr.length; i++) area += ((r.fpr[i]! - r.fpr[i - 1]!) * (r.tpr[i]! + r.tpr[i - 1]!)) / 2;
    expect(Math.abs(area - rocAuc(labels, scores))).toBeLessThan(1e-12);
  });

  it('accepts typed arrays (Float32 scores, Uint8 labels)', () => {
    const labels = Uint8Array.from([0, 1, 0, 1]);
    const scores = Float32Array.from([0.1, 0.3, 0.35, 0.8]);
    expect(rocAuc(labels, scores)).toBe(0.75);
  });

  it('is NaN (not a throw) for a single-class set, with a warning in binaryMetrics', () => {
    expect(rocAuc([1, 1, 1], [0.2, 0.5, 0.9])).toBeNaN();
    const m = binaryMetrics([1, 1, 1], [0.2, 0.5, 0.9]);
    expect(m.auc).toBeNaN();
    expect(m.recallT2).toBeNaN();
    expect(m.recallT3).toBeCloseTo(2 / 3, 15);
    expect(m.warnings.join(' ')).toMatch(/AUC is undefined.*only T3/);
    expect(m.warnings.join(' ')).toMatch(/recall\(T2\) is undefined/);
    const r = rocCurve([1, 1], [0.2, 0.3]);
    expect(r.fpr.every(Number.isNaN)).toBe(true);
  });

  it('throws clear errors on malformed input', () => {
    expect(() => rocAuc([0, 1], [0.5])).toThrow(/labels has 2 entries but scores has 1/);
    expect(() => rocAuc([0, 2], [0.1, 0.5])).toThrow(/label\[1\] is 2; labels must be 0 \(T2\) or 1 \(T3\)/);
    expect(() => rocAuc([0, 1], [0.1, NaN])).toThrow(/score\[1\] is NaN/);
    expect(() => binaryMetrics([0, 1], [0.1, Infinity])).toThrow(/score\[1\] is Infinity/);
  });
});

describe('confusion and thresholds', () => {
  it('predicts T3 at exactly the threshold', () => {
    expect(confusionMatrix([0, 1], [0.5, 0.5])).toEqual({ tn: 0, fp: 1, fn: 0, tp: 1 });
    expect(confusionMatrix([0, 1], [0.5, 0.5], 0.6)).toEqual({ tn: 1, fp: 0, fn: 1, tp: 0 });
  });
  it('adds fold matrices', () => {
    const a = { tn: 1, fp: 2, fn: 3, tp: 4 };
    expect(addConfusion([a, a])).toEqual({ tn: 2, fp: 4, fn: 6, tp: 8 });
  });
});

describe('meanSd / summarizeFolds', () => {
  it('uses the sample SD (ddof = 1)', () => {
    const r = meanSd([0.7, 0.8, 0.9]);
    expect(r.mean).toBeCloseTo(0.8, 15);
    expect(r.sd).toBeCloseTo(0.1, 15); // sqrt(((0.1)^2+0+(0.1)^2)/2)
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9]).sd).toBeCloseTo(Math.sqrt(32 / 7), 14);
  });
  it('skips NaN folds and counts them; one value has no SD', () => {
    const r = meanSd([0.5, NaN, 0.7]);
    expect(r.mean).toBeCloseTo(0.6, 15);
    expect(r.sd).toBeCloseTo(Math.sqrt(0.02), 15);
    expect([r.n, r.nMissing]).toEqual([2, 1]);
    expect(meanSd([0.5]).sd).toBeNaN();
    expect(meanSd([]).mean).toBeNaN();
  });
  it('summarizes the four paper columns', () => {
    const f1 = binaryMetrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]);
    const f2 = binaryMetrics([0, 1, 1, 1], [0.2, 0.3, 0.7, 0.8]);
    const s = summarizeFolds([f1, f2]);
    expect(s.nFolds).toBe(2);
    expect(s.auc.mean).toBeCloseTo((0.75 + 1) / 2, 15);
    expect(s.accuracy.mean).toBeCloseTo((0.5 + 0.75) / 2, 15);
    expect(s.recallT2.mean).toBeCloseTo((0.5 + 1) / 2, 15);
    expect(s.recallT3.sd).toBeCloseTo(Math.abs(0.5 - 2 / 3) / Math.SQRT2, 15);
  });
});

describe('quantileSorted', () => {
  it('matches numpy type-7 quantiles', () => {
    // numpy.quantile([1,2,3,4], [0.025, 0.5, 0.975]) = [1.075, 2.5, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 14);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 14);
  });
});

describe('pooledRoc bootstrap', () => {
  const rng = new Rng(11);
  const n = 120;
  const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const scores = labels.map((y) => Math.round((1 / (1 + Math.exp(-(rng.normal() + (y ? 0.8 : -0.8))))) * 20) / 20);

  it('reproduces the documented resampling with an independent AUC', () => {
    const b = 40;
    const p = pooledRoc(labels, scores, { b, seed: 5 });
    const pos = labels.flatMap((y, i) => (y === 1 ? [i] : []));
    const neg = labels.flatMap((y, i) => (y === 0 ? [i] : []));
    const r = new Rng(5);
    const aucs: number[] = [];
    for (let k = 0; k < b; k++) {
      const idx = [...pos.map(() => pos[r.int(0, pos.length)]!), ...neg.map(() => neg[r.int(0, neg.length)]!)];
      aucs.push(
        pairAuc(
          idx.map((i) => labels[i]!),
          idx.map((i) => scores[i]!),
        ),
      );
    }
    aucs.sort((a, c) => a - c);
    expect(Math.abs(p.ci[0] - quantileSorted(aucs, 0.025))).toBeLessThan(1e-12);
    expect(Math.abs(p.ci[1] - quantileSorted(aucs, 0.975))).toBeLessThan(1e-12);
    expect(p.auc).toBe(rocAuc(labels, scores));
  });

  it('is deterministic by seed, brackets the AUC, and has a width near the normal approximation', () => {
    const a = pooledRoc(labels, scores, { seed: 1 });
    const b = pooledRoc(labels, scores, { seed: 1 });
    const c = pooledRoc(labels, scores, { seed: 2 });
    expect(a.ci).toEqual(b.ci);
    expect(a.ci).not.toEqual(c.ci);
    expect(a.ci[0]).toBeLessThan(a.auc);
    expect(a.ci[1]).toBeGreaterThan(a.auc);
    // Hanley & McNeil (1982) standard error of the AUC.
    const auc = a.auc;
    const n1 = a.nT3;
    const n0 = a.nT2;
    const q1 = auc / (2 - auc);
    const q2 = (2 * auc * auc) / (1 + auc);
    const se = Math.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0));
    const width = a.ci[1] - a.ci[0];
    expect(width / (2 * 1.96 * se)).toBeGreaterThan(0.7);
    expect(width / (2 * 1.96 * se)).toBeLessThan(1.3);
  });

  it('gives a TPR band that contains the pooled curve at most grid points and is monotone', () => {
    const p = pooledRoc(labels, scores, { b: 300, seed: 3, gridPoints: 21 });
    expect(p.band.fpr.length).toBe(21);
    expect(p.band.fpr[0]).toBe(0);
    expect(p.band.fpr[20]).toBe(1);
    for (let i = 0; i < 21; i++) expect(p.band.tprLower[i]!).toBeLessThanOrEqual(p.band.tprUpper[i]!);
    for (let i = 1; i < 21; i++) expect(p.band.tprLower[i]!).toBeGreaterThanOrEqual(p.band.tprLower[i - 1]!);
    expect(p.band.tprUpper[20]).toBe(1);
  });

  it('is NaN with a warning for a single-class pool', () => {
    const p = pooledRoc([1, 1, 1], [0.1, 0.2, 0.3]);
    expect(p.ci[0]).toBeNaN();
    expect(p.warnings[0]).toMatch(/pooled AUC is undefined/);
  });
});
