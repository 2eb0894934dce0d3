/**
 * Ground truth of a synthetic subject on any voxel grid: where the T2/T3 criterion is decided (the
 * tumour's outgrowth: for T3 the breach, tumour beyond the muscularis in the fat; for T2 the same
 * outgrowth held in by the pushed, intact muscularis), and the whole tumour. The grid is given by its
 * dims and affine, so the masks line up with a volume after any crop or resize that keeps the affine
 * up to date (src/data/preprocess.ts does): e.g. the preprocessed network input a saliency map lives on.
 */
import { buildSliceModel, classifyPoint, type SliceModel, type SynthAnatomy, TISSUE } from './synth.js';

export interface TruthMasks {
  /** Fraction (0..1) of each voxel in the criterion region (the outgrowth), [D, H, W]. */
  criterion: Float32Array;
  /** Fraction (0..1) of each voxel that is tumour, [D, H, W]. */
  tumour: Float32Array;
}

/**
 * Rasterises the criterion region and the tumour of `a` on a grid: each voxel is sampled on an
 * n × n × n lattice (partial volume), voxel → mm through `affine` (row-major 4×4, (d, h, w, 1) → (x, y, z, 1),
 * as Volume.affine; the synthetic cohort's frame is the anatomy's mm frame). `sliceOffset` shifts the
 * grid's depth index into the affine's (a window cut from a longer stack, as train's depth fit does).
 */
export function truthMasks(
  a: SynthAnatomy,
  grid: { dims: readonly [number, number, number]; affine: readonly number[] },
  opts: { samples?: number; sliceOffset?: number } = {},
): TruthMasks {
  const [D, H, W] = grid.dims;
  const n = opts.samples ?? 3;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`truthMasks: samples must be a positive integer, got ${n}`);
  const A = grid.affine;
  if (A.length !== 16) throw new Error(`truthMasks: affine must have 16 numbers, got ${A.length}`);
  // Slices of the synthetic frame are axial: the depth axis maps to z only and the in-plane axes to x, y.
  if (Math.abs(A[8 + 1]!) > 1e-9 || Math.abs(A[8 + 2]!) > 1e-9 || Math.abs(A[0]!) > 1e-9 || Math.abs(A[4]!) > 1e-9) {
    throw new Error('truthMasks: the grid must be axial in the synthetic frame (depth along z only); pass the volume’s own affine');
  }
  const off = opts.sliceOffset ?? 0;
  const criterion = new Float32Array(D * H * W);
  const tumour = new Float32Array(D * H * W);
  const info = new Float64Array(2);
  const per = 1 / (n * n * n);
  const sub = (k: number): number => (k + 0.5) / n - 0.5;
  for (let d = 0; d < D; d++) {
    const models: SliceModel[] = [];
    for (let k = 0; k < n; k++) models.push(buildSliceModel(a, A[8 + 0]! * (d + off + sub(k)) + A[8 + 3]!));
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        let c = 0;
        let t = 0;
        for (let i = 0; i < n; i++) {
          const hh = h + sub(i);
          for (let j = 0; j < n; j++) {
            const ww = w + sub(j);
            const x = A[1]! * hh + A[2]! * ww + A[3]!;
            const y = A[5]! * hh + A[6]! * ww + A[7]!;
            for (const m of models) {
              if (classifyPoint(m, x, y, info) === TISSUE.tumour) {
                t++;
                if (info[1] === 1) c++;
              }
            }
          }
        }
        const o = (d * H + h) * W + w;
        criterion[o] = c * per;
        tumour[o] = t * per;
      }
    }
  }
  return { criterion, tumour };
}
