import { describe, expect, it } from 'vitest';
import { makeFolds, mixSeed, oversampleMinority, type FoldSubject } from '../../src/train/folds.js';
import { Rng } from '../../src/util/rng.js';

/** The paper's cohort shape: 168 T2, 399 T3, one volume per patient, shuffled label order. */
function paperCohort(): FoldSubject[] {
  const labels: Array<0 | 1> = [...new Array<0>(168).fill(0), ...new Array<1>(399).fill(1)];
  new Rng(99).shuffle(labels);
  return labels.map((label, i) => ({ id: `S${String(i).padStart(3, '0')}`, label }));
}

function checkPartition(subjects: FoldSubject[], plan: ReturnType<typeof makeFolds>): void {
  const n = subjects.length;
  const seenTest = new Array<number>(n).fill(0);
  for (const s of plan.splits) {
    for (const i of s.test) seenTest[i]!++;
    const all = [...s.train, ...s.val, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i)); // coverage, no overlap within a fold
    for (const i of s.test) expect(plan.assignment[i]).toBe(s.fold);
  }
  expect(seenTest.every((c) => c === 1)).toBe(true); // each subject tested exactly once
}

describe('makeFolds', () => {
  it('partitions the paper cohort into 10 stratified folds', () => {
    const subjects = paperCohort();
    const plan = makeFolds(subjects, { seed: 1 });
    expect(plan.k).toBe(10);
    checkPartition(subjects, plan);
    const t2 = plan.splits.map((s) => s.test.filter((i) => subjects[i]!.label === 0).length);
    const t3 = plan.splits.map((s) => s.test.filter((i) => subjects[i]!.label === 1).length);
    expect(Math.max(...t2) - Math.min(...t2)).toBeLessThanOrEqual(1);
    expect(Math.max(...t3) - Math.min(...t3)).toBeLessThanOrEqual(1);
    expect(t2.reduce((a, b) => a + b)).toBe(168);
    const sizes = plan.splits.map((s) => s.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(plan.classCounts.map((c) => c[0])).toEqual(t2);
    expect(plan.warnings).toEqual([]);
  });

  it('is deterministic by seed and changes with it', () => {
    const subjects = paperCohort();
    expect(makeFolds(subjects, { seed: 4 })).toEqual(makeFolds(subjects, { seed: 4 }));
    expect(makeFolds(subjects, { seed: 4 }).assignment).not.toEqual(makeFolds(subjects, { seed: 5 }).assignment);
  });

  it('keeps all volumes of one patient in one fold and honours fixed folds', () => {
    const rng = new Rng(2);
    const subjects: FoldSubject[] = [];
    for (let p = 0; p < 40; p++) {
      const label = p % 3 === 0 ? 0 : 1;
      const nVol = rng.int(1, 4);
      for (let v = 0; v < nVol; v++) {
        subjects.push({ id: `P${p}-v${v}`, group: `P${p}`, label, ...(p < 5 && v === 0 ? { fold: p % 4 } : {}) });
      }
    }
    const plan = makeFolds(subjects, { k: 4, seed: 3, valFraction: 0.2 });
    checkPartition(subjects, plan);
    const foldOfPatient = new Map<string, number>();
    subjects.forEach((s, i) => {
      const f = plan.assignment[i]!;
      expect(foldOfPatient.get(s.group!) ?? f).toBe(f);
      foldOfPatient.set(s.group!, f);
    });
    for (let p = 0; p < 5; p++) expect(foldOfPatient.get(`P${p}`)).toBe(p % 4);
    // Validation patients come from the training folds and are never split from their other volumes.
    for (const s of plan.splits) {
      const valPatients = new Set(s.val.map((i) => subjects[i]!.group));
      const trainPatients = new Set(s.train.map((i) => subjects[i]!.group));
      for (const p of valPatients) expect(trainPatients.has(p)).toBe(false);
      expect(s.val.some((i) => subjects[i]!.label === 0)).toBe(true);
      expect(s.val.some((i) => subjects[i]!.label === 1)).toBe(true);
    }
  });

  it('draws about valFraction of each class as validation', () => {
    const subjects = paperCohort();
    const plan = makeFolds(subjects, { seed: 0, valFraction: 0.1 });
    checkPartition(subjects, plan);
    for (const s of plan.splits) {
      const t2Train = [...s.train, ...s.val].filter((i) => subjects[i]!.label === 0).length;
      const t2Val = s.val.filter((i) => subjects[i]!.label === 0).length;
      expect(t2Val).toBe(Math.round(0.1 * t2Train));
    }
  });

  it('warns when a class has fewer patients than folds', () => {
    const subjects: FoldSubject[] = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, label: i < 3 ? 0 : 1 }));
    const plan = makeFolds(subjects, { k: 5 });
    checkPartition(subjects, plan);
    expect(plan.warnings[0]).toMatch(/only 3 T2 patients for 5 folds/);
  });

  it('rejects bad input with clear errors', () => {
    const ok: FoldSubject[] = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, label: (i % 2) as 0 | 1 }));
    expect(() => makeFolds(ok, { k: 1 })).toThrow(/k must be an integer >= 2/);
    expect(() => makeFolds(ok, { k: 7 })).toThrow(/6 patients cannot fill 7 folds/);
    expect(() => makeFolds([...ok, { id: 's0', label: 0 }], { k: 2 })).toThrow(/"s0" appears twice/);
    expect(() => makeFolds([{ ...ok[0]!, fold: 3 }, ...ok.slice(1)], { k: 3 })).toThrow(/fixed fold 3.*below k = 3/);
    expect(() => makeFolds([{ id: 'a', group: 'p', label: 0, fold: 0 }, { id: 'b', group: 'p', label: 0, fold: 1 }, ...ok], { k: 2 })).toThrow(
      /patient "p" has volumes fixed to folds 0 and 1/,
    );
    expect(() => makeFolds([{ id: 'x', label: 2 as 0 }, ...ok], { k: 2 })).toThrow(/label 2/);
  });
});

describe('oversampleMinority', () => {
  const subjects = paperCohort();
  const labels = subjects.map((s) => s.label);
  const plan = makeFolds(subjects, { seed: 7 });

  it('balances the classes using training subjects only', () => {
    for (const s of plan.splits.slice(0, 3)) {
      const out = oversampleMinority(s.train, labels, mixSeed(7, s.fold, 0));
      const n0 = out.filter((i) => labels[i] === 0).length;
      const n1 = out.filter((i) => labels[i] === 1).length;
      expect(n0).toBe(n1);
      expect(n1).toBe(s.train.filter((i) => labels[i] === 1).length);
      const train = new Set(s.train);
      const test = new Set(s.test);
      for (const i of out) {
        expect(train.has(i)).toBe(true);
        expect(test.has(i)).toBe(false);
      }
      // every original training index is kept; duplication is even (counts differ by at most one)
      const counts = new Map<number, number>();
      for (const i of out) counts.set(i, (counts.get(i) ?? 0) + 1);
      expect(counts.size).toBe(s.train.length);
      const minorityCounts = s.train.filter((i) => labels[i] === 0).map((i) => counts.get(i)!);
      expect(Math.max(...minorityCounts) - Math.min(...minorityCounts)).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic by seed and varies with it', () => {
    const tr = plan.splits[0]!.train;
    expect(oversampleMinority(tr, labels, 1)).toEqual(oversampleMinority(tr, labels, 1));
    expect(oversampleMinority(tr, labels, 1)).not.toEqual(oversampleMinority(tr, labels, 2));
  });

  it('throws when a class is missing from the training set', () => {
    expect(() => oversampleMinority([0, 1], [1, 1], 0)).toThrow(/no T2 subjects/);
    expect(() => oversampleMinority([5], [1, 1], 0)).toThrow(/index 5 is outside/);
  });
});

describe('mixSeed', () => {
  it('is stable and distinguishes its parts', () => {
    expect(mixSeed(1, 2, 3)).toBe(mixSeed(1, 2, 3));
    const seen = new Set<number>();
    for (let a = 0; a < 20; a++) for (let b = 0; b < 20; b++) seen.add(mixSeed(a, b));
    expect(seen.size).toBe(400);
    expect(mixSeed('val', 1)).not.toBe(mixSeed('vam', 1));
  });
});
