/**
 * Binary classification metrics for T-staging, as the paper reports them (Section 2.5, Tables 2–4).
 *
 * Conventions used everywhere in voxelgrad:
 * - label 1 = T3 (the positive class), label 0 = T2; a score is the model's P(T3).
 * - A subject is predicted T3 when `score >= threshold` (threshold 0.5 by default).
 * - recall(T2) = TN / (TN + FP) is the specificity; recall(T3) = TP / (TP + FN) is the sensitivity.
 * - Metrics are fractions in [0, 1]; tables multiply accuracy and recalls by 100 as the paper does.
 * - An undefined metric (AUC or a recall on a test set with one class only) is NaN and a message is
 *   added to `warnings`; it never throws, because a tiny cohort can legitimately produce such a fold.
 *   Malformed input (length mismatch, labels other than 0/1, non-finite scores) throws.
 */
import { Rng } from '../util/rng.js';

export interface ConfusionMatrix {
  /** true T2 predicted T2 */
  tn: number;
  /** true T2 predicted T3 */
  fp: number;
  /** true T3 predicted T2 */
  fn: number;
  /** true T3 predicted T3 */
  tp: number;
}

export interface RocCurve {
  /** False-positive rate (1 − recall(T2)) at each threshold, non-decreasing, starts at 0, ends at 1. */
  fpr: number[];
  /** True-positive rate (recall(T3)) at each threshold, non-decreasing, starts at 0, ends at 1. */
  tpr: number[];
  /** Decreasing thresholds; thresholds[0] is +Infinity (the "predict nothing" point). */
  thresholds: number[];
}

export interface BinaryMetrics {
  n: number;
  /** Number of true T2 (label 0) subjects. */
  nT2: number;
  /** Number of true T3 (label 1) subjects. */
  nT3: number;
  auc: number;
  accuracy: number;
  /** Specificity: fraction of T2 subjects predicted T2. */
  recallT2: number;
  /** Sensitivity: fraction of T3 subjects predicted T3. */
  recallT3: number;
  confusion: ConfusionMatrix;
  threshold: number;
  /** Why a metric is NaN (single-class test set); empty when everything is defined. */
  warnings: string[];
}

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (ddof = 1, like numpy.std(ddof=1) / pandas); NaN when fewer than 2 values. */
  sd: number;
  /** Number of finite values used. */
  n: number;
  /** Number of NaN values skipped (folds where the metric was undefined). */
  nMissing: number;
}

export interface FoldSummary {
  auc: MeanSd;
  accuracy: MeanSd;
  recallT2: MeanSd;
  recallT3: MeanSd;
  nFolds: number;
}

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 1000). */
  b?: number;
  /** Seed for the resampling (default 0). */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Number of FPR grid points for the pointwise TPR band (default 101: 0, 0.01, …, 1). */
  gridPoints?: number;
}

export interface PooledRoc {
  /** ROC curve of all test predictions of all folds pooled (each subject is tested exactly once). */
  roc: RocCurve;
  /** AUC of the pooled predictions (not the mean of fold AUCs: folds' scores are pooled first). */
  auc: number;
  /** Percentile bootstrap CI of the pooled AUC, [lower, upper]. */
  ci: [number, number];
  level: number;
  b: number;
  seed: number;
  /** Pointwise percentile band of the TPR at fixed FPR values, for drawing a shaded band. */
  band: { fpr: number[]; tprLower: number[]; tprUpper: number[] };
  n: number;
  nT2: number;
  nT3: number;
  warnings: string[];
}

/** Validates labels/scores and returns them as plain number arrays; throws on malformed input. */
function checkInputs(labels: ArrayLike<number>, scores: ArrayLike<number>, what: string): void {
  if (labels.length !== scores.length) {
    throw new Error(`${what}: labels has ${labels.length} entries but scores has ${scores.length}; pass one score per labelled subject`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y !== 0 && y !== 1) {
      throw new Error(`${what}: label[${i}] is ${y}; labels must be 0 (T2) or 1 (T3)`);
    }
    if (!Number.isFinite(scores[i]!)) {
      throw new Error(`${what}: score[${i}] is ${scores[i]}; scores must be finite (a NaN probability usually means training diverged)`);
    }
  }
}

function countClasses(labels: ArrayLike<number>): { nPos: number; nNeg: number } {
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) nPos += labels[i]!;
  return { nPos, nNeg: labels.length - nPos };
}

function singleClassMessage(nPos: number, nNeg: number, metric: string): string {
  return nPos === 0 && nNeg === 0
    ? `${metric} is undefined: no subjects`
    : `${metric} is undefined: the set has only ${nPos === 0 ? 'T2' : 'T3'} subjects (${nPos + nNeg}); use more subjects per fold or fewer folds`;
}

/**
 * ROC AUC by the Mann–Whitney U statistic with average ranks for ties, which equals the trapezoidal
 * area under the full ROC curve (sklearn.metrics.roc_auc_score). NaN when one class is missing.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(labels, scores, 'rocAuc');
  const { nPos, nNeg } = countClasses(labels);
  if (nPos === 0 || nNeg === 0) return NaN;
  const n = labels.length;
  const order = ascendingOrder(scores);
  // Sum of (1-based) average ranks of the positives; tied runs share the mean of their ranks.
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const s = scores[order[i]!]!;
    let posInRun = 0;
    while (j < n && scores[order[j]!]! === s) {
      posInRun += labels[order[j]!]!;
      j++;
    }
    const avgRank = (i + 1 + j) / 2; // mean of ranks i+1 … j
    rankSumPos += posInRun * avgRank;
    i = j;
  }
  const u = rankSumPos - (nPos * (nPos + 1)) / 2;
  return u / (nPos * nNeg);
}

/** Indices sorting `scores` ascending (stable). */
function ascendingOrder(scores: ArrayLike<number>): number[] {
  const idx = Array.from({ length: scores.length }, (_, k) => k);
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return idx;
}

/**
 * ROC curve with scikit-learn's `roc_curve` semantics: one point per distinct score (descending), plus
 * a leading (0, 0) point whose threshold is +Infinity (sklearn ≥ 1.3; sklearn 1.2 used max(score) + 1).
 * `dropIntermediate` (default false, unlike sklearn's default true) removes collinear points exactly
 * as sklearn does; the AUC of the curve is the same either way. With one class missing the
 * corresponding rate is all NaN, as in sklearn.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>, options: { dropIntermediate?: boolean } = {}): RocCurve {
  checkInputs(labels, scores, 'rocCurve');
  const n = labels.length;
  if (n === 0) return { fpr: [NaN], tpr: [NaN], thresholds: [Infinity] };
  const order = ascendingOrder(scores).reverse();
  let fps: number[] = [];
  let tps: number[] = [];
  let thr: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const idx = order[k]!;
    if (labels[idx] === 1) tp++;
    else fp++;
    const isLastOfRun = k === n - 1 || scores[order[k + 1]!]! !== scores[idx]!;
    if (isLastOfRun) {
      fps.push(fp);
      tps.push(tp);
      thr.push(scores[idx]!);
    }
  }
  if (options.dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let k = 1; k < fps.length - 1; k++) {
      const d2f = fps[k + 1]! - 2 * fps[k]! + fps[k - 1]!;
      const d2t = tps[k + 1]! - 2 * tps[k]! + tps[k - 1]!;
      if (d2f !== 0 || d2t !== 0) keep.push(k);
    }
    keep.push(fps.length - 1);
    fps = keep.map((k) => fps[k]!);
    tps = keep.map((k) => tps[k]!);
    thr = keep.map((k) => thr[k]!);
  }
  fps.unshift(0);
  tps.unshift(0);
  thr.unshift(Infinity);
  const fpTotal = fps[fps.length - 1]!;
  const tpTotal = tps[tps.length - 1]!;
  return {
    fpr: fps.map((v) => (fpTotal > 0 ? v / fpTotal : NaN)),
    tpr: tps.map((v) => (tpTotal > 0 ? v / tpTotal : NaN)),
    thresholds: thr,
  };
}

/** Confusion matrix at `threshold` (predict T3 when score >= threshold). */
export function confusionMatrix(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): ConfusionMatrix {
  checkInputs(labels, scores, 'confusionMatrix');
  if (!Number.isFinite(threshold)) throw new Error(`confusionMatrix: threshold must be finite, got ${threshold}`);
  const cm: ConfusionMatrix = { tn: 0, fp: 0, fn: 0, tp: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predT3 = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (predT3) cm.tp++;
      else cm.fn++;
    } else if (predT3) cm.fp++;
    else cm.tn++;
  }
  return cm;
}

/** Sums confusion matrices (e.g. over folds: each subject is in exactly one test fold). */
export function addConfusion(matrices: readonly ConfusionMatrix[]): ConfusionMatrix {
  const s: ConfusionMatrix = { tn: 0, fp: 0, fn: 0, tp: 0 };
  for (const m of matrices) {
    s.tn += m.tn;
    s.fp += m.fp;
    s.fn += m.fn;
    s.tp += m.tp;
  }
  return s;
}

/** AUC, accuracy, recall(T2), recall(T3) and the confusion matrix of one test set (one fold). */
export function binaryMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): BinaryMetrics {
  const confusion = confusionMatrix(labels, scores, threshold);
  const { tn, fp, fn, tp } = confusion;
  const nT2 = tn + fp;
  const nT3 = tp + fn;
  const n = nT2 + nT3;
  const warnings: string[] = [];
  const auc = rocAuc(labels, scores);
  if (Number.isNaN(auc)) warnings.push(singleClassMessage(nT3, nT2, 'AUC'));
  if (nT2 === 0) warnings.push(`recall(T2) is undefined: the set has no T2 subjects`);
  if (nT3 === 0) warnings.push(`recall(T3) is undefined: the set has no T3 subjects`);
  return {
    n,
    nT2,
    nT3,
    auc,
    accuracy: n > 0 ? (tp + tn) / n : NaN,
    recallT2: nT2 > 0 ? tn / nT2 : NaN,
    recallT3: nT3 > 0 ? tp / nT3 : NaN,
    confusion,
    threshold,
    warnings,
  };
}

/** Mean and sample SD (ddof = 1) of the finite values; NaNs are skipped and counted in `nMissing`. */
export function meanSd(values: ArrayLike<number>): MeanSd {
  const xs: number[] = [];
  let nMissing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nMissing++;
    else if (!Number.isFinite(v)) throw new Error(`meanSd: value[${i}] is ${v}; metrics must be finite or NaN`);
    else xs.push(v);
  }
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN, n, nMissing };
  let mean = 0;
  for (const v of xs) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of xs) ss += (v - mean) * (v - mean);
  return { mean, sd: n >= 2 ? Math.sqrt(ss / (n - 1)) : NaN, n, nMissing };
}

/** Mean ± SD over folds of each of the paper's columns. */
export function summarizeFolds(folds: readonly BinaryMetrics[]): FoldSummary {
  return {
    auc: meanSd(folds.map((f) => f.auc)),
    accuracy: meanSd(folds.map((f) => f.accuracy)),
    recallT2: meanSd(folds.map((f) => f.recallT2)),
    recallT3: meanSd(folds.map((f) => f.recallT3)),
    nFolds: folds.length,
  };
}

/**
 * Quantile with linear interpolation between order statistics (Hyndman–Fan type 7, numpy's default).
 * `sorted` must be ascending.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile q must be in [0, 1], got ${q}`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Pooled ROC of all folds' test predictions with a stratified percentile bootstrap.
 *
 * Resampling protocol (documented so it can be reproduced): with `rng = new Rng(seed)`, for each of the
 * `b` replicates draw nT3 indices with `rng.int(0, nT3)` from the T3 subjects (in input order), then nT2
 * indices with `rng.int(0, nT2)` from the T2 subjects. Stratifying keeps both classes in every replicate,
 * so every replicate AUC is defined and the class balance is that of the cohort. The CI is the
 * [(1−level)/2, (1+level)/2] type-7 quantiles of the replicate AUCs; the band is the same quantiles of
 * each replicate curve's TPR interpolated at fixed FPR values.
 */
export function pooledRoc(labels: ArrayLike<number>, scores: ArrayLike<number>, options: BootstrapOptions = {}): PooledRoc {
  checkInputs(labels, scores, 'pooledRoc');
  const b = options.b ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const gridPoints = options.gridPoints ?? 101;
  if (!Number.isInteger(b) || b < 1) throw new Error(`pooledRoc: b (bootstrap replicates) must be a positive integer, got ${b}`);
  if (!(level > 0 && level < 1)) throw new Error(`pooledRoc: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(gridPoints) || gridPoints < 2) throw new Error(`pooledRoc: gridPoints must be an integer >= 2, got ${gridPoints}`);

  const roc = rocCurve(labels, scores);
  const auc = rocAuc(labels, scores);
  const { nPos, nNeg } = countClasses(labels);
  const grid = Array.from({ length: gridPoints }, (_, k) => k / (gridPoints - 1));
  const base = { roc, auc, level, b, seed, n: labels.length, nT2: nNeg, nT3: nPos };
  if (nPos === 0 || nNeg === 0) {
    const nan = grid.map(() => NaN);
    return {
      ...base,
      ci: [NaN, NaN],
      band: { fpr: grid, tprLower: nan, tprUpper: nan.slice() },
      warnings: [singleClassMessage(nPos, nNeg, 'pooled AUC')],
    };
  }

  // Distinct score groups in descending order; each subject maps to its group. A replicate is then just
  // per-subject multiplicities, and AUC/ROC follow in O(n) from per-group weighted counts.
  const order = ascendingOrder(scores).reverse();
  const groupOf = new Int32Array(labels.length);
  let nGroups = 0;
  for (let k = 0; k < order.length; k++) {
    if (k > 0 && scores[order[k]!]! !== scores[order[k - 1]!]!) nGroups++;
    groupOf[order[k]!] = nGroups;
  }
  nGroups++;
  const posIdx: number[] = [];
  const negIdx: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? posIdx : negIdx).push(i);

  const rng = new Rng(seed);
  const aucs = new Float64Array(b);
  const tprAtGrid: Float64Array[] = grid.map(() => new Float64Array(b));
  const gPos = new Float64Array(nGroups);
  const gNeg = new Float64Array(nGroups);
  const curveF = new Float64Array(nGroups + 1);
  const curveT = new Float64Array(nGroups + 1);
  for (let r = 0; r < b; r++) {
    gPos.fill(0);
    gNeg.fill(0);
    for (let k = 0; k < nPos; k++) gPos[groupOf[posIdx[rng.int(0, nPos)]!]!]! += 1;
    for (let k = 0; k < nNeg; k++) gNeg[groupOf[negIdx[rng.int(0, nNeg)]!]!]! += 1;
    // Walk groups from the highest score down: each positive beats the negatives below it, ties count ½.
    let negAbove = 0;
    let posAbove = 0;
    let wins = 0;
    curveF[0] = 0;
    curveT[0] = 0;
    for (let g = 0; g < nGroups; g++) {
      wins += gPos[g]! * (nNeg - negAbove - gNeg[g]! + 0.5 * gNeg[g]!);
      negAbove += gNeg[g]!;
      posAbove += gPos[g]!;
      curveF[g + 1] = negAbove / nNeg;
      curveT[g + 1] = posAbove / nPos;
    }
    aucs[r] = wins / (nPos * nNeg);
    interpolateRoc(curveF, curveT, grid, (gi, v) => (tprAtGrid[gi]![r] = v));
  }
  const lo = (1 - level) / 2;
  const hi = 1 - lo;
  aucs.sort();
  for (const col of tprAtGrid) col.sort();
  return {
    ...base,
    ci: [quantileSorted(aucs, lo), quantileSorted(aucs, hi)],
    band: {
      fpr: grid,
      tprLower: tprAtGrid.map((c) => quantileSorted(c, lo)),
      tprUpper: tprAtGrid.map((c) => quantileSorted(c, hi)),
    },
    warnings: [],
  };
}

/**
 * TPR of a ROC curve (points with non-decreasing fpr and tpr) at each grid FPR: linear between
 * neighbouring points, and the highest TPR where the curve is vertical at exactly that FPR.
 */
export function interpolateRoc(fpr: ArrayLike<number>, tpr: ArrayLike<number>, grid: readonly number[], set: (gridIndex: number, tpr: number) => void): void {
  let k = 0;
  const m = fpr.length;
  for (let gi = 0; gi < grid.length; gi++) {
    const x = grid[gi]!;
    while (k + 1 < m && fpr[k + 1]! <= x) k++;
    // fpr[k] <= x < fpr[k+1] (or k is the last point)
    if (k + 1 >= m || fpr[k]! === x) set(gi, tpr[k]!);
    else {
      const x0 = fpr[k]!;
      const x1 = fpr[k + 1]!;
      set(gi, tpr[k]! + ((x - x0) / (x1 - x0)) * (tpr[k + 1]! - tpr[k]!));
    }
  }
}
