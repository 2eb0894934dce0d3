import { formatWarning } from '../../src/data/volume.js';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'fflate';
import { readNifti } from '../../src/data/nifti.js';
import { buildNifti, type BuildOptions } from './helpers/nifti-builder.js';

const base = (o: Partial<BuildOptions> = {}): BuildOptions => ({
  dim: [3, 4, 3, 2],
  datatype: 4,
  values: Array.from({ length: 24 }, (_, i) => i * 3 - 20),
  pixdim: [1, 1, 1, 1],
  ...o,
});

/** Reading must throw, and the message must name the file and match the problem. */
function expectError(bytes: Uint8Array, problem: RegExp, opts: Parameters<typeof readNifti>[1] = {}): void {
  let msg = '';
  try {
    readNifti(bytes, { name: 'bad-file.nii', ...opts });
  } catch (e) {
    msg = (e as Error).message;
  }
  expect(msg, 'expected an error').not.toBe('');
  expect(msg).toContain('bad-file.nii');
  expect(msg).toMatch(problem);
}

describe('datatypes and byte order', () => {
  const cases: { code: number; values: (number | bigint)[]; expectValues?: number[] }[] = [
    { code: 2, values: [0, 1, 127, 255] },
    { code: 256, values: [-128, -1, 0, 127] },
    { code: 4, values: [-32768, -7, 0, 32767] },
    { code: 512, values: [0, 1, 40000, 65535] },
    { code: 8, values: [-2147483648, -5, 7, 2147483647] },
    { code: 768, values: [0, 3, 3000000000, 4294967295] },
    { code: 16, values: [-1.5, 0, 3.25, 1e20] },
    { code: 64, values: [-2.5, 0.125, 1e-3, 12345.5] },
    { code: 1024, values: [-5n, 0n, 9007199254740993n, 42n], expectValues: [-5, 0, 9007199254740992, 42] },
    // biome-ignore lint/correctness/noPrecisionLoss: 2^64 − 1 as uint64 reads back as the nearest double, 2^64 (written out)
    { code: 1280, values: [0n, 1n, 18446744073709551615n, 7n], expectValues: [0, 1, 18446744073709551616, 7] },
  ];
  for (const c of cases) {
    for (const le of [true, false]) {
      for (const version of [1, 2] as const) {
        it(`datatype ${c.code}, ${le ? 'little' : 'big'}-endian, NIfTI-${version}`, () => {
          const values = c.values as number[] | bigint[];
          const bytes = buildNifti({ version, littleEndian: le, dim: [3, 4, 1, 1], datatype: c.code, values });
          const vol = readNifti(bytes, { name: 't.nii' });
          const want = (c.expectValues ?? values.map(Number)).map((x) => Math.fround(x));
          expect(Array.from(vol.data)).toEqual(want);
          expect(vol.nifti.littleEndian).toBe(le);
          expect(vol.nifti.version).toBe(version);
        });
      }
    }
  }

  it('int64 values beyond 2^53 are converted with a warning', () => {
    const vol = readNifti(buildNifti({ dim: [3, 2, 1, 1], datatype: 1024, values: [9007199254740993n, 1n] }), { name: 'i64.nii' });
    expect(vol.warnings.map(formatWarning).join()).toMatch(/exceed 2\^53/);
  });
});

describe('scaling and non-finite voxels', () => {
  const values = [1, 2, 3, 4];
  const read = (o: Partial<BuildOptions>) => readNifti(buildNifti({ dim: [3, 4, 1, 1], datatype: 4, values, ...o }), { name: 's.nii' });
  it('applies slope and intercept', () => {
    expect(Array.from(read({ slope: 2, inter: -3 }).data)).toEqual([-1, 1, 3, 5]);
  });
  for (const slope of [0, NaN, Infinity, -Infinity]) {
    it(`slope ${slope} is identity (intercept ignored)`, () => {
      const vol = read({ slope, inter: 100 });
      expect(Array.from(vol.data)).toEqual(values);
      if (slope !== 0) expect(vol.warnings.map(formatWarning).join()).toMatch(/scl_slope/);
    });
  }
  it('non-finite intercept with a valid slope is taken as 0', () => {
    const vol = read({ slope: 2, inter: NaN });
    expect(Array.from(vol.data)).toEqual([2, 4, 6, 8]);
    expect(vol.warnings.map(formatWarning).join()).toMatch(/scl_inter/);
  });
  it('NaN and Inf voxels become 0 and are counted separately', () => {
    const vol = readNifti(buildNifti({ dim: [3, 5, 1, 1], datatype: 64, values: [NaN, 1, Infinity, -Infinity, NaN] }), { name: 'nan.nii' });
    expect(Array.from(vol.data)).toEqual([0, 1, 0, 0, 0]);
    expect(vol.warnings.map(formatWarning)).toContain('nan.nii: 2 NaN voxels replaced with 0');
    expect(vol.warnings.map(formatWarning)).toContain('nan.nii: 2 infinite voxels replaced with 0');
  });
  it('float64 values that overflow float32 after scaling count as infinite', () => {
    const vol = readNifti(buildNifti({ dim: [3, 2, 1, 1], datatype: 64, values: [1e300, 1] }), { name: 'big.nii' });
    expect(Array.from(vol.data)).toEqual([0, 1]);
    expect(vol.warnings.map(formatWarning).join()).toMatch(/1 infinite/);
  });
});

describe('orientation policy', () => {
  it('sform_code > 0 wins over qform', () => {
    const vol = readNifti(
      buildNifti(
        base({
          sformCode: 1,
          srow: [0, 0, 5, 1, 0, 2, 0, 2, 3, 0, 0, 3],
          qformCode: 1,
          quatern: [0, 0, 1],
          qoffset: [9, 9, 9],
        }),
      ),
      { name: 'x', reorient: false },
    );
    expect(vol.nifti.affineSource).toBe('sform');
    // reorient: false keeps (d,h,w) = (k,j,i): affine columns are srow's columns reversed.
    expect(vol.affine).toEqual([5, 0, 0, 1, 0, 2, 0, 2, 0, 0, 3, 3, 0, 0, 0, 1]);
  });
  it('qform when sform_code is 0: a 180-degree rotation about z with qfac -1', () => {
    const vol = readNifti(
      buildNifti(
        base({
          qformCode: 1,
          quatern: [0, 0, 1],
          qoffset: [10, 20, 30],
          pixdim: [-1, 2, 3, 4],
        }),
      ),
      { name: 'q', reorient: false },
    );
    expect(vol.nifti.affineSource).toBe('qform');
    // R = diag(-1,-1,1) (rotation by pi about z), scaled by (2,3,-4) because qfac = -1.
    // File columns (i,j,k) -> ours (d,h,w) = (k,j,i).
    const want = [0, 0, -2, 10, 0, -3, 0, 20, -4, 0, 0, 30, 0, 0, 0, 1];
    vol.affine.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    expect(vol.spacing).toEqual([4, 3, 2]);
  });
  it('pixdim scaling when neither code is set, metres converted to mm', () => {
    const vol = readNifti(buildNifti(base({ pixdim: [1, 0.001, 0.002, 0.0005], xyztUnits: 1 })), { name: 'p' });
    expect(vol.nifti.affineSource).toBe('pixdim');
    // spacings (i,j,k) = (1, 2, 0.5) mm: j is the slice axis, then H = k (slower), W = i.
    expect(vol.spacing.map((s) => +s.toFixed(6))).toEqual([2, 0.5, 1]);
    expect(vol.nifti.axisOrder).toEqual([1, 2, 0]);
  });
  it('a degenerate sform falls back to the qform with a warning', () => {
    const vol = readNifti(buildNifti(base({ sformCode: 2, srow: new Array(12).fill(0), qformCode: 1, pixdim: [1, 1, 1, 1] })), { name: 'deg' });
    expect(vol.nifti.affineSource).toBe('qform');
    expect(vol.warnings.map(formatWarning).join()).toMatch(/sform is degenerate/);
  });
  it('dim_info slice_dim, when set, names the slice axis even if another axis has larger spacing', () => {
    for (const version of [1, 2] as const) {
      // pixdim (i, j, k) = (5, 1, 2): spacing alone would pick i, slice_dim = 3 keeps k.
      const vol = readNifti(buildNifti(base({ version, pixdim: [1, 5, 1, 2], dimInfo: 3 << 4 })), { name: 'di' });
      expect(vol.nifti.sliceAxisFrom).toBe('dim_info');
      expect(vol.nifti.axisOrder).toEqual([2, 1, 0]);
      const vol2 = readNifti(buildNifti(base({ version, pixdim: [1, 1, 1, 2], dimInfo: 1 << 4 })), { name: 'di' });
      expect(vol2.nifti.axisOrder).toEqual([0, 2, 1]);
    }
  });
  it('reorients the largest-spacing axis to D and moves the voxels with it', () => {
    // i has the largest spacing: D = i, H = k, W = j.
    const vals = Array.from({ length: 24 }, (_, n) => n);
    const vol = readNifti(buildNifti(base({ values: vals, pixdim: [1, 5, 1, 2] })), { name: 'r' });
    expect(vol.nifti.axisOrder).toEqual([0, 2, 1]);
    expect(vol.dims).toEqual([4, 2, 3]);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 2; k++) {
          expect(vol.data[(i * 2 + k) * 3 + j]).toBe(i + 4 * (j + 3 * k));
        }
  });
});

describe('malformed files fail with a clear error naming the file', () => {
  it('non-NIfTI input: empty, text, PNG, random bytes', () => {
    expectError(new Uint8Array(0), /not a NIfTI file/);
    expectError(new TextEncoder().encode('subject,path,label\nA,a.nii,T2\n'), /not a NIfTI file/);
    expectError(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13]), /not a NIfTI file/);
    expectError(gzipSync(new TextEncoder().encode('hello world, not an image')), /not a NIfTI file/);
  });
  it('ANALYZE header without magic, and .hdr/.img pairs', () => {
    expectError(buildNifti(base({ magic: '\0\0\0\0' })), /magic.*missing.*ANALYZE/);
    expectError(buildNifti(base({ magic: 'ni1\0' })), /\.hdr\/\.img pair/);
    expectError(buildNifti(base({ version: 2, magic: 'n+2\0\n\x1a\n\0' })), /NIfTI-2 magic/);
  });
  it('truncated header and truncated data (plain and gzip)', () => {
    const good = buildNifti(base());
    expectError(good.slice(0, 200), /truncated header/);
    expectError(good.slice(0, good.length - 5), /truncated data.*48 bytes.*only 43/);
    expectError(gzipSync(good.slice(0, good.length - 5)), /truncated data/);
    const gz = gzipSync(good);
    expectError(gz.slice(0, gz.length - 20), /gzip stream is corrupt or truncated|truncated data/);
  });
  it('negative or zero dims, and a bad dim[0]', () => {
    expectError(buildNifti(base({ dim: [3, 4, -3, 2] })), /dim\[2\] is -3.*negative or zero/);
    expectError(buildNifti(base({ dim: [3, 4, 3, 0] })), /dim\[3\] is 0/);
    expectError(buildNifti(base({ version: 2, dim: [3, -1, 3, 2] })), /dim\[1\] is -1/);
    expectError(buildNifti(base({ dim: [9, 4, 3, 2] })), /dim\[0\].*is 9/);
  });
  it('vox_offset past the end, inside the header, or fractional', () => {
    expectError(buildNifti(base({ voxOffset: 100000, values: [] })), /vox_offset 100000 is past the end of the file/);
    expectError(buildNifti(base({ voxOffset: 200 })), /vox_offset 200 points inside/);
    const b = buildNifti(base());
    new DataView(b.buffer).setFloat32(108, 352.5, true);
    expectError(b, /vox_offset is 352\.5/);
  });
  it('a gzip file whose vox_offset is far past its data is refused without reserving vox_offset bytes', () => {
    // 512 MiB declared, 48 bytes of data: the stream is inflated up to vox_offset before anything of the
    // declared size is reserved, so the refusal costs what the file holds, not what its header claims.
    const far = 512 * 2 ** 20;
    const b = buildNifti(base());
    new DataView(b.buffer).setFloat32(108, far, true);
    const gz = gzipSync(b);
    const ab0 = process.memoryUsage().arrayBuffers;
    expectError(gz, new RegExp(`vox_offset ${far} is past the end of the decompressed data`));
    expect(process.memoryUsage().arrayBuffers - ab0).toBeLessThan(16 * 2 ** 20);
  });
  it('vox_offset 0 in a single-file NIfTI-1 is read as 352, with a warning', () => {
    const good = buildNifti(base());
    const patched = good.slice();
    new DataView(patched.buffer).setFloat32(108, 0, true);
    const vol = readNifti(patched, { name: 'zero.nii' });
    expect(Array.from(vol.data)).toEqual(Array.from(readNifti(good, { name: 'good.nii' }).data));
    expect(vol.warnings.map(formatWarning).join()).toMatch(/vox_offset is 0.*assumed 352/);
  });
  it('datatype/bitpix mismatch, complex and unknown datatypes', () => {
    expectError(buildNifti(base({ bitpix: 32 })), /datatype\/bitpix mismatch.*int16.*bitpix is 32/);
    expectError(buildNifti(base({ datatype: 32, bitpix: 64 })), /complex64.*not a scalar/);
    expectError(buildNifti(base({ datatype: 77, bitpix: 8 })), /unknown datatype code 77/);
  });
  it('absurd sizes are refused from the header, before inflating the rest', () => {
    expectError(buildNifti(base({ dim: [3, 32767, 32767, 32767], values: [] })), /32767×32767×32767 .*voxels.*takes at most 134,217,728 voxels/);
    expectError(buildNifti(base({ version: 2, dim: [3, 2 ** 40, 2 ** 20, 1], values: [] })), /takes at most|far beyond/);
    expectError(buildNifti(base()), /over the 100 bytes cap/, { maxBytes: 100 });
    // Header member, then a corrupt member: the size check must fire without ever inflating the bad part.
    const head = buildNifti(base({ dim: [3, 30000, 30000, 30000], values: [] }));
    const padded = new Uint8Array(2000);
    padded.set(head);
    const bomb = new Uint8Array([...gzipSync(padded), 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]);
    expectError(bomb, /takes at most/);
  });
  it('extensions with bad sizes never loop and are reported', { timeout: 5000 }, () => {
    expectError(buildNifti(base({ extensions: [{ esize: -16, ecode: 4 }] })), /esize -16.*multiple of 16/);
    expectError(buildNifti(base({ extensions: [{ esize: 24, ecode: 4 }] })), /esize 24/);
    expectError(buildNifti(base({ extensions: [{ esize: 4096, ecode: 4 }], voxOffset: 352 + 32 })), /runs past vox_offset/);
    expectError(buildNifti(base({ version: 2, extensions: [{ esize: -32, ecode: 4 }] })), /esize -32/);
  });
  it('valid extensions, a zero esize terminator and a flag without room are accepted', () => {
    const ok = readNifti(
      buildNifti(
        base({
          extensions: [
            { esize: 32, ecode: 6 },
            { esize: 16, ecode: 4 },
          ],
        }),
      ),
      { name: 'e' },
    );
    expect(ok.nifti.extensions).toEqual([
      { code: 6, size: 32 },
      { code: 4, size: 16 },
    ]);
    const zero = readNifti(buildNifti(base({ extensions: [{ esize: 0, ecode: 0 }] })), { name: 'z' });
    expect(zero.nifti.extensions).toEqual([]);
    const noRoom = readNifti(buildNifti(base({ version: 2, extFlag: 1 })), { name: 'n' });
    expect(noRoom.nifti.extensions).toEqual([]);
  });
  it('4D input with volume: "error"', () => {
    expectError(buildNifti(base({ dim: [4, 2, 2, 2, 3], values: new Array(24).fill(1) })), /4D.*3 volumes/, { volume: 'error' });
  });
});
