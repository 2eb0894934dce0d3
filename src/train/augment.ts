import { type AugmentSet, applyAugmentCpu, augmentConfigForSize, restrictAugmentConfig, sampleAugmentParams } from '../data/augment-params.js';
import { diagonalAffine } from '../data/volume.js';
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { MAX_MEDIAN_SIZE, augmentBatchGpu } from '../kernels/augment.js';
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

/**
 * The paper's 14 training augmentations (or the `light` set) with one random parameter set per volume
 * (src/data/augment-params.ts), blur kernels scaled to the input size: the CPU path (the GPU path,
 * gpuAugment, is used when it can run).
 */
export function cpuAugment(size: number, set: AugmentSet = 'paper'): AugmentFn {
  const config = restrictAugmentConfig(augmentConfigForSize(size), set);
  return (volume, dims, rng) =>
    applyAugmentCpu({ data: volume, dims, spacing: [1, 1, 1], affine: diagonalAffine([1, 1, 1]), warnings: [] }, sampleAugmentParams(rng, config)).data;
}

/**
 * The same augmentations on the GPU (src/kernels/augment.ts), drawing exactly cpuAugment's parameters;
 * null when a median window above the kernel's 11 px would be needed (inputs above ~430 px).
 */
export function gpuAugment(size: number, set: AugmentSet = 'paper'): BatchAugmentFn | null {
  const config = restrictAugmentConfig(augmentConfigForSize(size), set);
  if (config.medianBlur.p > 0 && config.medianBlur.sizes[1] > MAX_MEDIAN_SIZE) return null;
  return (gpu, batch, rng) =>
    augmentBatchGpu(
      gpu,
      batch,
      Array.from({ length: batch.shape[0]! }, () => sampleAugmentParams(rng, config)),
    );
}
