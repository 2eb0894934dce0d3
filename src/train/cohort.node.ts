/** Node file layer of cohort loading: a manifest on disk and the NIfTI files it names. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { readVolumeFile } from '../data/io.node.js';
import { GENERATOR_VERSION } from '../data/synth.node.js';
import { type ManifestRow, parseManifest } from '../data/manifest.js';
import { type CohortOptions, generateCohortSubject, planCohort } from '../data/synth.js';
import { type CohortLoadOptions, loadCohort, prepareVolume } from './cohort.js';
import type { ExperimentConfig } from './experiment.js';
import type { TruthSource } from './saliency-truth.js';
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

/**
 * Ground truth for a synthetic cohort written by `writeSyntheticCohort` (its manifest and the settings
 * it was generated with): each subject's anatomy regenerated from its seed, next to its volume file
 * preprocessed as the run `cfg` loads it. For the report's saliency-vs-truth table.
 */
export function syntheticTruth(manifestPath: string, settings: CohortOptions, cfg: Pick<ExperimentConfig, 'inputSize' | 'biasField'>): TruthSource {
  const rows = new Map(readManifest(manifestPath).map((r) => [r.subject, r]));
  const plan = new Map(planCohort(settings).map((e) => [e.subject, e]));
  return (id) => {
    const row = rows.get(id);
    const entry = plan.get(id);
    if (!row || !entry) return null;
    const { anatomy } = generateCohortSubject(entry, settings);
    const prepared = prepareVolume(readVolumeFile(row.file), { size: cfg.inputSize, biasField: cfg.biasField, ...(row.roi ? { roi: row.roi } : {}) });
    return { anatomy, prepared, repSlices: row.slices };
  };
}

/**
 * `syntheticTruth` for a manifest written by `voxelgrad synth` / the demo (a `cohort.json` of this
 * generator version beside it); null for any other manifest.
 */
export function syntheticTruthBeside(manifestPath: string, cfg: Pick<ExperimentConfig, 'inputSize' | 'biasField'>): TruthSource | null {
  const meta = join(dirname(resolve(manifestPath)), 'cohort.json');
  if (!existsSync(meta)) return null;
  let settings: (CohortOptions & { version?: number }) | undefined;
  try {
    settings = (JSON.parse(readFileSync(meta, 'utf8')) as { settings?: CohortOptions & { version?: number } }).settings;
  } catch {
    return null;
  }
  if (!settings || settings.version !== GENERATOR_VERSION) return null;
  return syntheticTruth(manifestPath, settings, cfg);
}
