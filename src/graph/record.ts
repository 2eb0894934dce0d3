/**
 * Recording: ops call `record` with their output; a Node is attached when grad mode is on and an
 * input requires a gradient. Separate from autograd.ts so ops can record without importing the
 * rule table (which imports the ops).
 */
import type { GpuTensor } from '../gpu/tensor.js';
import type { OpName, OpSpecs } from './ops-spec.js';
import { type F32, type Node, Tensor } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording (evaluation, metrics). Works for sync and async functions. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  let out: T;
  try {
    out = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (out instanceof Promise) {
    return out.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return out;
}

export interface RecordOptions {
  /** Extras allocated by the forward for the backward (released with the node). */
  owned?: GpuTensor[];
}

/** Wraps an op's output: records a node when grad mode is on and some input requires a gradient. */
export function record<K extends OpName>(
  op: K,
  inputs: readonly Tensor[],
  output: F32,
  attrs: OpSpecs[K]['attrs'],
  saved: OpSpecs[K]['saved'],
  opts: RecordOptions = {},
): Tensor {
  const requiresGrad = gradEnabled && inputs.some((t) => t.requiresGrad);
  if (!requiresGrad) {
    for (const t of opts.owned ?? []) t.release();
    return new Tensor(output, false);
  }
  const node: Node<K> = { op, inputs, attrs, saved, owned: opts.owned ?? [] };
  return new Tensor(output, true, node as unknown as Node);
}
