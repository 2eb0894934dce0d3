/**
 * The public functional API, with PyTorch's semantics (names in camelCase, same argument order,
 * shapes and defaults as `torch.nn.functional` / `torch` / `torchvision.ops`). See README
 * "Functional API" for the table of equivalents.
 */
export { add, mul, relu, reshape, scale, sigmoid, sub } from './ops/elementwise.js';
export { indexSelect, mean, sum, transpose } from './ops/layout.js';
export { batchNorm, batchNormRelu } from './ops/batchnorm.js';
export { depthAggregate } from './ops/depth-agg.js';
export { maxPool3d } from './ops/maxpool.js';
export { planeAvgPool } from './ops/plane-avgpool.js';
export { conv3d } from './ops/conv.js';
export { linear } from './ops/linear.js';
export { centerLoss } from './ops/center.js';
export { sigmoidFocalLoss } from './ops/focal.js';
export { batchHardTripletLoss } from './ops/triplet.js';
