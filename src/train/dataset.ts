/**
 * Training samples: preprocessed volumes in memory with their label and representative slices, and
 * batching into the network's fixed input [B, 1, D, S, S].
 *
 * Depth policy: a batch needs one depth D. Volumes with more slices are cropped to D slices centred on
 * their representative slices (which always stay inside); volumes with fewer are padded by repeating
 * the edge slices. The representative-slice indices are shifted accordingly.
 *
 * Test-time input: the window around the representative slices needs the annotation, which a staged
 * volume does not have — the point of a volume-level model is to stage without manual slice selection.
 * `TestInput` 'central' gives a volume-level model the stack's central D slices instead (padded the same
 * way), which depends on neither the label nor the annotation; it assumes the acquisition is centred on
 * the tumour, as a rectal high-resolution T2 stack is planned (and as the synthetic cohort is).
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
  /**
   * The label- and annotation-free test-time input (`centralDepth`), when the loader was asked for it:
   * the stack's central D slices, and the representative slices that fall inside them (for slice-level
   * scoring only; possibly none).
   */
  central?: { volume: Float32Array; dims: [number, number, number]; repSlices: number[] };
}

/** What a volume-level model sees at test time: `window` (D slices around the annotation) or `central`. */
export const TEST_INPUTS = ['window', 'central'] as const;
export type TestInput = (typeof TEST_INPUTS)[number];

/** First slice of the `depth`-slice window centred on a D-slice stack (negative when the stack is shorter). */
export function centralStart(D: number, depth: number): number {
  return D >= depth ? Math.floor((D - depth) / 2) : -Math.floor((depth - D) / 2);
}

/** Slices [start, start + depth) of a [D, H, W] stack; indices outside it repeat the edge slices. */
export function depthWindow(volume: Float32Array, dims: readonly [number, number, number], start: number, depth: number): Float32Array {
  const [D, H, W] = dims;
  const plane = H * W;
  if (volume.length !== D * plane) throw new Error(`depthWindow: volume has ${volume.length} values, dims [${dims.join(', ')}] need ${D * plane}`);
  const out = new Float32Array(depth * plane);
  for (let d = 0; d < depth; d++) {
    const src = Math.min(D - 1, Math.max(0, d + start));
    out.set(volume.subarray(src * plane, (src + 1) * plane), d * plane);
  }
  return out;
}

/** The stack's central `depth` slices: the test-time input that needs neither label nor annotation. */
export function centralDepth(s: Pick<Sample, 'volume' | 'dims' | 'repSlices'>, depth: number): NonNullable<Sample['central']> {
  const [D, H, W] = s.dims;
  const start = centralStart(D, depth);
  return {
    volume: D === depth ? s.volume : depthWindow(s.volume, s.dims, start, depth),
    dims: [depth, H, W],
    repSlices: s.repSlices.map((r) => r - start).filter((r) => r >= 0 && r < depth),
  };
}

/**
 * The samples a fold is tested on, as `input` asks: the training window, or each sample's central
 * crop (volume-level heads only: the slice head's score is, by definition, read on the representative
 * slices, so it keeps the window).
 */
export function testSamples(samples: readonly Sample[], input: TestInput, head: string): Sample[] {
  if (input === 'window' || head === 'slice') return [...samples];
  return samples.map((s) => {
    if (!s.central) throw new Error(`sample ${s.id} has no central test input; load the cohort with testInput 'central' (sampleFromVolume)`);
    return { ...s, volume: s.central.volume, dims: s.central.dims, repSlices: s.central.repSlices };
  });
}

/**
 * First slice of the training window: `depth` slices centred on the representative slices (all of them
 * inside when they span less than `depth`); the stack's centre when it is not longer than `depth`.
 */
export function windowStart(D: number, depth: number, repSlices: readonly number[]): number {
  if (D <= depth) return centralStart(D, depth);
  const lo = Math.min(...repSlices);
  const hi = Math.max(...repSlices);
  const centre = Math.round((lo + hi) / 2);
  let start = Math.min(Math.max(0, centre - Math.floor(depth / 2)), D - depth);
  if (hi - lo < depth) start = Math.min(Math.max(start, hi - depth + 1), lo);
  return start;
}

/** Crops or pads a sample to `depth` slices around its representative slices. */
export function fitDepth(s: Sample, depth: number): Sample {
  const [D, H, W] = s.dims;
  if (D === depth) return s;
  const start = windowStart(D, depth, s.repSlices);
  const out = depthWindow(s.volume, s.dims, start, depth);
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
