import type { Rng } from '../util/rng.js';

/**
 * A training-time augmentation of one volume [D, H, W]: returns new data of the same size. The same
 * random parameters apply to every slice of the volume (the paper's 14 augmentations do that).
 */
export type AugmentFn = (volume: Float32Array, dims: [number, number, number], rng: Rng) => Float32Array;
