/**
 * Every differentiable op: its attributes and what it saves for backward. The gradient-rule table
 * (rules.ts) is typed `{ [K in OpName]: GradRule<K> }`, so an op listed here without a rule does
 * not compile.
 */
import type { GpuTensor } from '../gpu/tensor.js';

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
}

export type OpName = keyof OpSpecs;
