/**
 * Training samples: preprocessed volumes in memory with their label and representative slices, and
 * batching into the network's fixed input [B, 1, D, S, S].
 *
 * Depth policy: a batch needs one depth D. Volumes with more slices are cropped to D slices centred on
 * their representative slices (which always stay inside); volumes with fewer are padded by repeating
 * the edge slices. The representative-slice indices are shifted accordingly.
 */
import type { DataWarning } from '../data/volume.js';
import type { Rng } from '../util/rng.js';
import type { AugmentFn } from './augment.js';

export interface Sample {
  id: string;
  /** 1 = T3, 0 = T2. */
  label: 0 | 1;
  /** [D, H, W] intensities (already preprocessed: normalised, resized in-plane). */
  volume: Float32Array;
  dims: [number, number, number];
  /** 0-based representative slice indices along D (1–3). */
  repSlices: number[];
  /** Optional fixed fold from the manifest. */
  fold?: number;
  /** What the loader and preprocessing repaired in this subject's file (shown, and kept in the report). */
  warnings?: DataWarning[];
}

/** Crops or pads a sample to `depth` slices around its representative slices. */
export function fitDepth(s: Sample, depth: number): Sample {
  const [D, H, W] = s.dims;
  if (D === depth) return s;
  const plane = H * W;
  const out = new Float32Array(depth * plane);
  let start: number;
  if (D > depth) {
    const lo = Math.min(...s.repSlices);
    const hi = Math.max(...s.repSlices);
    const centre = Math.round((lo + hi) / 2);
    start = Math.min(Math.max(0, centre - Math.floor(depth / 2)), D - depth);
    // Keep every representative slice inside the window when they span less than the depth.
    if (hi - lo < depth) start = Math.min(Math.max(start, hi - depth + 1), lo);
  } else start = -Math.floor((depth - D) / 2);
  for (let d = 0; d < depth; d++) {
    const src = Math.min(D - 1, Math.max(0, d + start));
    out.set(s.volume.subarray(src * plane, (src + 1) * plane), d * plane);
  }
  const rep = s.repSlices.map((r) => r - start).filter((r) => r >= 0 && r < depth);
  return { ...s, volume: out, dims: [depth, H, W], repSlices: rep.length ? rep : [Math.floor(depth / 2)] };
}

export interface Batch {
  /** [B, 1, D, H, W] host data. */
  data: Float32Array;
  shape: [number, number, number, number, number];
  labels: (0 | 1)[];
  ids: string[];
  repSlices: number[][];
}

/** Stacks samples (all of the same dims) into a batch, applying `augment` per volume when given. */
export function makeBatch(samples: readonly Sample[], augment?: AugmentFn, rng?: Rng): Batch {
  if (samples.length === 0) throw new Error('makeBatch: empty batch');
  const [D, H, W] = samples[0]!.dims;
  const n = D * H * W;
  const data = new Float32Array(samples.length * n);
  samples.forEach((s, i) => {
    if (s.dims[0] !== D || s.dims[1] !== H || s.dims[2] !== W) {
      throw new Error(`makeBatch: sample ${s.id} has dims [${s.dims.join(', ')}], the batch [${D}, ${H}, ${W}]; fit depth and in-plane size first`);
    }
    data.set(augment && rng ? augment(s.volume, s.dims, rng) : s.volume, i * n);
  });
  return {
    data,
    shape: [samples.length, 1, D, H, W],
    labels: samples.map((s) => s.label),
    ids: samples.map((s) => s.id),
    repSlices: samples.map((s) => s.repSlices),
  };
}

/**
 * Training batches for one epoch: indices (already oversampled) shuffled, cut into batches of `size`;
 * the last partial batch is dropped when it is too small for batch statistics (< 2).
 */
export function epochBatches(indices: readonly number[], size: number, rng: Rng): number[][] {
  const order = rng.shuffle([...indices]);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += size) {
    const b = order.slice(i, i + size);
    if (b.length >= 2 || out.length === 0) out.push(b);
  }
  return out;
}
