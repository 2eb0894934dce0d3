/** Depth aggregation over the slice axis as a graph op (the paper's four volume heads). */
import type { GpuTensor } from '../../gpu/tensor.js';
import { type DepthAggKind, depthAgg, depthAggBackward } from '../../kernels/depth-agg.js';
import type { Thunks } from '../grad-rule.js';
import { record } from '../record.js';
import type { F32, Node, Tensor } from '../tensor.js';

/** Depth aggregation over the slice axis, [N, C, D] → [N, C] (avg, max, attention) or [N, C²] (bilinear). */
export function depthAggregate(input: Tensor, kind: DepthAggKind): Tensor {
  const r = depthAgg(kind, input.data);
  const owned: GpuTensor[] = [];
  if (r.saved.kind === 'max') owned.push(r.saved.argmax);
  if (r.saved.kind === 'bilinear') owned.push(r.saved.norm);
  return record('depthAggregate', [input], r.y as F32, {}, { x: input.data, aux: r.saved }, { owned });
}

export const depthAggRules = {
  depthAggregate: (n: Node<'depthAggregate'>, gy: F32): Thunks => [() => depthAggBackward(n.saved.x, n.saved.aux, gy) as F32],
};
