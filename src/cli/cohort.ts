/**
 * Loads a manifest's volumes into training samples: read NIfTI → (bias-field correction) → in-plane
 * ROI crop when the manifest gives one → resize to S×S → percentile clip + z-score → fit to D slices
 * around the representative slices. Every file problem is reported with the manifest line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readVolumeFile } from '../data/io.node.js';
import { type ManifestRow, checkRowAgainstVolume, parseManifest } from '../data/manifest.js';
import { preprocessVolume } from '../data/preprocess.js';
import type { Volume } from '../data/volume.js';
import { type Sample, fitDepth } from '../train/dataset.js';
import type { Progress } from '../util/progress.js';

export class BadInputError extends Error {
  readonly exitCode = 4;
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

export interface CohortLoadOptions {
  size: number;
  depth: number;
  biasField: boolean;
  progress?: Progress;
}

export function readManifest(path: string): ManifestRow[] {
  if (!existsSync(path)) throw new BadInputError(`manifest ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  try {
    return parseManifest(text, { name: path, baseDir: dirname(resolve(path)), exists: existsSync });
  } catch (e) {
    throw new BadInputError((e as Error).message);
  }
}

/** The preprocessing chain for one volume (shared by train and predict). */
export function prepareVolume(vol: Volume, opts: { size: number; biasField: boolean; roi?: ManifestRow['roi'] }): Volume {
  // The ROI's depth range is not cropped: depth is fitted around the representative slices instead.
  const roi = opts.roi ? { d: null, h: opts.roi.h, w: opts.roi.w } : undefined;
  return preprocessVolume(vol, { biasField: opts.biasField, size: opts.size, ...(roi ? { roi } : {}) });
}

export function loadCohort(rows: readonly ManifestRow[], opts: CohortLoadOptions): Sample[] {
  const samples: Sample[] = [];
  for (const row of rows) {
    let vol: Volume;
    try {
      vol = readVolumeFile(row.file);
      checkRowAgainstVolume(row, vol.dims);
    } catch (e) {
      throw new BadInputError(`manifest line ${row.line} (subject ${row.subject}): ${(e as Error).message}`);
    }
    const v = prepareVolume(vol, { size: opts.size, biasField: opts.biasField, ...(row.roi ? { roi: row.roi } : {}) });
    const s: Sample = {
      id: row.subject,
      label: row.label === 'T3' ? 1 : 0,
      volume: v.data,
      dims: v.dims,
      repSlices: row.slices,
      ...(row.fold !== undefined ? { fold: row.fold } : {}),
    };
    samples.push(fitDepth(s, opts.depth));
    opts.progress?.tick();
  }
  return samples;
}
