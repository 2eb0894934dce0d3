/**
 * The public functional API, with PyTorch's semantics (names in camelCase, same argument order,
 * shapes and defaults as `torch.nn.functional` / `torch` / `torchvision.ops`). See README
 * "Functional API" for the table of equivalents.
 */
export { add, mul, relu, reshape, scale, sigmoid, sub } from './ops/elementwise.js';
export { indexSelect, mean, sum, transpose } from './ops/layout.js';
export { batchNorm, batchNormRelu, depthAggregate, maxPool3d, planeAvgPool } from './ops/nn.js';
export { conv3d } from './ops/conv.js';
export { linear } from './ops/linear.js';
export { batchHardTripletLoss, centerLoss, sigmoidFocalLoss } from './ops/losses.js';
