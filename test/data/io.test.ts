import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVolumeFile, writeFileAtomic, writeVolumeFile } from '../../src/data/io.node.js';
import { diagonalAffine, type Volume } from '../../src/data/volume.js';
import { Rng } from '../../src/util/rng.js';

describe('io.node', () => {
  it('writes .nii.gz (gzip by suffix) and .nii atomically and reads them back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-io-'));
    try {
      const vol: Volume = {
        data: new Rng(1).normalArray(4 * 5 * 6),
        dims: [4, 5, 6],
        spacing: [3, 1, 1],
        affine: diagonalAffine([3, 1, 1], [1, 2, 3]),
        warnings: [],
      };
      for (const f of ['a.nii.gz', 'b.nii']) {
        const p = join(dir, f);
        writeVolumeFile(p, vol);
        const raw = readFileSync(p);
        expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(f.endsWith('.gz'));
        const back = readVolumeFile(p);
        expect(back.source).toBe(p);
        expect(Array.from(back.data)).toEqual(Array.from(vol.data));
      }
      expect(readdirSync(dir).sort()).toEqual(['a.nii.gz', 'b.nii']); // no temporary files left
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('atomic write replaces the target in one step and cleans up on failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-io-'));
    try {
      const p = join(dir, 'x.bin');
      writeFileSync(p, 'old');
      writeFileAtomic(p, new TextEncoder().encode('new contents'));
      expect(readFileSync(p, 'utf8')).toBe('new contents');
      expect(() => writeFileAtomic(join(dir, 'missing-dir', 'y.bin'), new Uint8Array(3))).toThrow(/missing-dir.*could not write/);
      expect(readdirSync(dir)).toEqual(['x.bin']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('errors name the path: missing file, directory, file over the cap, non-NIfTI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-io-'));
    try {
      expect(() => readVolumeFile(join(dir, 'nope.nii'))).toThrow(/nope\.nii: cannot read/);
      expect(() => readVolumeFile(dir)).toThrow(/cannot read the volume file \(it is a folder\)/);
      const p = join(dir, 'text.nii');
      writeFileSync(p, 'this is not an image at all, just some text bytes');
      expect(() => readVolumeFile(p, { maxFileBytes: 10 })).toThrow(/text\.nii: the file is 49 bytes, over the 10 bytes cap/);
      expect(() => readVolumeFile(p)).toThrow(/text\.nii: not a NIfTI file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
