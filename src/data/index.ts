/**
 * Browser-safe data layer: NIfTI in/out on bytes, manifest, preprocessing, synthetic cohort and the
 * augmentation parameter contract. Node file access lives in io.node.ts and synth.node.ts.
 */
export * from './volume.js';
export * from './nifti.js';
export * from './manifest.js';
export * from './preprocess.js';
export * from './synth.js';
export * from './augment-params.js';
export { percentiles, resizeBilinear, sampleBilinear, clahe, gaussianKernel1d, medianFilter } from './image-ops.js';
