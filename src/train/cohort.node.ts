/** Node file layer of cohort loading: a manifest on disk and the NIfTI files it names. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { readVolumeFile } from '../data/io.node.js';
import { type ManifestRow, parseManifest } from '../data/manifest.js';
import { type CohortLoadOptions, loadCohort } from './cohort.js';
import type { Sample } from './dataset.js';

export function readManifest(path: string): ManifestRow[] {
  if (!existsSync(path)) throw new InputError('unreadable', `manifest ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  try {
    return parseManifest(text, { name: path, baseDir: dirname(resolve(path)), exists: existsSync });
  } catch (e) {
    throw new InputError('unsuitable', (e as Error).message);
  }
}

/** Reads and preprocesses every volume of a manifest's rows. */
export function loadCohortFiles(rows: readonly ManifestRow[], opts: CohortLoadOptions): Sample[] {
  return loadCohort(rows, (row) => readVolumeFile(row.file), opts);
}
