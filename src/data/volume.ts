/**
 * The one in-memory volume type shared by the loader, preprocessing, augmentation and the synthetic cohort.
 * Layout is [D, H, W] row-major (W fastest), D = slice axis (the largest spacing), matching the engine's
 * NCDHW tensors with N = C = 1.
 */
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
  /** Non-fatal problems met while loading or processing (NaN voxels replaced, 4D input cut to 3D, ...). */
  warnings: string[];
}

/** Affine of an axis-aligned grid with the given spacing and origin (no rotation). */
export function diagonalAffine(spacing: readonly [number, number, number], origin: readonly number[] = [0, 0, 0]): number[] {
  return [
    spacing[0], 0, 0, origin[0] ?? 0,
    0, spacing[1], 0, origin[1] ?? 0,
    0, 0, spacing[2], origin[2] ?? 0,
    0, 0, 0, 1,
  ];
}

export function voxelCount(dims: readonly [number, number, number]): number {
  return dims[0] * dims[1] * dims[2];
}

/** Deep copy (data, arrays and warnings), so a caller can mutate the result freely. */
export function cloneVolume(v: Volume): Volume {
  const out: Volume = {
    data: v.data.slice(),
    dims: [...v.dims],
    spacing: [...v.spacing],
    affine: v.affine.slice(),
    warnings: v.warnings.slice(),
  };
  if (v.source !== undefined) out.source = v.source;
  return out;
}

/** Throws when a Volume's fields are inconsistent (wrong data length, bad dims/spacing/affine). */
export function assertVolume(v: Volume, what = 'volume'): void {
  const name = v.source ?? what;
  if (!Array.isArray(v.dims) || v.dims.length !== 3 || v.dims.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${name}: dims must be three positive integers [D, H, W], got ${JSON.stringify(v.dims)}`);
  }
  if (!(v.data instanceof Float32Array) || v.data.length !== voxelCount(v.dims)) {
    throw new Error(`${name}: data must be a Float32Array of D*H*W = ${voxelCount(v.dims)} values, got ${v.data?.length}`);
  }
  if (!Array.isArray(v.spacing) || v.spacing.length !== 3 || v.spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new Error(`${name}: spacing must be three positive finite mm values, got ${JSON.stringify(v.spacing)}`);
  }
  if (!Array.isArray(v.affine) || v.affine.length !== 16 || v.affine.some((a) => !Number.isFinite(a))) {
    throw new Error(`${name}: affine must be 16 finite numbers (4x4 row-major)`);
  }
}

/** Multiply two 4x4 row-major matrices. */
export function matMul4(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}
