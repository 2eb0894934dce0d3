import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVolumeFile } from '../../src/data/io.node.js';
import { checkRowAgainstVolume, parseManifest } from '../../src/data/manifest.js';
import { generateCohortSubject, planCohort } from '../../src/data/synth.js';
import { writeSyntheticCohort } from '../../src/data/synth.node.js';

describe('writeSyntheticCohort', () => {
  it('writes int16 NIfTI volumes and a valid manifest, resumes, and refuses mixed options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-synth-'));
    try {
      const opts = { n2: 2, n3: 3, seed: 4, size: 16, slices: 7 };
      const seen: string[] = [];
      const out = writeSyntheticCohort(dir, opts, (done, total, subject) => seen.push(`${done}/${total} ${subject}`));
      expect(out.generated).toBe(5);
      expect(seen.length).toBe(5);
      const rows = parseManifest(readFileSync(out.manifestPath, 'utf8'), { baseDir: dir, exists: existsSync, name: 'manifest.csv' });
      expect(rows.length).toBe(5);
      const plan = planCohort(opts);
      for (const [i, row] of rows.entries()) {
        expect(row.subject).toBe(plan[i]!.subject);
        expect(row.label).toBe(plan[i]!.label);
        const vol = readVolumeFile(row.file);
        expect(vol.nifti.datatype).toBe('int16');
        checkRowAgainstVolume(row, vol.dims, 'manifest.csv');
        const ref = generateCohortSubject(plan[i]!, opts);
        expect(Array.from(vol.data)).toEqual(Array.from(ref.volume.data)); // lossless
        expect(row.slices).toEqual(ref.representativeSlices);
        vol.spacing.forEach((s, k) => expect(s).toBeCloseTo(ref.volume.spacing[k]!, 5));
      }
      const again = writeSyntheticCohort(dir, opts);
      expect(again.generated).toBe(0);
      expect(readFileSync(again.manifestPath, 'utf8')).toBe(readFileSync(out.manifestPath, 'utf8'));
      expect(() => writeSyntheticCohort(dir, { ...opts, difficulty: 0.9 })).toThrow(/other options/);
      const meta = JSON.parse(readFileSync(join(dir, 'cohort.json'), 'utf8'));
      expect(meta.subjects.length).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the label into the manifest only: not into the NIfTI headers, cohort.json or the progress file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-synth-'));
    try {
      const out = writeSyntheticCohort(dir, { n2: 2, n3: 2, seed: 8, size: 12, slices: 6, sizeMatched: true });
      const rows = parseManifest(readFileSync(out.manifestPath, 'utf8'), { baseDir: dir, exists: existsSync, name: 'manifest.csv' });
      expect(rows.map((r) => r.label).sort()).toEqual(['T2', 'T2', 'T3', 'T3']);
      for (const row of rows) {
        const vol = readVolumeFile(row.file);
        expect(vol.nifti.description).toBe('voxelgrad synthetic');
        // The whole header (and any extension) as text: no stage anywhere.
        const raw = gunzipSync(readFileSync(row.file));
        expect(raw.subarray(0, 352 + 64).toString('latin1')).not.toMatch(/T[23]|label/i);
      }
      for (const f of ['cohort.json', 'subjects.partial.json']) {
        const text = readFileSync(join(dir, f), 'utf8');
        expect(text, f).not.toMatch(/T[23]|label|extension|breach|outgrowth/i);
      }
      expect(readdirSync(dir).sort()).toEqual(['cohort.json', 'manifest.csv', 'subjects.partial.json', 'volumes']);
      // A resumed write rebuilds the same manifest (labels from the plan, not from a file).
      const again = writeSyntheticCohort(dir, { n2: 2, n3: 2, seed: 8, size: 12, slices: 6, sizeMatched: true });
      expect(again.generated).toBe(0);
      expect(readFileSync(again.manifestPath, 'utf8')).toBe(readFileSync(out.manifestPath, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
