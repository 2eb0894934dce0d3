/**
 * Writes the synthetic cohort to disk: one int16 NIfTI (.nii.gz) per subject under `volumes/`, a
 * `manifest.csv` in the shared manifest format, and `cohort.json` with the generation options (so a
 * second call with the same options resumes by skipping finished subjects, and different options into
 * the same folder are refused rather than mixed).
 *
 * The label is written to the manifest only: not into the NIfTI header, not into cohort.json or the
 * progress file, and nothing else that differs by label (such as the extension depth) is stored, so a
 * script reading the volumes or the side files cannot pick it up by accident.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeVolumeFile } from './io.node.js';
import { formatManifest, type ManifestEntry } from './manifest.js';
import { generateCohortSubject, planCohort, type CohortOptions } from './synth.js';

export interface WriteCohortOptions extends CohortOptions {
  /** Regenerate subjects whose file already exists (default false: resume). */
  overwrite?: boolean;
}

export interface WrittenCohort {
  dir: string;
  manifestPath: string;
  entries: ManifestEntry[];
  /** Subjects generated in this call (the rest already existed). */
  generated: number;
}

/** Subject metadata kept in cohort.json next to the manifest (no label: see the module comment). */
interface SubjectRecord {
  subject: string;
  seed: number;
  dims: [number, number, number];
  spacing: [number, number, number];
}

/** What the progress file keeps per finished subject, to rebuild its manifest row on resume. */
interface ProgressRecord extends SubjectRecord {
  slices: number[];
  roi: ManifestEntry['roi'];
}

/** Version of the generator: cohorts written by another version are not resumed into. */
export const GENERATOR_VERSION = 2;

export function writeSyntheticCohort(
  dir: string,
  opts: WriteCohortOptions = {},
  onProgress?: (done: number, total: number, subject: string) => void,
): WrittenCohort {
  const { overwrite = false, ...cohort } = opts;
  const settings = { version: GENERATOR_VERSION, ...cohort };
  mkdirSync(join(dir, 'volumes'), { recursive: true });
  const metaPath = join(dir, 'cohort.json');
  if (existsSync(metaPath) && !overwrite) {
    let previous: unknown;
    try {
      previous = JSON.parse(readFileSync(metaPath, 'utf8')).settings;
    } catch (e) {
      throw new Error(`${metaPath}: unreadable (${(e as Error).message}); delete it or pass overwrite`);
    }
    if (JSON.stringify(previous) !== JSON.stringify(settings)) {
      throw new Error(`${dir}: already holds a synthetic cohort made with other options (${JSON.stringify(previous)}); use another folder or pass overwrite`);
    }
  }
  // Record the settings first, so an interrupted run is resumed with the same ones.
  writeFileAtomic(metaPath, new TextEncoder().encode(`${JSON.stringify({ settings, subjects: [] }, null, 1)}\n`));
  const plan = planCohort(cohort);
  const entries: ManifestEntry[] = [];
  const records: SubjectRecord[] = [];
  let generated = 0;
  const previousRecords = new Map<string, ProgressRecord>();
  const partial = join(dir, 'subjects.partial.json');
  if (existsSync(partial) && !overwrite) {
    try {
      for (const r of JSON.parse(readFileSync(partial, 'utf8')) as ProgressRecord[]) previousRecords.set(r.subject, r);
    } catch {
      // a torn progress file only costs regeneration
    }
  }
  const progress: ProgressRecord[] = [];
  plan.forEach((e, i) => {
    const rel = `volumes/${e.subject}.nii.gz`;
    const file = join(dir, rel);
    const known = previousRecords.get(e.subject);
    if (!overwrite && known && known.seed === e.seed && Array.isArray(known.slices) && existsSync(file)) {
      // The label comes from the plan (a function of the cohort seed), never from a file.
      entries.push({ subject: e.subject, path: rel, label: e.label, slices: known.slices, ...(known.roi ? { roi: known.roi } : {}) });
      records.push({ subject: known.subject, seed: known.seed, dims: known.dims, spacing: known.spacing });
      progress.push(known);
    } else {
      const s = generateCohortSubject(e, cohort);
      writeVolumeFile(file, s.volume, { datatype: 'int16', description: 'voxelgrad synthetic' });
      const entry: ManifestEntry = { subject: e.subject, path: rel, label: e.label, slices: s.representativeSlices, roi: s.roi };
      const rec: SubjectRecord = { subject: e.subject, seed: e.seed, dims: s.volume.dims, spacing: s.volume.spacing };
      entries.push(entry);
      records.push(rec);
      progress.push({ ...rec, slices: s.representativeSlices, roi: s.roi });
      generated++;
      if (generated % 16 === 0) writeFileAtomic(partial, new TextEncoder().encode(JSON.stringify(progress)));
    }
    onProgress?.(i + 1, plan.length, e.subject);
  });
  const manifestPath = join(dir, 'manifest.csv');
  writeFileAtomic(manifestPath, new TextEncoder().encode(formatManifest(entries)));
  writeFileAtomic(partial, new TextEncoder().encode(JSON.stringify(progress)));
  writeFileAtomic(metaPath, new TextEncoder().encode(`${JSON.stringify({ settings, subjects: records }, null, 1)}\n`));
  return { dir, manifestPath, entries, generated };
}
