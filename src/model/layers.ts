/**
 * Layers of the paper's networks. Convolutions are one NCDHW family: a 2-D layer is a 3-D one with
 * kernel depth 1 (and depth padding 0), so "2D", "3D" and "(2+1)D" differ only in extents.
 */
import * as F from '../graph/functional.js';
import type { Triple } from '../kernels/axes.js';
import type { Tensor } from '../graph/tensor.js';
import { type Buffer, Module, type Param } from './module.js';

export class Conv3d extends Module {
  readonly weight: Param;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: Triple,
    readonly stride: Triple = [1, 1, 1],
    readonly padding: Triple = [0, 0, 0],
  ) {
    super();
    const k = kernel[0] * kernel[1] * kernel[2];
    this.weight = this.param('weight', [outChannels, inChannels, ...kernel], { kind: 'kaiming-normal-fan-out', fanOut: outChannels * k });
  }

  forward(x: Tensor): Tensor {
    return F.conv3d(x, this.weight.value, null, this.stride, this.padding);
  }
}

export class BatchNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: Buffer;
  readonly runningVar: Buffer;
  readonly numBatchesTracked: Buffer;
  constructor(
    readonly channels: number,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', [channels], { kind: 'const', value: 1 });
    this.bias = this.param('bias', [channels], { kind: 'const', value: 0 });
    this.runningMean = this.buffer('running_mean', [channels], 0);
    this.runningVar = this.buffer('running_var', [channels], 1);
    this.numBatchesTracked = this.buffer('num_batches_tracked', [], 0, 'i64');
  }

  /** BN, optionally fused with the ReLU that follows it in every ResNet position that has one. */
  forward(x: Tensor, relu = false): Tensor {
    if (this.training) this.numBatchesTracked.count++;
    const fn = relu ? F.batchNormRelu : F.batchNorm;
    return fn(x, this.runningMean.value, this.runningVar.value, this.weight.value, this.bias.value, this.training, this.momentum, this.eps);
  }
}

export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    // nn.Linear's default init: kaiming_uniform(a=√5) ≡ U(±1/√in) for the weight, same bound for the bias.
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', [outFeatures, inFeatures], { kind: 'uniform', bound });
    this.bias = this.param('bias', [outFeatures], { kind: 'uniform', bound });
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight.value, this.bias.value);
  }
}

/** How a 3×3 convolution of a block is realised. */
export type ConvKind = '2d' | '3d' | '2+1d';

/**
 * Tran et al.'s (2+1)D factorisation of a t×d×d convolution: a 1×d×d spatial conv to M_i channels,
 * BN + ReLU, then a t×1×1 temporal conv, with M_i = ⌊t·d²·N_in·N_out / (d²·N_in + t·N_out)⌋ so the
 * parameter count matches the full 3-D convolution.
 */
export class Conv2Plus1d extends Module {
  readonly spatial: Conv3d;
  readonly bn: BatchNorm;
  readonly temporal: Conv3d;
  readonly mid: number;
  constructor(inC: number, outC: number, t: number, d: number, stride: Triple, pad: Triple) {
    super();
    this.mid = Math.floor((t * d * d * inC * outC) / (d * d * inC + t * outC));
    this.spatial = this.child('spatial', new Conv3d(inC, this.mid, [1, d, d], [1, stride[1], stride[2]], [0, pad[1], pad[2]]));
    this.bn = this.child('bn', new BatchNorm(this.mid));
    this.temporal = this.child('temporal', new Conv3d(this.mid, outC, [t, 1, 1], [stride[0], 1, 1], [pad[0], 0, 0]));
  }

  forward(x: Tensor): Tensor {
    return this.temporal.forward(this.bn.forward(this.spatial.forward(x), true));
  }
}

export function makeConv(kind: ConvKind, inC: number, outC: number, d: number, stride: Triple, t = 3): Conv3d | Conv2Plus1d {
  const p = (d - 1) / 2;
  if (kind === '2d') return new Conv3d(inC, outC, [1, d, d], stride, [0, p, p]);
  if (kind === '3d') return new Conv3d(inC, outC, [t, d, d], stride, [(t - 1) / 2, p, p]);
  return new Conv2Plus1d(inC, outC, t, d, stride, [(t - 1) / 2, p, p]);
}

/** ResNet's BasicBlock: conv-BN-ReLU-conv-BN (+ 1×1×1 conv-BN downsample) + identity, ReLU. */
export class BasicBlock extends Module {
  readonly conv1: Conv3d | Conv2Plus1d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv3d | Conv2Plus1d;
  readonly bn2: BatchNorm;
  readonly downsample: Downsample | null;
  constructor(kind: ConvKind, inC: number, outC: number, inPlaneStride: number) {
    super();
    const stride: Triple = [1, inPlaneStride, inPlaneStride]; // depth is never strided
    this.conv1 = this.child('conv1', makeConv(kind, inC, outC, 3, stride));
    this.bn1 = this.child('bn1', new BatchNorm(outC));
    this.conv2 = this.child('conv2', makeConv(kind, outC, outC, 3, [1, 1, 1]));
    this.bn2 = this.child('bn2', new BatchNorm(outC));
    this.downsample = inPlaneStride !== 1 || inC !== outC ? this.child('downsample', new Downsample(inC, outC, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    const h = this.bn1.forward(this.conv1.forward(x), true);
    const out = this.bn2.forward(this.conv2.forward(h));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return F.relu(F.add(out, identity));
  }
}

/** torchvision's `downsample = Sequential(conv1x1, BN)`; children named '0' and '1' for state-dict parity. */
export class Downsample extends Module {
  readonly conv: Conv3d;
  readonly bn: BatchNorm;
  constructor(inC: number, outC: number, stride: Triple) {
    super();
    this.conv = this.child('0', new Conv3d(inC, outC, [1, 1, 1], stride, [0, 0, 0]));
    this.bn = this.child('1', new BatchNorm(outC));
  }

  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}
