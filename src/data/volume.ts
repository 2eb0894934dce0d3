/**
 * The one in-memory volume type shared by the loader, preprocessing, augmentation and the synthetic cohort.
 * Layout is [D, H, W] row-major (W fastest), D = slice axis (the largest spacing), matching the engine's
 * NCDHW tensors with N = C = 1.
 */
import { InputError } from '../util/errors.js';
export interface Volume {
  /** Voxel values, length D*H*W, index = (d*H + h)*W + w. Always finite. */
  data: Float32Array;
  /** [D, H, W]. */
  dims: [number, number, number];
  /** Voxel spacing in mm, [sD, sH, sW]. */
  spacing: [number, number, number];
  /**
   * 4x4 row-major affine (16 numbers) mapping voxel indices (d, h, w, 1) to scanner/world mm (x, y, z, 1).
   * Column 0 is the step of one voxel along D, column 1 along H, column 2 along W, column 3 the origin.
   */
  affine: number[];
  /** Where the volume came from (file name, synthetic subject id); used in messages. */
  source?: string;
  /**
   * What the loader or the processing repaired or assumed (NaN voxels set to 0, a 4-D file cut to its
   * first volume, bytes after the gzip stream ignored, ...), one entry each, for the caller to show.
   */
  warnings: DataWarning[];
}

/** Stable identifiers of the repairs a caller may want to treat specially (all are shown either way). */
export type DataWarningCode =
  /** A 4-D (or higher) file: only its first 3-D volume is used. */
  | 'first-volume-only'
  /** Voxels that were NaN after scaling are set to 0. */
  | 'nan-voxels'
  /** Voxels that were ±Inf after scaling are set to 0. */
  | 'inf-voxels'
  /** Bytes after the (last) gzip member could not be inflated and are ignored. */
  | 'gzip-trailing-data'
  /** vox_offset 0 in a single-file NIfTI-1, taken as 352. */
  | 'vox-offset-assumed'
  /** scl_slope / scl_inter unusable: identity scaling (or intercept 0) used. */
  | 'scaling-ignored'
  /** sform/qform unusable: the next transform in the policy is used. */
  | 'orientation-fallback'
  /** 64-bit integer voxels beyond 2^53 lose precision as floats. */
  | 'precision-loss'
  /** The file is shorter than its later (unused) volumes need. */
  | 'short-file'
  /** Constant intensities after clipping: the volume normalises to zeros. */
  | 'constant-intensities';

/** One repair or assumption, as data: a page, `--json` and the report print it their own way. */
export interface DataWarning {
  code: DataWarningCode;
  /** The file or subject it concerns. */
  source: string;
  /** What was found and what was done, one sentence without the source prefix. */
  message: string;
  /** How many voxels, bytes or volumes it concerns, when countable. */
  count?: number;
}

/** `source: message`, the one-line form for a terminal or a log. */
export function formatWarning(w: DataWarning): string {
  return `${w.source}: ${w.message}`;
}

export function dataWarning(code: DataWarningCode, source: string, message: string, count?: number): DataWarning {
  return count === undefined ? { code, source, message } : { code, source, message, count };
}

/** Affine of an axis-aligned grid with the given spacing and origin (no rotation). */
export function diagonalAffine(spacing: readonly [number, number, number], origin: readonly number[] = [0, 0, 0]): number[] {
  return [spacing[0], 0, 0, origin[0] ?? 0, 0, spacing[1], 0, origin[1] ?? 0, 0, 0, spacing[2], origin[2] ?? 0, 0, 0, 0, 1];
}

export function voxelCount(dims: readonly [number, number, number]): number {
  return dims[0] * dims[1] * dims[2];
}

/** Smallest size along each axis of a volume: two slices of at least 2×2 pixels (less is a 2-D image or a line). */
export const MIN_VOLUME_DIMS: readonly [number, number, number] = [2, 2, 2];

/**
 * Refuses what is not a 3-D volume where one is needed (training, prediction): a 2-D image, a single
 * slice (a 4-D series of one slice cut to its first volume is one too), or a strip. Repeating one slice
 * to the network's depth would give a confident answer about a volume that does not exist.
 */
export function requireVolume3d(v: Pick<Volume, 'dims' | 'source'>, what = 'volume'): void {
  const name = v.source ?? what;
  const [D, H, W] = v.dims;
  if (D < MIN_VOLUME_DIMS[0]) {
    throw new InputError(
      'unsuitable',
      `${name}: a single slice (${H}×${W} pixels, ${D} slice) is not a volume; the networks need at least ${MIN_VOLUME_DIMS[0]} slices — ` +
        'export the whole series as one 3-D NIfTI (e.g. dcm2niix on the DICOM folder)',
      name,
    );
  }
  if (H < MIN_VOLUME_DIMS[1] || W < MIN_VOLUME_DIMS[2]) {
    throw new InputError(
      'unsuitable',
      `${name}: ${D}×${H}×${W} voxels (D×H×W) is not an image volume: the slices must be at least ${MIN_VOLUME_DIMS[1]}×${MIN_VOLUME_DIMS[2]} pixels — ` +
        'check that the file is the MR volume and not a mask, a profile or a 2-D image stored along another axis',
      name,
    );
  }
}
