/** The page's in-memory synthetic cohort equals what `voxelgrad demo` writes to disk and `train` reads back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticCohort } from '../../src/data/synth.node.js';
import { loadCohortFiles, readManifest } from '../../src/train/cohort.node.js';
import { syntheticSamples } from '../../src/train/synth-samples.js';

describe('syntheticSamples', () => {
  it('gives the samples the CLI loads from the written cohort', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxelgrad-synth-samples-'));
    try {
      const cohort = { n2: 3, n3: 4, size: 32, fovMm: 64, slices: [8, 10] as [number, number], difficulty: 0, seed: 4 };
      const opts = { size: 24, depth: 6, biasField: true };
      const written = writeSyntheticCohort(dir, cohort);
      const files = loadCohortFiles(readManifest(written.manifestPath), opts);
      const progress: number[] = [];
      const mem = syntheticSamples(cohort, { ...opts, onProgress: (d) => progress.push(d) });
      expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(mem.map((s) => [s.id, s.label, s.repSlices, s.dims])).toEqual(files.map((s) => [s.id, s.label, s.repSlices, s.dims]));
      mem.forEach((s, i) => expect(Array.from(s.volume), s.id).toEqual(Array.from(files[i]!.volume)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
