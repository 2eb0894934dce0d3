/** Differentiable elementwise ops and reshape (a view: no copy, the backward is a view too). */
import { GpuError } from '../../gpu/errors.js';
import * as ew from '../../kernels/elementwise.js';
import { record } from '../record.js';
import type { F32, Node } from '../tensor.js';
import type { Tensor } from '../tensor.js';

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new GpuError('usage', `${op}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ (no broadcasting)`);
  }
}

/** a + alpha·b (torch.add(input, other, alpha=1)). */
export function add(a: Tensor, b: Tensor, alpha = 1): Tensor {
  sameShape('add', a, b);
  return record('add', [a, b], ew.add(a.data, b.data, alpha), { alpha }, {});
}

/** a − alpha·b (torch.sub). */
export function sub(a: Tensor, b: Tensor, alpha = 1): Tensor {
  sameShape('sub', a, b);
  return record('sub', [a, b], ew.sub(a.data, b.data, alpha), { alpha }, {});
}

export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  return record('mul', [a, b], ew.mul(a.data, b.data), {}, { a: a.data, b: b.data });
}

/** alpha·x + beta. */
export function scale(x: Tensor, alpha: number, beta = 0): Tensor {
  return record('scale', [x], ew.scale(x.data, alpha, beta), { alpha, beta }, {});
}

export function relu(x: Tensor): Tensor {
  const y = ew.relu(x.data);
  return record('relu', [x], y, {}, { y });
}

export function sigmoid(x: Tensor): Tensor {
  const y = ew.sigmoid(x.data);
  return record('sigmoid', [x], y, {}, { y });
}

/** Same elements, new shape (torch.reshape on a contiguous tensor). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const out = x.data.view(shape) as F32;
  return record('reshape', [x], out, { from: x.shape }, {});
}

export const elementwiseRules = {
  add: (n: Node<'add'>, gy: F32) => [() => ew.copy(gy), () => (n.attrs.alpha === 1 ? ew.copy(gy) : ew.scale(gy, n.attrs.alpha))],
  sub: (n: Node<'sub'>, gy: F32) => [() => ew.copy(gy), () => ew.scale(gy, -n.attrs.alpha)],
  mul: (n: Node<'mul'>, gy: F32) => [() => ew.mul(gy, n.saved.b), () => ew.mul(gy, n.saved.a)],
  scale: (n: Node<'scale'>, gy: F32) => [() => ew.scale(gy, n.attrs.alpha)],
  relu: (n: Node<'relu'>, gy: F32) => [() => ew.reluBackward(gy, n.saved.y)],
  sigmoid: (n: Node<'sigmoid'>, gy: F32) => [
    () => {
      // dσ = σ(1 − σ)·gy
      const y = n.saved.y;
      const oneMinus = ew.scale(y, -1, 1);
      const s = ew.mul(y, oneMinus);
      const g = ew.mul(s, gy);
      oneMinus.release();
      s.release();
      return g;
    },
  ],
  reshape: (n: Node<'reshape'>, gy: F32) => [() => ew.copy(gy, gy.gpu.empty(n.attrs.from, 'f32'))],
};
