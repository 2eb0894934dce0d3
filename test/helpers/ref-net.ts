/**
 * A float64 CPU forward of a StagingNet and its training loss, built only from the `*.ref.ts`
 * references (independent of the GPU kernels and of the autograd). Used to finite-difference the whole
 * network in double precision and compare with the GPU autograd gradients.
 */
import { batchNormReluTrainRef, batchNormTrainRef } from '../../src/kernels/batchnorm.ref.js';
import { conv3dRef } from '../../src/kernels/conv.ref.js';
import { depthAggRef } from '../../src/kernels/depth-agg.ref.js';
import { focalLossRef } from '../../src/kernels/focal.ref.js';
import { linearRef } from '../../src/kernels/linear.ref.js';
import { maxPool3dRef } from '../../src/kernels/maxpool.ref.js';
import { planeAvgPoolRef } from '../../src/kernels/plane-avgpool.ref.js';
import { tripletLossBatchHardRef } from '../../src/kernels/triplet.ref.js';
import type { BasicBlock, Conv2Plus1d, Conv3d } from '../../src/model/layers.js';
import type { StagingNet } from '../../src/model/resnet.js';
import type { Batch } from '../../src/train/dataset.js';
import type { LossConfig } from '../../src/train/trainer.js';

type P = Map<string, Float64Array>;
interface T {
  x: Float64Array;
  s: number[];
}

function conv(p: P, name: string, m: Conv3d, t: T): T {
  const r = conv3dRef(t.x, t.s, p.get(`${name}.weight`)!, m.weight.shape, { stride: m.stride, pad: m.padding });
  return { x: r.y, s: r.yShape };
}

function bn(p: P, name: string, t: T, relu: boolean): T {
  const c = t.s[1]!;
  const f = relu ? batchNormReluTrainRef : batchNormTrainRef;
  const r = f(t.x, t.s, p.get(`${name}.weight`)!, p.get(`${name}.bias`)!, new Float64Array(c), new Float64Array(c).fill(1));
  return { x: r.y, s: t.s };
}

function anyConv(p: P, name: string, m: Conv3d | Conv2Plus1d, t: T): T {
  if ('spatial' in m) return conv(p, `${name}.temporal`, m.temporal, bn(p, `${name}.bn`, conv(p, `${name}.spatial`, m.spatial, t), true));
  return conv(p, name, m, t);
}

function block(p: P, name: string, b: BasicBlock, t: T): T {
  const h = bn(p, `${name}.bn1`, anyConv(p, `${name}.conv1`, b.conv1, t), true);
  const o = bn(p, `${name}.bn2`, anyConv(p, `${name}.conv2`, b.conv2, h), false);
  const id = b.downsample ? bn(p, `${name}.downsample.1`, conv(p, `${name}.downsample.0`, b.downsample.conv, t), false) : t;
  return { x: o.x.map((v, i) => Math.max(0, v + id.x[i]!)), s: o.s };
}

export interface RefLossOptions {
  /**
   * Added to the slice features [N, C, D] (the plane-averaged last stage, input of the slice FC and the
   * depth aggregation) before the heads: lets a test evaluate the heads at another device's features.
   */
  featureOffset?: ArrayLike<number>;
}

/** The slice features [N, C, D] of the float64 forward (the heads' input). */
export function refFeatures(model: StagingNet, p: P, batch: Batch): { y: Float64Array; yShape: number[] } {
  let t: T = { x: Float64Array.from(batch.data), s: [...batch.shape] };
  t = bn(p, 'bn1', anyConv(p, 'conv1', model.conv1, t), true);
  const mp = maxPool3dRef(t.x, t.s, { kernel: [1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1] });
  t = { x: mp.y, s: mp.yShape };
  model.layers.forEach((stage, i) => stage.forEach((b, j) => (t = block(p, `layer${i + 1}.${j}`, b, t))));
  return planeAvgPoolRef(t.x, t.s);
}

/** The training loss of trainer.ts's batchLoss, in float64 on the CPU. */
export function refLoss(model: StagingNet, p: P, batch: Batch, loss: LossConfig, opts: RefLossOptions = {}): number {
  const f = refFeatures(model, p, batch); // [N, C, D]
  const off = opts.featureOffset;
  if (off) {
    if (off.length !== f.y.length) throw new Error(`refLoss: featureOffset has ${off.length} values, the features ${f.y.length}`);
    for (let i = 0; i < off.length; i++) f.y[i] = f.y[i]! + off[i]!;
  }
  const [n, c, d] = f.yShape as [number, number, number];
  const sliceEmb = new Float64Array(n * d * c);
  for (let a = 0; a < n; a++) for (let ch = 0; ch < c; ch++) for (let z = 0; z < d; z++) sliceEmb[(a * d + z) * c + ch] = f.y[(a * c + ch) * d + z]!;
  const sliceLogits = linearRef(sliceEmb, [n * d, c], p.get('fc.weight')!, [1, c], p.get('fc.bias')!).y;
  const rows: number[] = [];
  const rowLabels: number[] = [];
  batch.repSlices.forEach((rs, b) => rs.forEach((r) => (rows.push(b * d + r), rowLabels.push(batch.labels[b]!))));
  let total = focalLossRef(
    rows.map((r) => sliceLogits[r]!),
    rowLabels,
    { gamma: loss.gamma, alpha: loss.alpha },
  ).loss;
  let emb: Float64Array;
  let embShape: number[];
  let embLabels: number[];
  if (model.headFc) {
    const kind = model.config.head as 'avg' | 'max' | 'attention' | 'bilinear';
    emb = depthAggRef(kind, f.y, [n, c, d]);
    embShape = [n, emb.length / n];
    const vol = linearRef(emb, embShape, p.get('head_fc.weight')!, [1, embShape[1]!], p.get('head_fc.bias')!).y;
    total = loss.sliceLossWeight * total + focalLossRef(vol, batch.labels, { gamma: loss.gamma, alpha: loss.alpha }).loss;
    embLabels = batch.labels;
  } else {
    emb = Float64Array.from(rows.flatMap((r) => Array.from(sliceEmb.subarray(r * c, (r + 1) * c))));
    embShape = [rows.length, c];
    embLabels = rowLabels;
  }
  if (loss.triplet > 0)
    total += loss.triplet * tripletLossBatchHardRef(emb, embShape, embLabels, { margin: loss.margin, normalize: loss.tripletNormalize }).loss;
  return total;
}
