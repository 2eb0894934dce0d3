import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { Rng } from '../util/rng.js';

/**
 * A training-time augmentation of one volume [D, H, W]: returns new data of the same size. The same
 * random parameters apply to every slice of the volume (the paper's 14 augmentations do that).
 */
export type AugmentFn = (volume: Float32Array, dims: [number, number, number], rng: Rng) => Float32Array;

/**
 * The same augmentation on a batch already on the device [B, 1, D, H, W]; draws parameters from `rng`
 * volume by volume in batch order, exactly as the per-volume CPU path does.
 */
export type BatchAugmentFn = (gpu: Gpu, batch: GpuTensor<'f32'>, rng: Rng) => GpuTensor<'f32'>;
