/**
 * Modules with a named parameter registry (PyTorch-style dotted names, e.g. `layer1.0.conv1.weight`),
 * train/eval mode, and deferred materialisation: a model's structure and parameter count exist
 * before any device memory is allocated (`voxelgrad info --model` needs no GPU); `materialize()`
 * allocates and initialises everything from a seeded RNG.
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { leaf } from '../graph/autograd.js';
import type { Tensor } from '../graph/tensor.js';
import type { Rng } from '../util/rng.js';

export type InitKind =
  | { kind: 'kaiming-normal-fan-out'; fanOut: number } // torchvision ResNet convs (relu gain)
  | { kind: 'uniform'; bound: number } // nn.Linear default: U(±1/√fan_in) for weight and bias
  | { kind: 'const'; value: number };

export class Param {
  tensor: Tensor | null = null;
  constructor(
    readonly shape: readonly number[],
    readonly init: InitKind,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get value(): Tensor {
    if (!this.tensor) throw new Error('parameter used before the model was materialized (call model.materialize(gpu, rng))');
    return this.tensor;
  }
}

/** A non-trainable state tensor (running statistics). `dtype: 'i64'` is bookkeeping only (num_batches_tracked). */
export class Buffer {
  tensor: GpuTensor<'f32'> | null = null;
  /** Host-side counter for integer buffers (PyTorch's num_batches_tracked). */
  count = 0;
  constructor(
    readonly shape: readonly number[],
    readonly init: number,
    readonly dtype: 'f32' | 'i64' = 'f32',
  ) {}

  get value(): GpuTensor<'f32'> {
    if (!this.tensor) throw new Error('buffer used before the model was materialized');
    return this.tensor;
  }
}

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Param>();
  private readonly _buffers = new Map<string, Buffer>();
  private readonly _children = new Map<string, Module>();

  protected param(name: string, shape: readonly number[], init: InitKind): Param {
    const p = new Param(shape, init);
    this._params.set(name, p);
    return p;
  }

  protected buffer(name: string, shape: readonly number[], init: number, dtype: 'f32' | 'i64' = 'f32'): Buffer {
    const b = new Buffer(shape, init, dtype);
    this._buffers.set(name, b);
    return b;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ''): Generator<[string, Param]> {
    for (const [n, p] of this._params) yield [prefix + n, p];
    for (const [n, c] of this._children) yield* c.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, Buffer]> {
    for (const [n, b] of this._buffers) yield [prefix + n, b];
    for (const [n, c] of this._children) yield* c.namedBuffers(`${prefix}${n}.`);
  }

  *modules(): Generator<Module> {
    yield this;
    for (const c of this._children.values()) yield* c.modules();
  }

  parameters(): Param[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Number of trainable parameters (what the paper's Table 2 counts). */
  parameterCount(): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) n += p.size;
    return n;
  }

  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Allocates and initialises every parameter and buffer in registration order (reproducible by seed). */
  materialize(gpu: Gpu, rng: Rng): this {
    for (const [name, p] of this.namedParameters()) {
      if (p.tensor) continue;
      p.tensor = leaf(gpu.tensor(initValues(p, rng), p.shape), true, name);
    }
    for (const [, b] of this.namedBuffers()) {
      if (b.tensor) continue;
      b.tensor = gpu.tensor(new Float32Array(b.shape.reduce((a, c) => a * c, 1)).fill(b.init), b.shape);
    }
    return this;
  }

  /** Frees all device memory of the model (parameters, grads, buffers). */
  release(): void {
    for (const [, p] of this.namedParameters()) {
      p.tensor?.release();
      p.tensor = null;
    }
    for (const [, b] of this.namedBuffers()) {
      b.tensor?.release();
      b.tensor = null;
    }
  }

  /** Drops accumulated gradients (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const [, p] of this.namedParameters()) {
      p.tensor?.grad?.release();
      if (p.tensor) p.tensor.grad = null;
    }
  }
}

export function initValues(p: Param, rng: Rng): Float32Array {
  const n = p.size;
  const init = p.init;
  switch (init.kind) {
    case 'const':
      return new Float32Array(n).fill(init.value);
    case 'uniform':
      return rng.uniformArray(n, -init.bound, init.bound);
    case 'kaiming-normal-fan-out':
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = gain / √fan_out, gain = √2.
      return rng.normalArray(n, 0, Math.sqrt(2 / init.fanOut));
  }
}
