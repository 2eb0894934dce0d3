import { GpuError } from './errors.js';

export type DType = 'f32' | 'i32' | 'u32';

export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

export const BYTES_PER_ELEMENT = 4;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major (C-contiguous) strides in elements; for NCDHW: [C·D·H·W, D·H·W, H·W, W, 1]. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

export function validateShape(shape: readonly number[]): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new GpuError('usage', `invalid tensor shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
  }
}

/**
 * The device a tensor lives on: what the tensor itself calls, declared here so that tensor.ts needs no
 * import of gpu.ts. gpu.ts widens it to the whole `Gpu` class by declaration merging, so `t.gpu` is
 * a `Gpu` wherever the engine is loaded, and the two modules form no cycle.
 */
export interface TensorDevice {
  releaseBuffer(buf: GPUBuffer): void;
  read<D extends DType>(t: GpuTensor<D>): Promise<TypedArrayFor<D>>;
}

let nextId = 1;

/**
 * A dense, contiguous tensor in a device buffer (from the pool). Always released explicitly — by
 * `release()`, or by the `tidy` scope that created it — never by garbage collection.
 */
export class GpuTensor<D extends DType = DType> {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly size: number;
  readonly byteLength: number;
  private buf: GPUBuffer | null;
  /** For views: the tensor that owns the buffer (a view never releases it). */
  readonly base: GpuTensor<D> | null;
  /** Where the elements start in the buffer (non-zero only for sub-range views). */
  readonly byteOffset: number;

  constructor(
    readonly gpu: TensorDevice,
    shape: readonly number[],
    readonly dtype: D,
    buffer: GPUBuffer,
    base: GpuTensor<D> | null = null,
    byteOffset = 0,
  ) {
    this.base = base;
    this.byteOffset = byteOffset;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(contiguousStrides(shape));
    this.size = numel(shape);
    this.byteLength = this.size * BYTES_PER_ELEMENT;
    this.buf = buffer;
  }

  get buffer(): GPUBuffer {
    if (this.base?.released)
      throw new GpuError('released', `view #${this.id} [${this.shape.join(', ')}] of tensor #${this.base.id} was used after its base was released`);
    if (!this.buf) throw new GpuError('released', `tensor #${this.id} [${this.shape.join(', ')}] ${this.dtype} was used after release`);
    return this.buf;
  }

  get released(): boolean {
    return this.buf === null || (this.base?.released ?? false);
  }

  /**
   * The same elements under another shape (no copy). The view does not own the buffer: releasing it
   * is a no-op, and it becomes unusable when the base is released.
   */
  view(shape: readonly number[]): GpuTensor<D> {
    if (numel(shape) !== this.size) throw new GpuError('usage', `cannot view ${this.size} elements of [${this.shape.join(', ')}] as [${shape.join(', ')}]`);
    return new GpuTensor(this.gpu, shape, this.dtype, this.buffer, this.base ?? this, this.byteOffset);
  }

  /**
   * A view of `shape` starting `offset` elements into this tensor (no copy). WebGPU binds sub-ranges
   * only at multiples of minStorageBufferOffsetAlignment (256 bytes), so `offset` must be a multiple of 64.
   */
  viewAt(offset: number, shape: readonly number[]): GpuTensor<D> {
    const n = numel(shape);
    if (!Number.isInteger(offset) || offset < 0 || offset + n > this.size) {
      throw new GpuError('usage', `viewAt(${offset}, [${shape.join(', ')}]) is outside tensor [${this.shape.join(', ')}]`);
    }
    const bytes = this.byteOffset + offset * BYTES_PER_ELEMENT;
    if (bytes % 256 !== 0) throw new GpuError('usage', `viewAt: byte offset ${bytes} is not a multiple of 256 (WebGPU's storage binding alignment)`);
    return new GpuTensor(this.gpu, shape, this.dtype, this.buffer, this.base ?? this, bytes);
  }

  /** Returns the buffer to the pool. Safe to call twice. */
  release(): void {
    if (this.base) {
      this.buf = null;
      return;
    }
    if (!this.buf) return;
    this.gpu.releaseBuffer(this.buf);
    this.buf = null;
  }

  /** Copies the tensor to the host (waits for all queued GPU work). */
  read(): Promise<TypedArrayFor<D>> {
    return this.gpu.read(this);
  }

  toString(): string {
    return `GpuTensor#${this.id}[${this.shape.join('×')}] ${this.dtype}`;
  }
}
