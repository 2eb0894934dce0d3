/**
 * voxelgrad/node — what only Node can do: Dawn-backed GPU acquisition with the CPU-driver fallbacks,
 * NIfTI files and atomic writes, run folders on disk, manifests on disk, the synthetic cohort written
 * to a folder, and the `voxelgrad` command line itself.
 */
export { acquireNodeGpu, type AdapterChoice, type NodeGpuOptions } from './gpu/acquire.node.js';
export { readVolumeFile, writeFileAtomic, writeVolumeFile } from './data/io.node.js';
export { writeSyntheticCohort, type WriteCohortOptions, type WrittenCohort } from './data/synth.node.js';
export { DirStore } from './train/dir-store.node.js';
export { loadCohortFiles, readManifest } from './train/cohort.node.js';
export { main } from './cli/main.js';
