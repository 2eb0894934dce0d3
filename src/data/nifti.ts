/**
 * NIfTI-1 / NIfTI-2 reading and (NIfTI-1) writing, hardened against bad files.
 *
 * Reading order, so that nothing unvalidated reaches nifti-reader-js (whose 0.8.0 has known traps: see
 * test/fixtures/nifti/SOURCES.md):
 *   1. gzip is inflated incrementally (GunzipReader) only as far as needed — first the header (in small
 *      slices), then, after the declared size has been checked against `maxVoxels`, `maxBytes` and the
 *      memory budget, the first volume, into one buffer of exactly that size. All members of a
 *      multi-member gzip are followed. `readHeaderAsync` is never used (it hangs on gzip input).
 *   2. The structural fields are decoded here, in the header's byte order: sizeof_hdr, magic, dim[],
 *      datatype, bitpix, vox_offset, the extension chain and srow_*. NIfTI-2's 64-bit fields are read
 *      with BigInt (nifti-reader-js mis-decodes big-endian int64). Every one is range-checked.
 *   3. A sanitised copy of the header bytes (up to vox_offset, extension flag cleared when the chain is
 *      empty) is given to nifti-reader-js, which supplies the remaining fields (pixdim, scl_*, qform
 *      parameters, codes, units, description).
 *   4. Voxels of the first (or only) 3D volume are decoded here with bounds already proven.
 *
 * Orientation policy (documented, deterministic):
 *   - affine = sform if sform_code > 0, else qform if qform_code > 0, else diag(pixdim) ("method 1").
 *     A chosen transform with a zero or non-finite column falls back to the next one, with a warning.
 *   - Spatial units from xyzt_units (metre / micron) are converted to mm; unknown units are taken as mm.
 *   - Spacing = the column norms of that affine (equal to |pixdim| for qform and method 1).
 *   - Reorientation: the slice axis becomes D. The slice axis is dim_info's slice_dim when the file sets
 *     it (1..3: the acquisition's slice direction, which our writer records), else the axis with the
 *     largest spacing (ties prefer k, then j). Of the two other axes the slower one in file order becomes
 *     H and the faster one W. No flips: the affine records the permutation, so voxel (d, h, w) still maps
 *     to the right place in mm. (slice_dim matters for thick-slice data stored at coarse in-plane
 *     resolution, e.g. a 32 x 32 synthetic volume whose 3.5 mm pixels exceed its 3.1 mm slices.)
 * Intensities: scl_slope of 0, NaN or ±Inf means identity (scl_inter ignored too); a non-finite
 * scl_inter with a valid slope is taken as 0. Voxels that are NaN/±Inf after scaling become 0 and are
 * counted in `warnings`. Every repair is a structured warning (volume.ts DataWarning); every refusal an
 * InputError (exit code 4) whose message starts with the file name.
 */
import { NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { gzipSync } from 'fflate';
import { InputError, type MemoryBudget, UNLIMITED, checkHostBytes, formatBytes } from '../util/errors.js';
import { GunzipReader, isGzip } from './gunzip.js';
import { type DataWarning, type Volume, dataWarning } from './volume.js';

/** A damaged or non-NIfTI file; the message starts with the file name. */
function corrupt(name: string, message: string): InputError {
  return new InputError('corrupt', message, name);
}

export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'int64' | 'uint64';

interface DatatypeInfo {
  name: NiftiDatatype;
  bytes: number;
}

const DATATYPES: Record<number, DatatypeInfo> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
  1024: { name: 'int64', bytes: 8 },
  1280: { name: 'uint64', bytes: 8 },
};

/** Datatypes NIfTI defines that are not scalar; named in the error so the user knows what they have. */
const UNSUPPORTED_DATATYPES: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

const DATATYPE_CODES: Record<NiftiDatatype, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
  int64: 1024,
  uint64: 1280,
};

export const DEFAULT_MAX_BYTES = 2 ** 31;
export const DEFAULT_MAX_VOXELS = 512 ** 3;

export interface NiftiReadOptions {
  /** File name used in every error and warning message. */
  name?: string;
  /** 4D (or higher) input: take the first 3D volume (default) or refuse it. */
  volume?: 'first' | 'error';
  /** Cap on the decompressed bytes the header may ask us to read (header + first volume). Default 2^31. */
  maxBytes?: number;
  /**
   * Most voxels one (first) volume may have (default DEFAULT_MAX_VOXELS = 512³, far above any MR series:
   * 512×512×60 is 16 M). Checked on the header, before anything is inflated or allocated.
   */
  maxVoxels?: number;
  /**
   * Memory the loader may use for this file (io.node.ts: what the machine has available). The peak —
   * the input, the inflated bytes, the float32 volume and its reoriented copy — is estimated from the
   * header and checked before anything is inflated. Default: no limit.
   */
  budget?: MemoryBudget;
  /** Permute axes so that the largest spacing is D (default true). */
  reorient?: boolean;
}

export interface NiftiInfo {
  version: 1 | 2;
  littleEndian: boolean;
  gzip: boolean;
  /** gzip members in the part of the stream that was inflated. */
  gzipMembers: number;
  datatype: NiftiDatatype;
  bitpix: number;
  /** Raw dim[0..7]. */
  dim: number[];
  /** Raw pixdim[0..7]. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** Which transform produced `affine`. */
  affineSource: 'sform' | 'qform' | 'pixdim';
  /** File axis (0 = i, 1 = j, 2 = k) that became D, H and W. */
  axisOrder: [number, number, number];
  /** How the slice axis was chosen. */
  sliceAxisFrom: 'dim_info' | 'spacing' | 'none';
  /** dim_info's slice_dim (0 = not set). */
  sliceDim: number;
  /** Number of 3D volumes in the file (product of dim[4..]). */
  volumes: number;
  /** Multiplier applied to convert the file's spatial unit to mm. */
  unitToMm: number;
  description: string;
  extensions: { code: number; size: number }[];
}

export interface NiftiVolume extends Volume {
  nifti: NiftiInfo;
}

/** Parsed and validated header, before any voxel is decoded. */
interface Header {
  version: 1 | 2;
  le: boolean;
  hdrSize: number;
  dim: number[];
  ndim: number;
  shape: [number, number, number];
  /** Voxels in one 3D volume (the product of `shape`). */
  voxels: number;
  volumes: number;
  datatypeCode: number;
  dt: DatatypeInfo;
  bitpix: number;
  voxOffset: number;
  srow: number[];
  sliceDim: number;
  extensions: { code: number; size: number }[];
  /** Lenient repairs made while parsing, reported as warnings. */
  notes: DataWarning[];
}

/** readNifti's options with their defaults filled in. */
interface ReadSettings {
  name: string;
  volume: 'first' | 'error';
  maxBytes: number;
  maxVoxels: number;
  reorient: boolean;
  budget: MemoryBudget;
}

/** Fills in the defaults of readNifti's options. */
function readSettings(opts: NiftiReadOptions): ReadSettings {
  return {
    name: opts.name ?? 'NIfTI data',
    volume: opts.volume ?? 'first',
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    maxVoxels: opts.maxVoxels ?? DEFAULT_MAX_VOXELS,
    reorient: opts.reorient ?? true,
    budget: opts.budget ?? UNLIMITED,
  };
}

/** The input as a byte view (no copy). */
function toBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  return input instanceof Uint8Array ? input : new Uint8Array(input);
}

/** A DataView over exactly these bytes. */
function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Bytes [start, end) as Latin-1 text (a fixed-width header field). */
function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Which version and byte order the first four bytes (sizeof_hdr) announce, or null. */
function detectVersion(b: Uint8Array): { version: 1 | 2; le: boolean } | null {
  if (b.length < 4) return null;
  const v = view(b);
  const lo = v.getInt32(0, true);
  const hi = v.getInt32(0, false);
  if (lo === 348) return { version: 1, le: true };
  if (hi === 348) return { version: 1, le: false };
  if (lo === 540) return { version: 2, le: true };
  if (hi === 540) return { version: 2, le: false };
  return null;
}

/** A NIfTI-2 int64 field as a number, refused beyond 2^53 (a corrupt header). */
function int64(v: DataView, off: number, le: boolean, name: string, field: string): number {
  const big = v.getBigInt64(off, le);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw corrupt(name, `${name}: ${field} is ${big}, far beyond any real image; the header is corrupt`);
  }
  return Number(big);
}

/**
 * Decodes and validates the structural header fields from a prefix of the (decompressed) file, and
 * refuses declared sizes beyond the limits before anything of that size is inflated or allocated.
 */
function parseStructure(b: Uint8Array, s: ReadSettings): Header {
  const { version, le, hdrSize } = headerLayout(b, s.name);
  checkMagic(b, version, s.name);
  const v = view(b);
  const dims = readDims(v, version, le, s.name);
  const type = readDatatype(v, version, le, s.name);
  const notes: DataWarning[] = [];
  const voxOffset = readVoxOffset(v, version, le, s.name, notes);
  if (voxOffset < hdrSize) {
    throw corrupt(s.name, `${s.name}: vox_offset ${voxOffset} points inside the ${hdrSize}-byte header; the header is corrupt`);
  }
  const h: Header = {
    version,
    le,
    hdrSize,
    ...dims,
    voxels: dims.shape[0] * dims.shape[1] * dims.shape[2],
    ...type,
    voxOffset,
    srow: Array.from({ length: 12 }, (_, i) => (version === 1 ? v.getFloat32(280 + 4 * i, le) : v.getFloat64(400 + 8 * i, le))),
    sliceDim: ((version === 1 ? b[39]! : b[524]!) >> 4) & 3,
    extensions: [],
    notes,
  };
  checkDeclaredSize(h, s);
  return h;
}

/** The version and byte order sizeof_hdr announces, refusing non-NIfTI data and a truncated header. */
function headerLayout(b: Uint8Array, name: string): { version: 1 | 2; le: boolean; hdrSize: number } {
  const det = detectVersion(b);
  if (!det) {
    throw corrupt(
      name,
      `${name}: not a NIfTI file (the first 4 bytes should hold sizeof_hdr = 348 for NIfTI-1 or 540 for NIfTI-2 ` +
        `in either byte order${b.length < 4 ? `; the data is only ${b.length} bytes` : ''}); pass a .nii or .nii.gz file`,
    );
  }
  const hdrSize = det.version === 1 ? 348 : 540;
  if (b.length < hdrSize) {
    throw corrupt(name, `${name}: truncated header: NIfTI-${det.version} needs ${hdrSize} header bytes but the data has ${b.length}`);
  }
  return { ...det, hdrSize };
}

/** Refuses a wrong magic, naming the likely cause (a .hdr/.img pair, ANALYZE, a text-mode transfer). */
function checkMagic(b: Uint8Array, version: 1 | 2, name: string): void {
  if (version === 1) {
    const magic = ascii(b, 344, 348);
    if (magic === 'ni1\0') {
      throw corrupt(name, `${name}: this is the header of a .hdr/.img pair (magic "ni1"); convert it to a single .nii file`);
    }
    if (magic !== 'n+1\0') {
      throw corrupt(
        name,
        `${name}: sizeof_hdr is 348 but the NIfTI-1 magic "n+1" is missing (found ${JSON.stringify(magic)}); ` +
          'ANALYZE 7.5 files are not supported, convert to NIfTI',
      );
    }
  } else {
    const magic = ascii(b, 4, 12);
    if (magic.startsWith('ni2\0')) {
      throw corrupt(name, `${name}: this is the header of a .hdr/.img pair (magic "ni2"); convert it to a single .nii file`);
    }
    if (magic !== 'n+2\0\r\n\x1a\n') {
      throw corrupt(
        name,
        `${name}: sizeof_hdr is 540 but the NIfTI-2 magic "n+2\\0\\r\\n\\x1a\\n" is wrong (found ${JSON.stringify(magic)}); ` +
          'the file may have been altered by a text-mode transfer',
      );
    }
  }
}

/** dim[0..7], refused unless there are 1..7 dimensions of positive size; shape and volume count from them. */
function readDims(v: DataView, version: 1 | 2, le: boolean, name: string): Pick<Header, 'dim' | 'ndim' | 'shape' | 'volumes'> {
  const dim: number[] = [];
  for (let i = 0; i < 8; i++) {
    dim.push(version === 1 ? v.getInt16(40 + 2 * i, le) : int64(v, 16 + 8 * i, le, name, `dim[${i}]`));
  }
  const ndim = dim[0]!;
  if (!(ndim >= 1 && ndim <= 7)) {
    throw corrupt(name, `${name}: dim[0] (number of dimensions) is ${ndim}, must be 1..7; the header is corrupt`);
  }
  for (let i = 1; i <= ndim; i++) {
    if (dim[i]! <= 0) {
      throw corrupt(name, `${name}: dim[${i}] is ${dim[i]}: every dimension must be a positive size (negative or zero dims)`);
    }
  }
  const shape: [number, number, number] = [dim[1]!, ndim >= 2 ? dim[2]! : 1, ndim >= 3 ? dim[3]! : 1];
  let volumes = 1;
  for (let i = 4; i <= ndim; i++) volumes *= dim[i]!;
  return { dim, ndim, shape, volumes };
}

/** datatype and bitpix, refused unless the type is a supported scalar and bitpix agrees with it. */
function readDatatype(v: DataView, version: 1 | 2, le: boolean, name: string): Pick<Header, 'datatypeCode' | 'dt' | 'bitpix'> {
  const datatypeCode = version === 1 ? v.getInt16(70, le) : v.getInt16(12, le);
  const bitpix = version === 1 ? v.getInt16(72, le) : v.getInt16(14, le);
  const dt = DATATYPES[datatypeCode];
  if (!dt) {
    const known = UNSUPPORTED_DATATYPES[datatypeCode];
    throw corrupt(
      name,
      known
        ? `${name}: datatype ${datatypeCode} (${known}) is not a scalar type; only real scalar images are supported`
        : `${name}: unknown datatype code ${datatypeCode}; the header is corrupt or not NIfTI`,
    );
  }
  if (bitpix !== dt.bytes * 8) {
    throw corrupt(name, `${name}: datatype/bitpix mismatch: datatype ${datatypeCode} (${dt.name}) has ${dt.bytes * 8} bits per voxel but bitpix is ${bitpix}`);
  }
  return { datatypeCode, dt, bitpix };
}

/** vox_offset as a whole number of bytes; a NIfTI-1 0 is taken as 352, with a note. */
function readVoxOffset(v: DataView, version: 1 | 2, le: boolean, name: string, notes: DataWarning[]): number {
  if (version === 2) return int64(v, 168, le, name, 'vox_offset');
  let voxOffset = v.getFloat32(108, le);
  if (voxOffset === 0) {
    // Some old single-file writers left vox_offset 0; the data then start right after the 352-byte preamble.
    voxOffset = 352;
    notes.push(dataWarning('vox-offset-assumed', name, 'vox_offset is 0 in a single-file NIfTI-1; assumed 352'));
  }
  if (!Number.isFinite(voxOffset) || !Number.isInteger(voxOffset)) {
    throw corrupt(name, `${name}: vox_offset is ${voxOffset}, must be a whole number of bytes`);
  }
  return voxOffset;
}

/** Refuses a 4D file when one volume is required, and a first volume beyond maxVoxels or maxBytes. */
function checkDeclaredSize(h: Header, s: ReadSettings): void {
  const { name } = s;
  const volumeBytes = h.voxels * h.dt.bytes;
  if (h.volumes > 1 && s.volume === 'error') {
    throw new InputError(
      'unsuitable',
      `${name}: the image is ${h.ndim}D (${h.dim.slice(1, h.ndim + 1).join('x')}, ${h.volumes} volumes) but a single 3D volume ` +
        "is required; pass { volume: 'first' } or extract one volume",
      name,
    );
  }
  // Sizes come from the file: check them before anything of that size is inflated or allocated.
  const need = h.voxOffset + volumeBytes;
  const declared = `the header declares ${h.shape.join('×')} ${h.dt.name} voxels${h.volumes > 1 ? ` (first of ${h.volumes} volumes)` : ''}`;
  if (h.voxels > s.maxVoxels) {
    throw new InputError(
      'too-large',
      `${name}: ${declared} = ${h.voxels.toLocaleString('en-US')} voxels (${formatBytes(volumeBytes)} to read, ${formatBytes(h.voxels * 4)} as float32); ` +
        `the loader takes at most ${s.maxVoxels.toLocaleString('en-US')} voxels per volume (maxVoxels; 512×512×512 by default) — ` +
        'crop or resample the volume first, or raise maxVoxels if the file is really that large',
      name,
    );
  }
  if (need > s.maxBytes || h.voxels * 4 > s.maxBytes) {
    throw new InputError(
      'too-large',
      `${name}: ${declared} starting at byte ${h.voxOffset} (${formatBytes(need)} to read, ${formatBytes(h.voxels * 4)} as float32), ` +
        `over the ${formatBytes(s.maxBytes)} cap; raise maxBytes if the file is really that large`,
      name,
    );
  }
}

/**
 * Walks the extension chain between the header and vox_offset. Every esize must be a positive multiple
 * of 16 that stays before vox_offset; a negative one would make nifti-reader-js loop forever.
 */
function parseExtensions(b: Uint8Array, h: Header, name: string): { exts: { code: number; size: number }[]; end: number } {
  const exts: { code: number; size: number }[] = [];
  const flagAt = h.hdrSize;
  if (h.voxOffset < flagAt + 4 || b[flagAt] === 0) return { exts, end: Math.min(h.voxOffset, flagAt + 4) };
  const v = view(b);
  let pos = flagAt + 4;
  while (pos + 8 <= h.voxOffset) {
    const esize = v.getInt32(pos, h.le);
    const ecode = v.getInt32(pos + 4, h.le);
    if (esize === 0) break; // some writers pad with zeros: end of the chain
    if (esize < 16 || esize % 16 !== 0) {
      throw corrupt(
        name,
        `${name}: header extension #${exts.length + 1} at byte ${pos} has esize ${esize}; it must be a positive multiple of 16 (bad extension size)`,
      );
    }
    if (pos + esize > h.voxOffset) {
      throw corrupt(
        name,
        `${name}: header extension #${exts.length + 1} at byte ${pos} (esize ${esize}) runs past vox_offset ${h.voxOffset} (bad extension size)`,
      );
    }
    exts.push({ code: ecode, size: esize });
    pos += esize;
  }
  return { exts, end: pos };
}

/** Header fields that nifti-reader-js supplies, after we made its input safe. */
interface LibFields {
  pixdim: number[];
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  xyztUnits: number;
  description: string;
}

/** The header fields nifti-reader-js decodes, read from a sanitised copy of the validated header bytes. */
function libHeader(b: Uint8Array, h: Header, extEnd: number, name: string): LibFields {
  // Only validated bytes reach the library: everything after the last good extension is zeroed (its
  // chain walk stops at a zero esize), plus 8 zero bytes so it can never read past the buffer.
  const keep = Math.min(extEnd, h.voxOffset, b.length);
  const copy = new Uint8Array(Math.max(keep, h.hdrSize + 4) + 8);
  copy.set(b.subarray(0, keep));
  if (h.extensions.length === 0) copy[h.hdrSize] = 0;
  const lib = h.version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    lib.readHeader(copy.buffer);
  } catch (e) {
    throw corrupt(name, `${name}: header could not be parsed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (lib.datatypeCode !== h.datatypeCode || lib.numBitsPerVoxel !== h.bitpix || lib.littleEndian !== h.le) {
    throw corrupt(name, `${name}: internal check failed: header decoders disagree on datatype/bitpix/byte order`);
  }
  return {
    pixdim: Array.from(lib.pixDims, Number),
    sclSlope: lib.scl_slope,
    sclInter: lib.scl_inter,
    qformCode: lib.qform_code,
    sformCode: lib.sform_code,
    quatern: [lib.quatern_b, lib.quatern_c, lib.quatern_d],
    qoffset: [lib.qoffset_x, lib.qoffset_y, lib.qoffset_z],
    xyztUnits: lib.xyzt_units,
    description: lib.description,
  };
}

/** qform (quaternion + pixdim + qfac) to a 4x4 row-major matrix over file axes (i, j, k), as nifti1_io.c. */
export function qformToAffine(quatern: readonly [number, number, number], qoffset: readonly [number, number, number], pixdim: readonly number[]): number[] {
  let [b, c, d] = quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // 180-degree rotation: renormalise (b, c, d) and set a = 0, as the reference library does.
    const n = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= n;
    c *= n;
    d *= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const px = (i: number): number => {
    const p = Math.abs(pixdim[i] ?? 0);
    return p > 0 && Number.isFinite(p) ? p : 1;
  };
  const xd = px(1);
  const yd = px(2);
  const zd = (pixdim[0] ?? 1) < 0 ? -px(3) : px(3);
  return [
    (a * a + b * b - c * c - d * d) * xd,
    2 * (b * c - a * d) * yd,
    2 * (b * d + a * c) * zd,
    qoffset[0],
    2 * (b * c + a * d) * xd,
    (a * a + c * c - b * b - d * d) * yd,
    2 * (c * d - a * b) * zd,
    qoffset[1],
    2 * (b * d - a * c) * xd,
    2 * (c * d + a * b) * yd,
    (a * a + d * d - c * c - b * b) * zd,
    qoffset[2],
    0,
    0,
    0,
    1,
  ];
}

/** Length of column `col` of a 4x4 row-major affine (the voxel size along that axis). */
function columnNorm(m: readonly number[], col: number): number {
  return Math.hypot(m[col]!, m[4 + col]!, m[8 + col]!);
}

/** Whether an affine is finite with three non-zero columns. */
function usable(m: readonly number[]): boolean {
  if (m.some((x) => !Number.isFinite(x))) return false;
  for (let c = 0; c < 3; c++) if (!(columnNorm(m, c) > 0)) return false;
  return true;
}

/** Factor from xyzt_units' spatial unit to mm. */
function unitScale(xyztUnits: number): number {
  switch (xyztUnits & 7) {
    case 1:
      return 1000; // metre
    case 3:
      return 1e-3; // micron
    default:
      return 1; // mm or unknown
  }
}

/**
 * Decodes `count` voxels of one datatype at vox_offset straight into float32, applying slope/inter (in
 * float64 per voxel) and zeroing non-finite values. No float64 copy of the volume: the float32 output is
 * the only allocation as big as the volume.
 */
function decodeVoxels(
  b: Uint8Array,
  h: Header,
  count: number,
  slope: number,
  inter: number,
): { values: Float32Array; nan: number; inf: number; unsafeInt: number } {
  const v = view(b);
  const off = h.voxOffset;
  const le = h.le;
  const out = new Float32Array(count);
  let unsafeInt = 0;
  let nan = 0;
  let inf = 0;
  const put = (i: number, raw: number): void => {
    const f = Math.fround(raw * slope + inter);
    if (f - f === 0) out[i] = f;
    else if (Number.isNaN(f)) nan++;
    else inf++;
  };
  switch (h.dt.name) {
    case 'uint8':
      for (let i = 0; i < count; i++) put(i, b[off + i]!);
      break;
    case 'int8':
      for (let i = 0; i < count; i++) put(i, v.getInt8(off + i));
      break;
    case 'int16':
      for (let i = 0; i < count; i++) put(i, v.getInt16(off + 2 * i, le));
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) put(i, v.getUint16(off + 2 * i, le));
      break;
    case 'int32':
      for (let i = 0; i < count; i++) put(i, v.getInt32(off + 4 * i, le));
      break;
    case 'uint32':
      for (let i = 0; i < count; i++) put(i, v.getUint32(off + 4 * i, le));
      break;
    case 'float32':
      for (let i = 0; i < count; i++) put(i, v.getFloat32(off + 4 * i, le));
      break;
    case 'float64':
      for (let i = 0; i < count; i++) put(i, v.getFloat64(off + 8 * i, le));
      break;
    case 'int64':
    case 'uint64': {
      const signed = h.dt.name === 'int64';
      for (let i = 0; i < count; i++) {
        const n = Number(signed ? v.getBigInt64(off + 8 * i, le) : v.getBigUint64(off + 8 * i, le));
        if (Math.abs(n) > Number.MAX_SAFE_INTEGER) unsafeInt++;
        put(i, n);
      }
      break;
    }
  }
  return { values: out, nan, inf, unsafeInt };
}

/**
 * Reads a NIfTI-1 or NIfTI-2 image (.nii or .nii.gz bytes) into a Volume; see the module comment for
 * the policies. Throws an Error naming `opts.name` and the problem for anything malformed.
 */
export function readNifti(input: Uint8Array | ArrayBuffer, opts: NiftiReadOptions = {}): NiftiVolume {
  const s = readSettings(opts);
  const name = s.name;
  const bytesIn = toBytes(input);
  const reader = isGzip(bytesIn) ? new GunzipReader(bytesIn, name) : null;
  const h = parseStructure(reader ? reader.readHeader(544, 348) : bytesIn, s);
  const b = firstVolumeBytes(bytesIn, reader, h, s);
  const ext = parseExtensions(b, h, name);
  h.extensions = ext.exts;
  const lib = libHeader(b, h, ext.end, name);

  const warnings = fileWarnings(h, b, reader, name);
  const { slope, inter } = voxelScaling(lib, warnings, name);
  const values = decodeFirstVolume(b, h, slope, inter, warnings, name);
  const file = fileAffine(lib, h.srow, warnings, name);
  const { axisOrder, sliceAxisFrom } = chooseAxes(h.sliceDim, file.spacing, s.reorient);
  const dims: [number, number, number] = [h.shape[axisOrder[0]]!, h.shape[axisOrder[1]]!, h.shape[axisOrder[2]]!];
  return {
    data: permuteVoxels(values, h.shape, axisOrder),
    dims,
    spacing: [file.spacing[axisOrder[0]]!, file.spacing[axisOrder[1]]!, file.spacing[axisOrder[2]]!],
    affine: permuteAffine(file.affine, axisOrder),
    source: name,
    warnings,
    nifti: {
      version: h.version,
      littleEndian: h.le,
      gzip: reader !== null,
      gzipMembers: reader?.members ?? 0,
      datatype: h.dt.name,
      bitpix: h.bitpix,
      dim: h.dim,
      pixdim: lib.pixdim,
      voxOffset: h.voxOffset,
      sclSlope: lib.sclSlope,
      sclInter: lib.sclInter,
      qformCode: lib.qformCode,
      sformCode: lib.sformCode,
      affineSource: file.source,
      axisOrder,
      sliceAxisFrom,
      sliceDim: h.sliceDim,
      volumes: h.volumes,
      unitToMm: file.unitToMm,
      description: lib.description,
      extensions: h.extensions,
    },
  };
}

/**
 * The header and first volume's bytes: checks the load's memory peak against the budget, inflates
 * exactly that much of a gzip stream, and refuses a vox_offset or a volume that the data do not reach.
 */
function firstVolumeBytes(bytesIn: Uint8Array, reader: GunzipReader | null, h: Header, s: ReadSettings): Uint8Array {
  const { name } = s;
  const gz = reader !== null;
  const need = h.voxOffset + h.voxels * h.dt.bytes;
  // Peak of what follows: the input (held by the caller), the inflated header + first volume, the float32
  // volume and, when the axes are permuted, its reoriented copy.
  // A gzip stream is inflated up to vox_offset in slices before the rest is reserved (so a vox_offset
  // past the data costs nothing); those first bytes are held twice while they are copied in.
  checkHostBytes(
    bytesIn.byteLength + (gz ? need + h.voxOffset : 0) + h.voxels * 4 * (s.reorient ? 2 : 1),
    s.budget,
    `loading ${h.shape.join('×')} ${h.dt.name} voxels${gz ? ` (${formatBytes(need)} inflated from ${formatBytes(bytesIn.byteLength)})` : ''}`,
    name,
    'crop or resample the volume, or free memory',
  );
  const b = reader ? reader.readExactly(need, h.voxOffset + 1) : bytesIn;
  const where = gz ? 'decompressed data' : 'file';
  if (h.voxOffset >= b.length) {
    throw corrupt(name, `${name}: vox_offset ${h.voxOffset} is past the end of the ${where} (${b.length} bytes)`);
  }
  if (b.length < need) {
    throw corrupt(
      name,
      `${name}: truncated data: ${h.shape.join('x')} ${h.dt.name} voxels need ${h.voxels * h.dt.bytes} bytes after ` +
        `vox_offset ${h.voxOffset}, but the ${where} has only ${b.length - h.voxOffset}`,
    );
  }
  return b;
}

/** Warnings about the file as a whole: header repairs, data after the gzip stream, extra volumes, a short file. */
function fileWarnings(h: Header, b: Uint8Array, reader: GunzipReader | null, name: string): DataWarning[] {
  const warnings: DataWarning[] = [...h.notes];
  if (reader?.lateWarning) warnings.push(dataWarning('gzip-trailing-data', name, reader.lateWarning));
  if (h.volumes > 1) {
    warnings.push(
      dataWarning(
        'first-volume-only',
        name,
        `${h.ndim}D image with ${h.volumes} volumes (${h.dim.slice(1, h.ndim + 1).join('×')}); only the first 3-D volume is used`,
        h.volumes,
      ),
    );
  }
  if (!reader && h.volumes > 1 && b.length < h.voxOffset + h.voxels * h.dt.bytes * h.volumes) {
    warnings.push(dataWarning('short-file', name, 'the file is shorter than its later volumes need (only the first is used)'));
  }
  return warnings;
}

/** The slope and intercept to apply: identity for a zero or non-finite slope, 0 for a non-finite intercept. */
function voxelScaling(lib: LibFields, warnings: DataWarning[], name: string): { slope: number; inter: number } {
  const slope = lib.sclSlope;
  const inter = lib.sclInter;
  if (slope === 0 || !Number.isFinite(slope)) {
    if (slope !== 0) warnings.push(dataWarning('scaling-ignored', name, `scl_slope is ${slope}; treated as identity scaling`));
    return { slope: 1, inter: 0 };
  }
  if (!Number.isFinite(inter)) {
    warnings.push(dataWarning('scaling-ignored', name, `scl_inter is ${inter}; treated as 0`));
    return { slope, inter: 0 };
  }
  return { slope, inter };
}

/** The first volume in file order as float32, warning about voxels zeroed (NaN, ±Inf) or rounded (int64 > 2^53). */
function decodeFirstVolume(b: Uint8Array, h: Header, slope: number, inter: number, warnings: DataWarning[], name: string): Float32Array {
  const dec = decodeVoxels(b, h, h.voxels, slope, inter);
  if (dec.nan) warnings.push(dataWarning('nan-voxels', name, `${dec.nan} NaN voxels replaced with 0`, dec.nan));
  if (dec.inf) warnings.push(dataWarning('inf-voxels', name, `${dec.inf} infinite voxels replaced with 0`, dec.inf));
  if (dec.unsafeInt) warnings.push(dataWarning('precision-loss', name, `${dec.unsafeInt} ${h.dt.name} voxels exceed 2^53 and lost precision`, dec.unsafeInt));
  return dec.values;
}

/**
 * The file's voxel-to-mm affine over axes (i, j, k) by the policy sform > qform > pixdim, each only if
 * usable (a fallback from a set one is warned), scaled to mm; its column norms are the spacing.
 */
function fileAffine(
  lib: LibFields,
  srow: readonly number[],
  warnings: DataWarning[],
  name: string,
): { affine: number[]; source: NiftiInfo['affineSource']; spacing: number[]; unitToMm: number } {
  const unitToMm = unitScale(lib.xyztUnits);
  const sform = [...srow, 0, 0, 0, 1];
  const qform = qformToAffine(lib.quatern, lib.qoffset, lib.pixdim);
  const pix = (i: number): number => {
    const p = Math.abs(lib.pixdim[i] ?? 0);
    return p > 0 && Number.isFinite(p) ? p : 1;
  };
  let affine = [pix(1), 0, 0, 0, 0, pix(2), 0, 0, 0, 0, pix(3), 0, 0, 0, 0, 1];
  let source: NiftiInfo['affineSource'] = 'pixdim';
  if (lib.sformCode > 0 && usable(sform)) {
    affine = sform;
    source = 'sform';
  } else if (lib.qformCode > 0 && usable(qform)) {
    if (lib.sformCode > 0) warnings.push(dataWarning('orientation-fallback', name, 'sform is degenerate; using qform'));
    affine = qform;
    source = 'qform';
  } else if (lib.sformCode > 0 || lib.qformCode > 0) {
    warnings.push(dataWarning('orientation-fallback', name, 'sform/qform are degenerate; using pixdim scaling'));
  }
  for (let i = 0; i < 12; i++) affine[i] = affine[i]! * unitToMm;
  return { affine, source, spacing: [0, 1, 2].map((c) => columnNorm(affine, c)), unitToMm };
}

/**
 * File axes that become D, H and W: the slice axis (dim_info's slice_dim, else the largest spacing) is D,
 * then the slower and the faster of the other two. Without reorientation, file order reversed.
 */
function chooseAxes(
  sliceDim: number,
  fileSpacing: readonly number[],
  reorient: boolean,
): { axisOrder: [number, number, number]; sliceAxisFrom: NiftiInfo['sliceAxisFrom'] } {
  if (!reorient) return { axisOrder: [2, 1, 0], sliceAxisFrom: 'none' };
  let slice = 2;
  let sliceAxisFrom: NiftiInfo['sliceAxisFrom'];
  if (sliceDim >= 1 && sliceDim <= 3) {
    slice = sliceDim - 1;
    sliceAxisFrom = 'dim_info';
  } else {
    for (const ax of [1, 0]) if (fileSpacing[ax]! > fileSpacing[slice]! * (1 + 1e-6)) slice = ax;
    sliceAxisFrom = 'spacing';
  }
  const rest = [0, 1, 2].filter((a) => a !== slice);
  return { axisOrder: [slice, rest[1]!, rest[0]!], sliceAxisFrom };
}

/** The file-order volume laid out as [D, H, W] = file axes `axisOrder` (the input itself when that is file order). */
function permuteVoxels(values: Float32Array, shape: readonly [number, number, number], axisOrder: readonly [number, number, number]): Float32Array {
  if (axisOrder[0] === 2 && axisOrder[1] === 1) return values;
  const stride = [1, shape[0], shape[0] * shape[1]];
  const dims = [shape[axisOrder[0]]!, shape[axisOrder[1]]!, shape[axisOrder[2]]!];
  const data = new Float32Array(values.length);
  const [sd, sh, sw] = [stride[axisOrder[0]]!, stride[axisOrder[1]]!, stride[axisOrder[2]]!];
  let o = 0;
  for (let d = 0; d < dims[0]!; d++) {
    for (let hh = 0; hh < dims[1]!; hh++) {
      const base = d * sd + hh * sh;
      for (let w = 0; w < dims[2]!; w++) data[o++] = values[base + w * sw]!;
    }
  }
  return data;
}

/** The file affine with its first three columns in [D, H, W] order (the translation column kept). */
function permuteAffine(fileAffine: readonly number[], axisOrder: readonly [number, number, number]): number[] {
  const affine = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 3; c++) affine[r * 4 + c] = fileAffine[r * 4 + axisOrder[c]!]!;
    affine[r * 4 + 3] = fileAffine[r * 4 + 3]!;
  }
  return affine;
}

export interface NiftiWriteOptions {
  /** gzip the output (for .nii.gz). Default false. */
  gzip?: boolean;
  /** Stored datatype. float32 (default) is bit-exact; int16/uint8 use slope 1 when the data are integers in range. */
  datatype?: 'float32' | 'int16' | 'uint8';
  /** Text for the 80-byte description field. */
  description?: string;
}

/** Rotation matrix (columns already unit length, proper) to quaternion (b, c, d), as nifti1_io.c. */
function rotationToQuaternion(r: number[][]): [number, number, number] {
  const r11 = r[0]![0]!,
    r12 = r[0]![1]!,
    r13 = r[0]![2]!;
  const r21 = r[1]![0]!,
    r22 = r[1]![1]!,
    r23 = r[1]![2]!;
  const r31 = r[2]![0]!,
    r32 = r[2]![1]!,
    r33 = r[2]![2]!;
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return [b, c, d];
}

/** Chooses slope/inter so the data fit the integer type; slope 1 when they already are in-range integers. */
function quantisation(data: Float32Array, lo: number, hi: number): { slope: number; inter: number } {
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!Number.isFinite(x)) throw new Error(`writeNifti: voxel ${i} is ${x}; integer output needs finite data`);
    if (x < min) min = x;
    if (x > max) max = x;
    if (integral && x !== Math.round(x)) integral = false;
  }
  if (data.length === 0 || (integral && min >= lo && max <= hi)) return { slope: 1, inter: 0 };
  if (max === min) return { slope: 1, inter: min };
  const slope = (max - min) / (hi - lo);
  return { slope, inter: min - lo * slope };
}

/** writeNifti's layout: little-endian, data right after the 348-byte header and the 4-byte extension flag. */
const WRITE_LE = true;
const WRITE_VOX_OFFSET = 352;

/**
 * Writes a Volume as single-file NIfTI-1 (little-endian, vox_offset 352, units mm, sform and qform both
 * code 1 from the affine). File axes are (i, j, k) = (W, H, D) and dim_info's slice_dim marks k as the
 * slice axis, so every volume reads back with the same [D, H, W] layout.
 */
export function writeNifti(vol: Volume, opts: NiftiWriteOptions = {}): Uint8Array {
  checkWritable(vol);
  const datatype = opts.datatype ?? 'float32';
  const bytesPer = datatype === 'float32' ? 4 : datatype === 'int16' ? 2 : 1;
  const out = new Uint8Array(WRITE_VOX_OFFSET + vol.data.length * bytesPer);
  const v = new DataView(out.buffer);
  writeLayoutFields(v, vol.dims, datatype, bytesPer);
  writeOrientation(v, vol);
  const { slope, inter } = datatype === 'float32' ? { slope: 1, inter: 0 } : storedScaling(vol.data, datatype);
  writeIntensityFields(v, vol.data, slope, inter);
  const descr = (opts.description ?? `voxelgrad ${vol.source ?? ''}`).slice(0, 79);
  for (let i = 0; i < descr.length; i++) out[148 + i] = descr.charCodeAt(i) & 0x7f;
  writeVoxels(v, vol.data, datatype, slope, inter);
  return opts.gzip ? gzipSync(out, { level: 6 }) : out;
}

/** Refuses a volume NIfTI-1 cannot hold (a size outside 1..32767) or whose data do not match its dims. */
function checkWritable(vol: Volume): void {
  const [D, H, W] = vol.dims;
  for (const [n, axis] of [
    [W, 'W'],
    [H, 'H'],
    [D, 'D'],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 32767) {
      throw new Error(`writeNifti: ${axis} size ${n} does not fit NIfTI-1's 1..32767 dimension range`);
    }
  }
  if (vol.data.length !== D * H * W) {
    throw new Error(`writeNifti: data has ${vol.data.length} values but dims ${vol.dims.join('x')} need ${D * H * W}`);
  }
}

/** sizeof_hdr, dim_info (slice axis k), dim, datatype, bitpix, vox_offset, xyzt_units (mm) and the magic. */
function writeLayoutFields(v: DataView, dims: readonly [number, number, number], datatype: NonNullable<NiftiWriteOptions['datatype']>, bytesPer: number): void {
  const [D, H, W] = dims;
  v.setInt32(0, 348, WRITE_LE);
  v.setUint8(39, 3 << 4); // dim_info: slice dimension is k
  [3, W, H, D, 1, 1, 1, 1].forEach((x, i) => v.setInt16(40 + 2 * i, x, WRITE_LE));
  v.setInt16(70, DATATYPE_CODES[datatype], WRITE_LE);
  v.setInt16(72, bytesPer * 8, WRITE_LE);
  v.setFloat32(108, WRITE_VOX_OFFSET, WRITE_LE);
  v.setUint8(123, 2); // xyzt_units: mm
  [0x6e, 0x2b, 0x31, 0].forEach((x, i) => v.setUint8(344 + i, x)); // "n+1\0"; bytes 348..351: extension flag 0
}

/**
 * pixdim (with qfac), the qform (quaternion and offset) and the sform, all from the volume's affine: the
 * file's axes (i, j, k) = (W, H, D), so its columns are ours reversed.
 */
function writeOrientation(v: DataView, vol: Volume): void {
  const A = vol.affine;
  const col = (c: number): [number, number, number] => [A[c]!, A[4 + c]!, A[8 + c]!];
  const fileCols = [col(2), col(1), col(0)];
  const spacingFile = [vol.spacing[2], vol.spacing[1], vol.spacing[0]];
  const { r, qfac } = properRotation(fileCols);
  const pixdim = [qfac, ...fileCols.map((c, i) => Math.hypot(...c) || spacingFile[i]!), 1, 0, 0, 0];
  pixdim.forEach((x, i) => v.setFloat32(76 + 4 * i, x, WRITE_LE));
  v.setInt16(252, 1, WRITE_LE); // qform_code: scanner anatomical
  v.setInt16(254, 1, WRITE_LE); // sform_code
  rotationToQuaternion(r).forEach((x, i) => v.setFloat32(256 + 4 * i, x, WRITE_LE));
  [A[3]!, A[7]!, A[11]!].forEach((x, i) => v.setFloat32(268 + 4 * i, x, WRITE_LE));
  for (let row = 0; row < 3; row++) {
    for (let c = 0; c < 3; c++) v.setFloat32(280 + 16 * row + 4 * c, fileCols[c]![row]!, WRITE_LE);
    v.setFloat32(280 + 16 * row + 12, A[row * 4 + 3]!, WRITE_LE);
  }
}

/**
 * The rotation of the file-axis columns (normalised; a zero column becomes its unit axis) made proper, as
 * the qform needs: with a negative determinant the third column is flipped and qfac is -1.
 */
function properRotation(fileCols: readonly [number, number, number][]): { r: number[][]; qfac: number } {
  const units: number[][] = fileCols.map((c, i) => {
    const nrm = Math.hypot(...c);
    return nrm > 0 ? c.map((x) => x / nrm) : [0, 1, 2].map((k) => (k === i ? 1 : 0));
  });
  const r: number[][] = [0, 1, 2].map((row) => [units[0]![row]!, units[1]![row]!, units[2]![row]!]);
  const det =
    r[0]![0]! * (r[1]![1]! * r[2]![2]! - r[1]![2]! * r[2]![1]!) -
    r[0]![1]! * (r[1]![0]! * r[2]![2]! - r[1]![2]! * r[2]![0]!) +
    r[0]![2]! * (r[1]![0]! * r[2]![1]! - r[1]![1]! * r[2]![0]!);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (let row = 0; row < 3; row++) r[row]![2] = -r[row]![2]!;
  return { r, qfac };
}

/** The slope/intercept an integer datatype is stored with (see `quantisation`). */
function storedScaling(data: Float32Array, datatype: NonNullable<NiftiWriteOptions['datatype']>): { slope: number; inter: number } {
  return datatype === 'int16' ? quantisation(data, -32768, 32767) : quantisation(data, 0, 255);
}

/** scl_slope, scl_inter and cal_max/cal_min (the data's range; 0 where it has no finite extreme). */
function writeIntensityFields(v: DataView, data: Float32Array, slope: number, inter: number): void {
  v.setFloat32(112, slope, WRITE_LE);
  v.setFloat32(116, inter, WRITE_LE);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  v.setFloat32(124, Number.isFinite(max) ? max : 0, WRITE_LE);
  v.setFloat32(128, Number.isFinite(min) ? min : 0, WRITE_LE);
}

/**
 * The voxels at vox_offset, i (W) fastest, then j (H), then k (D) — our [D, H, W] row-major order;
 * integer types rounded and clamped after removing slope and intercept.
 */
function writeVoxels(v: DataView, data: Float32Array, datatype: NonNullable<NiftiWriteOptions['datatype']>, slope: number, inter: number): void {
  const n = data.length;
  const off = WRITE_VOX_OFFSET;
  if (datatype === 'float32') {
    for (let i = 0; i < n; i++) v.setFloat32(off + 4 * i, data[i]!, WRITE_LE);
  } else if (datatype === 'int16') {
    for (let i = 0; i < n; i++) v.setInt16(off + 2 * i, Math.max(-32768, Math.min(32767, Math.round((data[i]! - inter) / slope))), WRITE_LE);
  } else {
    for (let i = 0; i < n; i++) v.setUint8(off + i, Math.max(0, Math.min(255, Math.round((data[i]! - inter) / slope))));
  }
}
