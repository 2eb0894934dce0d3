/**
 * The built-in synthetic cohort straight into training samples, in memory (the page, tests): each
 * subject goes through the same int16 NIfTI encoding and reader that `voxelgrad demo` / `synth` write
 * to disk and `train` reads back, then through `sampleFromVolume` with its manifest row (representative
 * slices, ROI). So a page trained on a preset sees exactly the volumes the CLI's demo trains on.
 */
import type { ManifestRow } from '../data/manifest.js';
import { readNifti, writeNifti } from '../data/nifti.js';
import { type CohortOptions, generateCohortSubject, planCohort } from '../data/synth.js';
import { type CohortLoadOptions, sampleFromVolume } from './cohort.js';
import type { Sample } from './dataset.js';

/** Synthesises `cohort` and prepares every subject as `loadCohort` would from the written files. */
export function syntheticSamples(cohort: CohortOptions, opts: CohortLoadOptions): Sample[] {
  const plan = planCohort(cohort);
  const samples: Sample[] = [];
  for (const e of plan) {
    const s = generateCohortSubject(e, cohort);
    const path = `volumes/${e.subject}.nii.gz`;
    // int16, as writeSyntheticCohort stores it (gzip changes nothing the reader returns).
    const vol = readNifti(writeNifti(s.volume, { datatype: 'int16', description: `voxelgrad synthetic ${e.label}` }), { name: path });
    const row: ManifestRow = { subject: e.subject, path, file: path, label: e.label, slices: s.representativeSlices, roi: s.roi, line: samples.length + 2 };
    samples.push(sampleFromVolume(row, vol, opts));
    opts.onProgress?.(samples.length, plan.length);
  }
  return samples;
}
