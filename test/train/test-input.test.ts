/**
 * The test-time depth policy: a volume-level model is tested on the stack's central D slices, which
 * depend on neither the label nor the annotation (the training window around the representative slices
 * does); the loader keeps that crop beside the training window, and a fold's test set uses it.
 */
import { describe, expect, it } from 'vitest';
import type { ManifestRow } from '../../src/data/manifest.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import { sampleFromVolume } from '../../src/train/cohort.js';
import { type Sample, centralDepth, centralStart, depthWindow, fitDepth, testSamples } from '../../src/train/dataset.js';

/** A [D, 1, 1] stack whose slice d holds the value d: windows read as their slice indices. */
const stack = (D: number) => Float32Array.from({ length: D }, (_, d) => d);

describe('central test input', () => {
  it('centralStart/depthWindow: the central slices, edge slices repeated when the stack is short', () => {
    expect(centralStart(10, 4)).toBe(3);
    expect(centralStart(9, 4)).toBe(2);
    expect(centralStart(4, 4)).toBe(0);
    expect(centralStart(3, 6)).toBe(-1);
    expect(Array.from(depthWindow(stack(10), [10, 1, 1], 3, 4))).toEqual([3, 4, 5, 6]);
    expect(Array.from(depthWindow(stack(3), [3, 1, 1], -1, 6))).toEqual([0, 0, 1, 2, 2, 2]);
    expect(() => depthWindow(stack(3), [4, 1, 1], 0, 2)).toThrow(/dims \[4, 1, 1\] need 4/);
  });

  it('does not move with the annotation, unlike the training window', () => {
    const base = { id: 'a', label: 1 as const, volume: stack(20), dims: [20, 1, 1] as [number, number, number] };
    for (const rep of [[2], [9, 10], [17]]) {
      const c = centralDepth({ ...base, repSlices: rep }, 6);
      expect(Array.from(c.volume)).toEqual([7, 8, 9, 10, 11, 12]);
      expect(c.repSlices).toEqual(rep.map((r) => r - 7).filter((r) => r >= 0 && r < 6));
      const w = fitDepth({ ...base, repSlices: rep }, 6);
      for (const r of rep) expect(w.volume[w.repSlices[rep.indexOf(r)]!]).toBe(r); // the window follows the annotation
    }
  });

  it('the loader keeps it when asked; testSamples swaps it in for volume heads only', () => {
    const vol: Volume = {
      data: Float32Array.from({ length: 12 * 8 * 8 }, (_, i) => Math.floor(i / 64) + (i % 7) * 0.01),
      dims: [12, 8, 8],
      spacing: [3, 1, 1],
      affine: diagonalAffine([3, 1, 1]),
      warnings: [],
    };
    const row: ManifestRow = { subject: 's1', path: 'v.nii', file: 'v.nii', label: 'T3', slices: [1, 2], line: 2 };
    const plain = sampleFromVolume(row, vol, { size: 8, depth: 4, biasField: false });
    expect(plain.central).toBeUndefined();
    const s = sampleFromVolume(row, vol, { size: 8, depth: 4, biasField: false, testInput: 'central' });
    expect(s.dims).toEqual([4, 8, 8]);
    expect(s.central!.dims).toEqual([4, 8, 8]);
    // The window starts at slice 0 (around slices 1–2), the central crop at slice 4: different inputs.
    expect(Array.from(s.central!.volume)).not.toEqual(Array.from(s.volume));
    expect(s.central!.repSlices).toEqual([]); // slices 1–2 lie outside the central 4–7
    const [t] = testSamples([s], 'central', 'bilinear');
    expect(t!.volume).toBe(s.central!.volume);
    expect(t!.repSlices).toEqual([]);
    expect(testSamples([s], 'window', 'bilinear')[0]!.volume).toBe(s.volume);
    expect(testSamples([s], 'central', 'slice')[0]!.volume).toBe(s.volume);
    expect(() => testSamples([plain as Sample], 'central', 'attention')).toThrow(/s1 has no central test input/);
  });
});
