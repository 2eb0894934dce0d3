/**
 * Imports every kernel module so the registry is complete (for `check:wgsl`, the GPU compile test,
 * and `voxelgrad info --kernels`). Add each new kernel module here.
 */
import './elementwise.js';
import './matmul.js';
import './conv.js';
import './conv-gemm.js';
import './conv-winograd.js';
import './linear.js';
import './layout.js';
import './depth-agg.js';
import './focal.js';
import './center.js';
import './triplet.js';
import './sgd.js';
import './adam.js';
import './activations.js';
import './batchnorm.js';
import './reduce.js';
import './plane-avgpool.js';
import './maxpool.js';
import './augment.js';

export { registeredKernels } from './define.js';
