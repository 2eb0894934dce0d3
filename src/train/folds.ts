/**
 * Patient-level, label-stratified k-fold cross-validation (paper Section 2.1: 10 folds) and minority
 * oversampling inside the training folds (Section 2.5). Everything returns index lists into the
 * caller's subject array, so it works the same for the synthetic cohort and a manifest of NIfTI files.
 *
 * Label convention: 1 = T3, 0 = T2 (as in metrics.ts).
 */
import { Rng } from '../util/rng.js';

export interface FoldSubject {
  /** Unique per row (one volume). */
  id: string;
  label: 0 | 1;
  /** Patient id; rows sharing it always land in the same fold (default: `id`, one volume per patient). */
  group?: string;
  /** Fixed 0-based test fold from the manifest; rows of one group must agree. */
  fold?: number;
}

export interface FoldOptions {
  /** Number of folds (default 10, the paper's). */
  k?: number;
  /** Seed of the assignment (default 0). The same seed and subjects give the same folds. */
  seed?: number;
  /**
   * Fraction of each fold's training groups (per class) held out as a validation set for learning
   * curves / model selection (default 0 = no validation set, as the paper reports only hold-out scores).
   */
  valFraction?: number;
}

export interface FoldSplit {
  /** 0-based fold index: `test` is this fold's subjects. */
  fold: number;
  /** Subject indices to train on (before oversampling), ascending. */
  train: number[];
  /** Subject indices for validation (drawn from the training folds; empty when valFraction = 0), ascending. */
  val: number[];
  /** Subject indices of the hold-out fold, ascending. */
  test: number[];
}

export interface FoldPlan {
  k: number;
  seed: number;
  valFraction: number;
  /** Test fold of each subject (index-aligned with the input). */
  assignment: number[];
  splits: FoldSplit[];
  /** Per fold, [nT2, nT3] in its test set. */
  classCounts: Array<[number, number]>;
  /** Non-fatal problems (e.g. fewer T2 patients than folds, so some test folds have no T2). */
  warnings: string[];
}

/** Deterministic 32-bit seed from several parts (e.g. run seed, fold, epoch), so sub-streams are stable on resume. */
export function mixSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) throw new Error(`mixSeed: part ${p} is not finite`);
      mix(p >>> 0);
      mix(Math.floor(p / 4294967296) >>> 0);
    } else {
      mix(0x9e3779b9 ^ p.length);
      for (let i = 0; i < p.length; i++) mix(p.charCodeAt(i));
    }
  }
  return h;
}

interface Group {
  key: string;
  members: number[];
  label: 0 | 1;
  fixed: number | undefined;
}

function buildGroups(subjects: readonly FoldSubject[], k: number): Group[] {
  const ids = new Set<string>();
  const byKey = new Map<string, Group>();
  const groups: Group[] = [];
  subjects.forEach((s, i) => {
    if (typeof s.id !== 'string' || s.id === '') throw new Error(`makeFolds: subject ${i} has no id`);
    if (ids.has(s.id)) throw new Error(`makeFolds: subject id "${s.id}" appears twice; ids must be unique (use "group" for several volumes of one patient)`);
    ids.add(s.id);
    if (s.label !== 0 && s.label !== 1) throw new Error(`makeFolds: subject "${s.id}" has label ${String(s.label)}; use 0 (T2) or 1 (T3)`);
    if (s.fold !== undefined && !(Number.isInteger(s.fold) && s.fold >= 0 && s.fold < k)) {
      throw new Error(`makeFolds: subject "${s.id}" has fixed fold ${s.fold}; fixed folds are 0-based integers below k = ${k}`);
    }
    const key = s.group ?? s.id;
    let g = byKey.get(key);
    if (!g) {
      g = { key, members: [], label: s.label, fixed: s.fold };
      byKey.set(key, g);
      groups.push(g);
    } else {
      if (s.fold !== undefined && g.fixed !== undefined && s.fold !== g.fixed) {
        throw new Error(`makeFolds: patient "${key}" has volumes fixed to folds ${g.fixed} and ${s.fold}; one patient must stay in one fold`);
      }
      g.fixed ??= s.fold;
      // A patient with any T3 volume is stratified as T3 (the higher stage).
      if (s.label === 1) g.label = 1;
    }
    g.members.push(i);
  });
  return groups;
}

/**
 * Assigns patients to k test folds, stratified by label, then derives each fold's train/val/test lists.
 *
 * Algorithm: patients with a fixed fold are placed first. Then, per class (T2 first, then T3), the
 * remaining patients are shuffled with `new Rng(seed)` and each is put in the fold that currently has
 * the fewest subjects of that class (ties: fewest subjects overall, then lowest fold index). Fold sizes
 * per class therefore differ by at most one when no folds are fixed.
 * Validation (valFraction > 0): per fold and class, round(valFraction × #training patients of that
 * class) patients — at least one when the class has two or more — are moved from train to val, drawn
 * with `new Rng(mixSeed(seed, 'val', fold))`.
 */
export function makeFolds(subjects: readonly FoldSubject[], options: FoldOptions = {}): FoldPlan {
  const k = options.k ?? 10;
  const seed = options.seed ?? 0;
  const valFraction = options.valFraction ?? 0;
  if (!Number.isInteger(k) || k < 2) throw new Error(`makeFolds: k must be an integer >= 2, got ${k}`);
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`makeFolds: valFraction must be in [0, 1), got ${valFraction}`);
  const groups = buildGroups(subjects, k);
  if (groups.length < k) {
    throw new Error(`makeFolds: ${groups.length} patients cannot fill ${k} folds; use k <= ${groups.length}`);
  }
  const classCount = Array.from({ length: k }, () => [0, 0]);
  const total = new Array<number>(k).fill(0);
  const groupFold = new Array<number>(groups.length).fill(-1);
  const place = (gi: number, f: number): void => {
    const g = groups[gi]!;
    groupFold[gi] = f;
    classCount[f]![g.label]! += g.members.length;
    total[f]! += g.members.length;
  };
  groups.forEach((g, gi) => {
    if (g.fixed !== undefined) place(gi, g.fixed);
  });
  const rng = new Rng(seed);
  for (const c of [0, 1] as const) {
    const free = rng.shuffle(groups.flatMap((g, gi) => (g.fixed === undefined && g.label === c ? [gi] : [])));
    for (const gi of free) {
      let best = 0;
      for (let f = 1; f < k; f++) {
        const a = classCount[f]![c]!;
        const b = classCount[best]![c]!;
        if (a < b || (a === b && total[f]! < total[best]!)) best = f;
      }
      place(gi, best);
    }
  }

  const assignment = new Array<number>(subjects.length);
  groups.forEach((g, gi) => g.members.forEach((i) => (assignment[i] = groupFold[gi]!)));

  const warnings: string[] = [];
  const nGroupsOf = [0, 1].map((c) => groups.filter((g) => g.label === c).length);
  for (const c of [0, 1]) {
    if (nGroupsOf[c]! < k) {
      warnings.push(
        `only ${nGroupsOf[c]} ${c === 0 ? 'T2' : 'T3'} patients for ${k} folds: some test folds have no ` +
          `${c === 0 ? 'T2' : 'T3'} subjects, so their AUC and recall are undefined; use fewer folds`,
      );
    }
  }
  classCount.forEach((cc, f) => {
    if (cc[0]! + cc[1]! === 0) warnings.push(`fold ${f} is empty (all patients were fixed to other folds)`);
  });

  const splits: FoldSplit[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const trainGroups: number[][] = [[], []];
    groups.forEach((g, gi) => {
      if (groupFold[gi] === f) test.push(...g.members);
      else trainGroups[g.label]!.push(gi);
    });
    const valGroups = new Set<number>();
    if (valFraction > 0) {
      const vr = new Rng(mixSeed(seed, 'val', f));
      for (const c of [0, 1]) {
        const pool = trainGroups[c]!;
        let nVal = Math.round(valFraction * pool.length);
        if (nVal === 0 && pool.length >= 2) nVal = 1;
        for (const gi of vr.shuffle(pool.slice()).slice(0, nVal)) valGroups.add(gi);
      }
    }
    const train: number[] = [];
    const val: number[] = [];
    for (const c of [0, 1]) {
      for (const gi of trainGroups[c]!) (valGroups.has(gi) ? val : train).push(...groups[gi]!.members);
    }
    const asc = (a: number, b: number): number => a - b;
    splits.push({ fold: f, train: train.sort(asc), val: val.sort(asc), test: test.sort(asc) });
  }
  return {
    k,
    seed,
    valFraction,
    assignment,
    splits,
    classCounts: classCount.map((cc) => [cc[0]!, cc[1]!] as [number, number]),
    warnings,
  };
}

/**
 * Balances classes by duplicating minority-class indices (paper Section 2.5: "we perform oversampling").
 * Every minority index is repeated floor(extra / nMinority) times and a seeded random subset (without
 * replacement) supplies the remainder, so duplication is as even as possible. Returns the input
 * indices plus the duplicates, shuffled with the same generator. Only indices from `indices` appear in
 * the output: pass the fold's training list and the test subjects can never be touched.
 * Call it once per epoch with `mixSeed(runSeed, fold, epoch)` to vary which subjects fill the remainder.
 */
export function oversampleMinority(indices: readonly number[], labels: ArrayLike<number>, seed: number | Rng): number[] {
  const rng = typeof seed === 'number' ? new Rng(seed) : seed;
  const byClass: number[][] = [[], []];
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < labels.length)) {
      throw new Error(`oversampleMinority: index ${i} is outside the ${labels.length} labels`);
    }
    const y = labels[i]!;
    if (y !== 0 && y !== 1) throw new Error(`oversampleMinority: label of subject ${i} is ${y}; use 0 (T2) or 1 (T3)`);
    byClass[y]!.push(i);
  }
  const out = indices.slice();
  const [n0, n1] = [byClass[0]!.length, byClass[1]!.length];
  if (n0 === n1) return rng.shuffle(out);
  const minority = n0 < n1 ? byClass[0]! : byClass[1]!;
  if (minority.length === 0) {
    throw new Error(
      `oversampleMinority: the training set has no ${n0 === 0 ? 'T2' : 'T3'} subjects, so classes cannot be balanced; ` +
        `use fewer folds or a cohort with both stages`,
    );
  }
  const extra = Math.abs(n0 - n1);
  const copies = Math.floor(extra / minority.length);
  for (let c = 0; c < copies; c++) out.push(...minority);
  out.push(...rng.shuffle(minority.slice()).slice(0, extra % minority.length));
  return rng.shuffle(out);
}
