/**
 * Recording and reverse-mode differentiation.
 *
 * Ops record a Node on their output (inputs, attrs, explicitly saved tensors). `backward(loss)`
 * orders the nodes reachable from the loss by an iterative depth-first search (no recursion, so deep
 * networks cannot overflow the stack), walks them outputs-first, asks each op's rule for one thunk per
 * input and calls only the thunks of inputs that require a gradient. Gradients of tensors used more
 * than once are summed. A node's extras and its output's data are released right after the node has
 * run: every reader of a tensor's data is either a consumer (already processed) or its producer.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { add, fill } from '../kernels/elementwise.js';
import type { Thunks } from './grad-rule.js';
import { RULES } from './rules.js';
import { type F32, type Node, Tensor } from './tensor.js';

export { isGradEnabled, noGrad, record } from './record.js';

function topoOrder(root: Tensor): Tensor[] {
  // Iterative post-order DFS over tensors that have a node; result: producers before consumers.
  const order: Tensor[] = [];
  const state = new Map<Tensor, 1 | 2>();
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (i === 0) {
      if (state.has(t)) {
        stack.pop();
        continue;
      }
      state.set(t, 1);
    }
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i]!;
      if (child.requiresGrad && child.node && !state.has(child)) stack.push([child, 0]);
    } else {
      stack.pop();
      state.set(t, 2);
      if (t.node) order.push(t);
    }
  }
  return order;
}

/**
 * Accumulates d(loss)/d(leaf) into every leaf's `.grad` (adding to an existing grad, as PyTorch).
 * `loss` must have one element unless `gradOutput` is given.
 */
export function backward(loss: Tensor, gradOutput?: F32): void {
  if (!loss.requiresGrad)
    throw new GpuError('usage', `backward(): ${loss} does not require a gradient (no parameter reached it, or it was computed under noGrad)`);
  if (!loss.node) throw new GpuError('usage', `backward(): ${loss} is a leaf or its graph was already consumed by an earlier backward()`);
  const gpu = loss.gpu;
  let seed: F32;
  if (gradOutput) {
    if (gradOutput.size !== loss.size) throw new GpuError('usage', `backward(): gradOutput has ${gradOutput.size} elements, the tensor ${loss.size}`);
    seed = gradOutput;
  } else {
    if (loss.size !== 1) throw new GpuError('usage', `backward(): ${loss} is not a scalar; pass gradOutput`);
    seed = fill(gpu.empty([1], 'f32'), 1);
  }
  const order = topoOrder(loss);
  // Data that a retained tensor views must outlive the pass.
  const pinned = new Set<GpuTensor>();
  for (const t of order) if (t.retained && t.data.base) pinned.add(t.data.base);
  pinned.add(loss.data.base ?? loss.data);

  const grads = new Map<Tensor, F32>();
  grads.set(loss, seed);
  const accumulate = (t: Tensor, g: F32) => {
    const prev = grads.get(t);
    if (!prev) {
      grads.set(t, g);
      return;
    }
    grads.set(t, add(prev, g));
    if (prev !== seed || gradOutput === undefined) prev.release();
    g.release();
  };

  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k]!;
    const node = t.node!;
    const gy = grads.get(t);
    grads.delete(t);
    if (gy) {
      const rule = RULES[node.op] as unknown as (n: Node, g: F32) => Thunks;
      const thunks = rule(node, gy);
      node.inputs.forEach((inp, i) => {
        if (!inp.requiresGrad) return;
        const th = thunks[i];
        if (!th) return;
        accumulate(inp, th());
      });
      thunks.dispose?.();
      if (gy !== gradOutput) gy.release();
    }
    for (const o of node.owned) o.release();
    t.node = null;
    if (!t.retained && t !== loss && !pinned.has(t.data)) t.data.release();
  }
  // Whatever is left belongs to leaves.
  for (const [leaf, g] of grads) {
    if (!leaf.isLeaf) {
      g.release();
      continue;
    }
    if (leaf.grad) {
      const sum = gpu.keep(add(leaf.grad, g));
      leaf.grad.release();
      g.release();
      leaf.grad = sum;
    } else leaf.grad = g === gradOutput ? g : gpu.keep(g);
  }
  loss.node = null;
}

/** A leaf tensor (input or parameter). */
export function leaf(data: F32, requiresGrad = false, name?: string): Tensor {
  return new Tensor(data, requiresGrad, null, name);
}
