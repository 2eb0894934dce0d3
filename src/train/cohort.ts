/**
 * From volumes to training samples: (bias-field correction) → in-plane ROI crop when the manifest gives
 * one → resize to S×S → percentile clip + z-score → fit to D slices around the representative slices (and, when asked, the stack's central D slices
 * as the label-free test input).
 * Browser-safe: volumes come from a reader the caller supplies (files in Node: cohort.node.ts; bytes or
 * the synthetic generator in a page). Every problem is reported with the manifest line.
 */
import { InputError } from '../util/errors.js';
import { type ManifestRow, checkRowAgainstVolume } from '../data/manifest.js';
import { preprocessVolume } from '../data/preprocess.js';
import type { Volume } from '../data/volume.js';
import { type Sample, type TestInput, centralDepth, fitDepth } from './dataset.js';

export interface CohortLoadOptions {
  size: number;
  depth: number;
  biasField: boolean;
  /** 'central': also keep each stack's central `depth` slices as its label-free test input (`Sample.central`). */
  testInput?: TestInput;
  /** Called after each volume (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** The preprocessing chain for one volume (shared by training, prediction and the page). */
export function prepareVolume(vol: Volume, opts: { size: number; biasField: boolean; roi?: ManifestRow['roi'] }): Volume {
  // The ROI's depth range is not cropped: depth is fitted around the representative slices instead.
  const roi = opts.roi ? { d: null, h: opts.roi.h, w: opts.roi.w } : undefined;
  return preprocessVolume(vol, { biasField: opts.biasField, size: opts.size, ...(roi ? { roi } : {}) });
}

/** One manifest row and its (raw) volume → a training sample. */
export function sampleFromVolume(row: ManifestRow, vol: Volume, opts: Omit<CohortLoadOptions, 'onProgress'>): Sample {
  return fitDepth(stackFromVolume(row, vol, opts), opts.depth);
}

/** One manifest row and its (raw) volume → the preprocessed whole stack, before the depth is fitted. */
export function stackFromVolume(row: ManifestRow, vol: Volume, opts: Omit<CohortLoadOptions, 'onProgress'>): Sample {
  try {
    checkRowAgainstVolume(row, vol.dims); // its message names the manifest line and subject
  } catch (e) {
    throw new InputError('unsuitable', (e as Error).message);
  }
  const v = prepareVolume(vol, { size: opts.size, biasField: opts.biasField, ...(row.roi ? { roi: row.roi } : {}) });
  const s: Sample = {
    id: row.subject,
    label: row.label === 'T3' ? 1 : 0,
    volume: v.data,
    dims: v.dims,
    repSlices: row.slices,
    ...(row.fold !== undefined ? { fold: row.fold } : {}),
    ...(v.warnings.length ? { warnings: v.warnings } : {}),
  };
  if (opts.testInput === 'central') s.central = centralDepth(s, opts.depth);
  return s;
}

/** Loads every row through `readVolume` (which names the file in its errors) into samples. */
export function loadCohort(rows: readonly ManifestRow[], readVolume: (row: ManifestRow) => Volume, opts: CohortLoadOptions): Sample[] {
  const samples: Sample[] = [];
  for (const row of rows) {
    let vol: Volume;
    try {
      vol = readVolume(row);
    } catch (e) {
      const where = `manifest line ${row.line} (subject ${row.subject})`;
      if (e instanceof InputError) throw new InputError(e.code, `${where}: ${e.message}`, e.source ?? row.file);
      throw new InputError('unreadable', `${where}: ${(e as Error).message}`, row.file);
    }
    samples.push(sampleFromVolume(row, vol, opts));
    opts.onProgress?.(samples.length, rows.length);
  }
  return samples;
}

/** A cohort cross-validation can run on: both classes, and at least two subjects per fold. */
export function checkCohort(samples: readonly Sample[], folds: number, name: string): void {
  const n3 = samples.filter((s) => s.label === 1).length;
  if (n3 === 0 || n3 === samples.length)
    throw new InputError('unsuitable', `${name}: all ${samples.length} subjects are ${n3 ? 'T3' : 'T2'}; training needs both classes`);
  if (samples.length < folds * 2)
    throw new InputError('unsuitable', `${name}: ${samples.length} subjects are too few for ${folds}-fold cross-validation; lower --folds`);
}
