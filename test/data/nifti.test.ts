import { formatWarning } from '../../src/data/volume.js';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decompressSync, gzipSync } from 'fflate';
import { readNifti } from '../../src/data/nifti.js';
import { Rng } from '../../src/util/rng.js';

const FIX = fileURLToPath(new URL('../fixtures/nifti/', import.meta.url));
const load = (f: string): Uint8Array => new Uint8Array(readFileSync(FIX + f));

/** Header fields decoded straight from the bytes in the test (independent of the reader). */
interface RawHeader {
  version: 1 | 2;
  le: boolean;
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim: number[];
  voxOffset: number;
  slope: number;
  inter: number;
  sformCode: number;
  srow: number[];
  sliceDim: number;
}

function inflateAll(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? decompressSync(bytes) : bytes;
}

function rawHeader(b: Uint8Array): RawHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getInt32(0, true) === 348 || v.getInt32(0, true) === 540;
  const version = v.getInt32(0, le) === 348 ? 1 : 2;
  if (version === 1) {
    return {
      version,
      le,
      dim: [...Array(8).keys()].map((i) => v.getInt16(40 + 2 * i, le)),
      datatype: v.getInt16(70, le),
      bitpix: v.getInt16(72, le),
      pixdim: [...Array(8).keys()].map((i) => v.getFloat32(76 + 4 * i, le)),
      voxOffset: v.getFloat32(108, le),
      slope: v.getFloat32(112, le),
      inter: v.getFloat32(116, le),
      sformCode: v.getInt16(254, le),
      srow: [...Array(12).keys()].map((i) => v.getFloat32(280 + 4 * i, le)),
      sliceDim: (b[39]! >> 4) & 3,
    };
  }
  return {
    version,
    le,
    dim: [...Array(8).keys()].map((i) => Number(v.getBigInt64(16 + 8 * i, le))),
    datatype: v.getInt16(12, le),
    bitpix: v.getInt16(14, le),
    pixdim: [...Array(8).keys()].map((i) => v.getFloat64(104 + 8 * i, le)),
    voxOffset: Number(v.getBigInt64(168, le)),
    slope: v.getFloat64(176, le),
    inter: v.getFloat64(184, le),
    sformCode: v.getInt32(348, le),
    srow: [...Array(12).keys()].map((i) => v.getFloat64(400 + 8 * i, le)),
    sliceDim: (b[524]! >> 4) & 3,
  };
}

function rawVoxel(b: Uint8Array, h: RawHeader, index: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bpv = h.bitpix / 8;
  const off = h.voxOffset + index * bpv;
  switch (h.datatype) {
    case 2:
      return v.getUint8(off);
    case 4:
      return v.getInt16(off, h.le);
    case 16:
      return v.getFloat32(off, h.le);
    default:
      throw new Error(`test decoder lacks datatype ${h.datatype}`);
  }
}

const FILES = ['KmeansTest_T1UCharRaw.nii.gz', 'functional.nii', 'resampled_anat_moved.nii', 'example_nifti2.nii.gz', 'standard.nii.gz'];

describe('readNifti on the five real fixtures', () => {
  for (const f of FILES) {
    it(`${f}: dims, spacing, affine and sampled voxel values match an independent decode`, () => {
      const bytes = load(f);
      const raw = inflateAll(bytes);
      const h = rawHeader(raw);
      expect(h.sformCode).toBeGreaterThan(0); // all five carry an sform, so the policy picks it
      const vol = readNifti(bytes, { name: f });
      const n = [h.dim[1]!, h.dim[2]!, h.dim[3]!];
      // Expected spacing per file axis: column norms of srow; slice axis = dim_info's slice_dim if set,
      // else the largest spacing (ties -> k, then j).
      const colNorm = (c: number): number => Math.hypot(h.srow[c]!, h.srow[4 + c]!, h.srow[8 + c]!);
      const sp = [0, 1, 2].map(colNorm);
      let slice = 2;
      if (sp[1]! > sp[slice]! * (1 + 1e-6)) slice = 1;
      if (sp[0]! > sp[slice]! * (1 + 1e-6)) slice = 0;
      if (h.sliceDim) slice = h.sliceDim - 1;
      const rest = [0, 1, 2].filter((a) => a !== slice);
      const order = [slice, rest[1]!, rest[0]!];
      expect(vol.dims).toEqual(order.map((a) => n[a]));
      for (let k = 0; k < 3; k++) expect(vol.spacing[k]).toBeCloseTo(sp[order[k]!]!, 5);
      expect(vol.source).toBe(f);

      // Spot-check 60 random voxels: raw bytes -> slope/inter -> NaN as 0, at the position the affine
      // says; this checks data mapping and affine together.
      const rng = new Rng(7);
      const slope = h.slope === 0 || !Number.isFinite(h.slope) ? 1 : h.slope;
      const inter = h.slope === 0 || !Number.isFinite(h.slope) ? 0 : h.inter;
      for (let t = 0; t < 60; t++) {
        const ijk = [rng.int(0, n[0]!), rng.int(0, n[1]!), rng.int(0, n[2]!)];
        const lin = ijk[0]! + n[0]! * (ijk[1]! + n[1]! * ijk[2]!);
        let want = rawVoxel(raw, h, lin) * slope + inter;
        if (!Number.isFinite(want)) want = 0;
        const [d, hh, w] = [ijk[order[0]!]!, ijk[order[1]!]!, ijk[order[2]!]!];
        const got = vol.data[(d * vol.dims[1] + hh) * vol.dims[2] + w]!;
        expect(got).toBeCloseTo(Math.fround(want), 3);
        // World position via the file's srow and via our affine must agree.
        for (let r = 0; r < 3; r++) {
          const worldFile = h.srow[4 * r]! * ijk[0]! + h.srow[4 * r + 1]! * ijk[1]! + h.srow[4 * r + 2]! * ijk[2]! + h.srow[4 * r + 3]!;
          const A = vol.affine;
          const worldOurs = A[4 * r]! * d + A[4 * r + 1]! * hh + A[4 * r + 2]! * w + A[4 * r + 3]!;
          expect(worldOurs).toBeCloseTo(worldFile, 4);
        }
      }
      for (const x of vol.data) if (!Number.isFinite(x)) throw new Error('non-finite voxel in output');
    });
  }

  it('KmeansTest: 128x128x62 at 2x2x3 mm keeps k as the slice axis', () => {
    const vol = readNifti(load('KmeansTest_T1UCharRaw.nii.gz'), { name: 'kmeans' });
    expect(vol.dims).toEqual([62, 128, 128]);
    expect(vol.spacing.map((s) => +s.toFixed(4))).toEqual([3, 2, 2]);
    expect(vol.nifti.affineSource).toBe('sform'); // sform_code 1, qform_code 2: sform wins by policy
    expect(vol.nifti.gzip).toBe(true);
  });

  it('functional.nii: scl_slope/scl_inter applied; 4D takes the first volume or errors', () => {
    const bytes = load('functional.nii');
    const h = rawHeader(bytes);
    const vol = readNifti(bytes, { name: 'functional.nii' });
    expect(vol.dims).toEqual([3, 21, 17]);
    expect(vol.nifti.volumes).toBe(20);
    expect(vol.warnings.map(formatWarning).join('\n')).toMatch(/20 volumes .*only the first 3-D volume is used/);
    // Mean of the first volume computed directly from the bytes.
    let s = 0;
    const nvox = 17 * 21 * 3;
    for (let i = 0; i < nvox; i++) s += rawVoxel(bytes, h, i) * h.slope + h.inter;
    let m = 0;
    for (const x of vol.data) m += x;
    expect(m / nvox).toBeCloseTo(s / nvox, 2);
    expect(h.slope).toBeCloseTo(0.0754, 4);
    expect(() => readNifti(bytes, { name: 'functional.nii', volume: 'error' })).toThrow(/functional\.nii.*4D.*20 volumes/);
  });

  it('resampled_anat_moved.nii: big-endian float32; NaN voxels become 0 and are counted', () => {
    const bytes = load('resampled_anat_moved.nii');
    const h = rawHeader(bytes);
    expect(h.le).toBe(false);
    let nan = 0;
    for (let i = 0; i < 17 * 21 * 3; i++) if (Number.isNaN(rawVoxel(bytes, h, i))) nan++;
    expect(nan).toBeGreaterThan(0);
    const vol = readNifti(bytes, { name: 'moved.nii' });
    expect(vol.nifti.littleEndian).toBe(false);
    expect(vol.warnings.map(formatWarning)).toContain(`moved.nii: ${nan} NaN voxels replaced with 0`);
  });

  it('example_nifti2.nii.gz: NIfTI-2 header, two extensions, 4D', () => {
    const vol = readNifti(load('example_nifti2.nii.gz'), { name: 'n2' });
    expect(vol.nifti.version).toBe(2);
    expect(vol.nifti.extensions).toEqual([
      { code: 6, size: 32 },
      { code: 6, size: 32 },
    ]);
    expect(vol.nifti.volumes).toBe(2);
    expect(vol.dims).toEqual([12, 20, 32]);
    expect(vol.spacing[0]).toBeCloseTo(2.2, 5);
  });

  it('standard.nii.gz: largest spacing on j becomes D (reorientation), uint8 values intact', () => {
    const vol = readNifti(load('standard.nii.gz'), { name: 'standard' });
    expect(vol.nifti.axisOrder).toEqual([1, 2, 0]);
    expect(vol.dims).toEqual([5, 7, 4]);
    expect(vol.spacing).toEqual([3, 2, 1]);
    const plain = readNifti(load('standard.nii.gz'), { name: 'standard', reorient: false });
    expect(plain.dims).toEqual([7, 5, 4]);
  });
});

describe('gzip handling', () => {
  it('reads a multi-member gzip (which fflate.decompressSync truncates to its first member)', () => {
    const raw = load('functional.nii');
    const cut1 = 1000;
    const cut2 = 20000;
    const multi = concat([gzipSync(raw.subarray(0, cut1)), gzipSync(raw.subarray(cut1, cut2)), gzipSync(raw.subarray(cut2))]);
    expect(decompressSync(multi).length).toBe(cut1); // the trap this guards against
    const a = readNifti(multi, { name: 'multi.nii.gz' });
    const b = readNifti(raw, { name: 'plain.nii' });
    expect(a.dims).toEqual(b.dims);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.nifti.gzipMembers).toBeGreaterThanOrEqual(2);
  });

  it('stops inflating once the first volume is complete (a later corrupt part is never reached)', () => {
    // 4D file with incompressible voxels; the gzip is cut at 60 %, far past the first volume.
    const rng = new Rng(3);
    const head = load('functional.nii').slice(0, 352);
    const v = new DataView(head.buffer);
    [4, 64, 64, 8, 40].forEach((x, i) => v.setInt16(40 + 2 * i, x, true));
    v.setFloat32(112, 1, true);
    v.setFloat32(116, 0, true);
    const voxels = 64 * 64 * 8 * 40;
    const body = new Uint8Array(voxels * 2);
    for (let i = 0; i < body.length; i++) body[i] = rng.int(0, 256);
    const gz = gzipSync(concat([head, body]), { level: 1 });
    const cut = gz.slice(0, Math.floor(gz.length * 0.6));
    expect(() => decompressSync(cut)).toThrow();
    const vol = readNifti(cut, { name: 'cut.nii.gz' });
    expect(vol.dims).toEqual([8, 64, 64]);
    const bv = new DataView(body.buffer);
    expect(vol.data[12345]).toBe(bv.getInt16(2 * 12345, true));
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
