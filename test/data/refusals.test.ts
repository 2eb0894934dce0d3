/**
 * The refusals of issue 16, one case each: sizes from a file checked before anything of that size exists,
 * 2-D / single-slice input refused where a volume is needed, repairs reported as structured warnings.
 * (Generated inputs of every kind: fuzz.test.ts.)
 */
import { gzipSync as zgzip, constants as zconst } from 'node:zlib';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src/data/nifti.js';
import { preprocessVolume } from '../../src/data/preprocess.js';
import { MIN_VOLUME_DIMS, formatWarning } from '../../src/data/volume.js';
import { InputError, formatBytes } from '../../src/util/errors.js';
import { buildNifti } from './helpers/nifti-builder.js';

function catchErr(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e, `a raw ${(e as Error)?.name}: ${(e as Error)?.message}`).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

/**
 * A real .nii.gz of a 1024×1024×480 int16 volume of zeros (960 MiB inflated) in about 1 MB: the header
 * member, then one 16-MiB zero member repeated (gzip members concatenate), without ever holding the
 * inflated volume.
 */
function bigZeroVolumeGz(): Uint8Array {
  const header = buildNifti({ dim: [3, 1024, 1024, 480], datatype: 4, values: [] });
  const chunk = zgzip(new Uint8Array(16 * 2 ** 20), { level: zconst.Z_BEST_COMPRESSION });
  const members = (1024 * 1024 * 480 * 2) / (16 * 2 ** 20);
  const head = gzipSync(header);
  const out = new Uint8Array(head.length + members * chunk.length);
  out.set(head);
  for (let i = 0; i < members; i++) out.set(chunk, head.length + i * chunk.length);
  return out;
}

describe('sizes from a file are checked before allocating', () => {
  it('a 1 MB .nii.gz that inflates to 1024×1024×480 fails in well under a second, naming the numbers, without allocating the volume', () => {
    const file = bigZeroVolumeGz();
    expect(file.length).toBeLessThan(1.5e6);
    // Warm the code path once (JIT, ICU number formatting) on a small file declaring the same size:
    // the time asked about is the refusal's, not the first call of a process.
    catchErr(() => readNifti(gzipSync(buildNifti({ dim: [3, 1024, 1024, 480], datatype: 4, values: [] })), { name: 'warm.nii.gz' }));
    const ab0 = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const e = catchErr(() => readNifti(file, { name: 'big.nii.gz' }));
    const ms = performance.now() - t0;
    const grew = process.memoryUsage().arrayBuffers - ab0;
    console.log(`1024×1024×480 .nii.gz (${formatBytes(file.length)}): refused in ${ms.toFixed(1)} ms, array buffers +${formatBytes(grew)}: ${e.message}`);
    expect(ms).toBeLessThan(500);
    expect(grew).toBeLessThan(8 * 2 ** 20);
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(
      /^big\.nii\.gz: the header declares 1024×1024×480 int16 voxels = 503,316,480 voxels \(960\.0 MiB to read, 1\.9 GiB as float32\); the loader takes at most 134,217,728/,
    );
  });

  it('a volume under maxVoxels that needs more memory than the budget is refused before inflating', () => {
    const file = gzipSync(buildNifti({ dim: [3, 64, 64, 16], datatype: 16, values: new Float32Array(64 * 64 * 16) }));
    const e = catchErr(() => readNifti(file, { name: 'v.nii.gz', budget: { hostBytes: 300_000 } }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(
      /^v\.nii\.gz: loading 64×64×16 float32 voxels \(256\.3 KiB inflated from .*\) needs about .* but only 293\.0 KiB of memory is available/,
    );
    // The same file with room: loads.
    expect(readNifti(file, { name: 'v.nii.gz', budget: { hostBytes: 10e6 } }).dims).toEqual([16, 64, 64]);
  });
});

describe('what is not a volume is refused where a volume is needed', () => {
  it('a 2-D image (one slice) loads for inspection, and preprocessing refuses it saying what and what to do', () => {
    const twoD = readNifti(buildNifti({ dim: [2, 32, 32], datatype: 16, values: new Float32Array(32 * 32).fill(3) }), { name: 'slice.nii' });
    expect(Math.min(...twoD.dims)).toBe(1);
    const e = catchErr(() => preprocessVolume(twoD, { size: 16 }));
    expect(e.code).toBe('unsuitable');
    expect(e.message).toMatch(
      /^slice\.nii: a single slice \(32×32 pixels, 1 slice\) is not a volume; the networks need at least 2 slices — export the whole series as one 3-D NIfTI/,
    );
  });

  it('a 4-D series of one slice (cut to its first volume) is a single slice too; a strip is not an image', () => {
    const series = readNifti(buildNifti({ dim: [4, 32, 32, 1, 5], datatype: 2, values: new Uint8Array(32 * 32 * 5).fill(9) }), { name: 'series.nii' });
    expect(series.warnings.map((w) => w.code)).toContain('first-volume-only');
    expect(catchErr(() => preprocessVolume(series, { size: 16 })).message).toMatch(/single slice/);
    const strip = readNifti(buildNifti({ dim: [3, 64, 1, 12], datatype: 2, values: new Uint8Array(64 * 12).fill(1), pixdim: [1, 1, 1, 3] }), {
      name: 'strip.nii',
    });
    expect(strip.dims[1] < MIN_VOLUME_DIMS[1] || strip.dims[2] < MIN_VOLUME_DIMS[2]).toBe(true);
    expect(catchErr(() => preprocessVolume(strip, { size: 16 })).message).toMatch(/^strip\.nii: .* is not an image volume/);
  });

  it('an input size beyond 1024 is refused before resizing', () => {
    const v = readNifti(buildNifti({ dim: [3, 16, 16, 4], datatype: 16, values: new Float32Array(16 * 16 * 4).fill(1) }), { name: 'ok.nii' });
    const t0 = performance.now();
    const e = catchErr(() => preprocessVolume(v, { size: 6000 }));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e.message).toMatch(/input size 6000×6000 .* between 1 and 1024/);
  });
});

describe('loader repairs are structured warnings', () => {
  it('4-D cut, NaN/Inf voxels set to 0 and bytes after the gzip stream each give one warning with a code, the file and a count', () => {
    const values = [1, Number.NaN, 3, Number.POSITIVE_INFINITY, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    const four = buildNifti({ dim: [4, 2, 2, 2, 2], datatype: 16, values });
    const gz = new Uint8Array([...gzipSync(four), 0xde, 0xad, 0xbe, 0xef, 0x00]);
    const v = readNifti(gz, { name: 'rep.nii.gz' });
    const byCode = Object.fromEntries(v.warnings.map((w) => [w.code, w]));
    expect(Object.keys(byCode).sort()).toEqual(['first-volume-only', 'gzip-trailing-data', 'inf-voxels', 'nan-voxels']);
    expect(byCode['nan-voxels']).toEqual({ code: 'nan-voxels', source: 'rep.nii.gz', message: '1 NaN voxels replaced with 0', count: 1 });
    expect(byCode['inf-voxels']!.count).toBe(1);
    expect(byCode['first-volume-only']!.count).toBe(2);
    expect(formatWarning(byCode['gzip-trailing-data']!)).toMatch(/^rep\.nii\.gz: data after the gzip stream could not be inflated .*; ignored$/);
    expect(Array.from(v.data.subarray(0, 4))).toEqual([1, 0, 3, 0]);
    // JSON as a script gets it (the CLI's --json prints these objects).
    expect(JSON.parse(JSON.stringify(v.warnings))).toEqual(v.warnings);
  });
});
