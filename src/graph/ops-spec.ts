/**
 * Every differentiable op: its attributes and what it saves for backward. The gradient-rule table
 * (rules.ts) is typed `{ [K in OpName]: GradRule<K> }`, so an op listed here without a rule does
 * not compile.
 */
import type { GpuTensor } from '../gpu/tensor.js';
import type { Triple } from '../kernels/axes.js';
import type { DepthAggSaved } from '../kernels/depth-agg.js';
import type { MaxPoolParams } from '../kernels/maxpool.js';

type F32 = GpuTensor<'f32'>;
type None = Record<string, never>;

export interface OpSpecs {
  add: { attrs: { alpha: number }; saved: None };
  sub: { attrs: { alpha: number }; saved: None };
  mul: { attrs: None; saved: { a: F32; b: F32 } };
  scale: { attrs: { alpha: number; beta: number }; saved: None };
  relu: { attrs: None; saved: { y: F32 } };
  sigmoid: { attrs: None; saved: { y: F32 } };
  reshape: { attrs: { from: readonly number[] }; saved: None };
  transpose: { attrs: { d0: number; d1: number }; saved: None };
  indexSelect: { attrs: { xShape: readonly number[] }; saved: { idx: GpuTensor<'u32'> } };
  sum: { attrs: { scale: number; xShape: readonly number[] }; saved: None };
  batchNorm: {
    attrs: { training: boolean; relu: boolean; eps: number };
    saved: { x: F32; y: F32; gamma: F32; mean: F32; invStd: F32; runningMean: F32 | null; runningVar: F32 | null };
  };
  maxPool3d: { attrs: { xShape: readonly number[]; params: MaxPoolParams }; saved: { argmax: GpuTensor<'i32'> } };
  planeAvgPool: { attrs: { xShape: readonly number[] }; saved: None };
  depthAggregate: { attrs: None; saved: { x: F32; aux: DepthAggSaved } };
  focalLoss: { attrs: None; saved: { grad: F32 } };
  centerLoss: { attrs: None; saved: { grad: F32 } };
  tripletLoss: { attrs: None; saved: { x: F32; coef: F32 } };
  conv3d: { attrs: { stride: Triple; pad: Triple; dilation: Triple; xShape: readonly number[]; wShape: readonly number[] }; saved: { x: F32; w: F32 } };
  linear: { attrs: { hasBias: boolean }; saved: { x: F32; w: F32 } };
}

export type OpName = keyof OpSpecs;
