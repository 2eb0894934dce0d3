#!/usr/bin/env node
// Writes the page's two demo volumes (web/public/volumes/synthetic-t2|t3.nii.gz): one subject of each
// class from the built-in synthetic generator with the cpu preset's cohort settings, drawn from a
// cohort seed the demo model never trained on (its cohort uses seed 0). Run after `npm run build`:
//   node web/scripts/demo-volumes.mjs [seed]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeNifti } from '../../dist/src/data/nifti.js';
import { generateCohortSubject, planCohort } from '../../dist/src/data/synth.js';
import { PRESETS } from '../../dist/src/train/presets.js';

const seed = Number(process.argv[2] ?? 2026);
const cohort = { ...PRESETS.cpu.cohort, n2: 1, n3: 1, seed, prefix: 'demo' };
for (const e of planCohort(cohort)) {
  const s = generateCohortSubject(e, cohort);
  const out = fileURLToPath(new URL(`../public/volumes/synthetic-${e.label.toLowerCase()}.nii.gz`, import.meta.url));
  writeFileSync(out, writeNifti(s.volume, { datatype: 'int16', gzip: true, description: `voxelgrad synthetic ${e.label} (cohort seed ${seed}, ${e.subject})` }));
  console.log(`${out}: ${e.label}, ${s.volume.dims.join('×')} voxels, representative slices ${s.representativeSlices.join(';')}`);
}
