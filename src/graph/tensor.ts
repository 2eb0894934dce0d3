/**
 * The autograd tensor: device data plus what is needed to differentiate through it.
 *
 * Ownership: a Tensor owns its `data` (and `grad`). A Node owns the extra device tensors it saved for
 * its backward (batch statistics, argmax indices…) and only *references* input data it needs. The
 * backward pass releases intermediate data as soon as no remaining node needs it.
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import type { OpName, OpSpecs } from './ops-spec.js';

export type F32 = GpuTensor<'f32'>;

export interface Node<K extends OpName = OpName> {
  readonly op: K;
  readonly inputs: readonly Tensor[];
  readonly attrs: OpSpecs[K]['attrs'];
  /** Device tensors the rule reads: references to input/output data or owned extras. */
  readonly saved: OpSpecs[K]['saved'];
  /** Extras this node allocated and must release when its backward is done (or it is discarded). */
  readonly owned: GpuTensor[];
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  grad: F32 | null = null;
  /** The op that produced this tensor (null for leaves: inputs and parameters). */
  node: Node | null;
  /** Keep `data` after backward (e.g. logits needed for metrics). Leaves are always kept. */
  retained = false;
  name: string | undefined;

  constructor(
    public data: F32,
    readonly requiresGrad: boolean,
    node: Node | null = null,
    name?: string,
  ) {
    this.node = node;
    this.name = name;
  }

  get shape(): readonly number[] {
    return this.data.shape;
  }

  get size(): number {
    return this.data.size;
  }

  get gpu(): Gpu {
    return this.data.gpu;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Marks the data to be kept when the backward pass frees intermediates; returns this. */
  retain(): this {
    this.retained = true;
    return this;
  }

  read(): Promise<Float32Array> {
    return this.data.read();
  }

  /** Frees data, grad and the producing node's extras. */
  release(): void {
    this.data.release();
    this.grad?.release();
    this.grad = null;
    if (this.node) {
      for (const t of this.node.owned) t.release();
      this.node = null;
    }
  }

  toString(): string {
    return `Tensor#${this.id}${this.name ? `(${this.name})` : ''}[${this.shape.join('×')}]${this.requiresGrad ? ' grad' : ''}`;
  }
}
