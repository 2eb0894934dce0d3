/**
 * Work over tensors larger than one storage binding. A tensor may be larger than
 * maxStorageBufferBindingSize (up to maxBufferSize); an op that meets one binds views of it a few batch
 * entries (or, for element-wise ops, a flat range) at a time. WebGPU binds sub-ranges only at multiples of
 * 256 bytes (minStorageBufferOffsetAlignment is at most 256), so every chunk starts on such a boundary.
 */
import { GpuError } from '../gpu/errors.js';
import { fmtBytes } from '../gpu/gpu.js';
import type { Gpu } from '../gpu/gpu.js';
import type { DType, GpuTensor } from '../gpu/tensor.js';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Batch chunks [n0, n1) small enough that every tensor of an op fits one storage binding: `viewed` holds
 * the elements per batch entry of the tensors bound as per-chunk views (their chunk starts must fall on
 * WebGPU's 256-byte binding alignment), `tempBytes` the largest per-entry temporary the op re-lays them
 * into. One chunk when everything fits. A single batch entry over the limit is refused with a message.
 */
export function batchChunks(gpu: Gpu, op: string, n: number, viewed: readonly number[], tempBytes: number): [number, number][] {
  // The device's binding limit (the tuning's lower `bindingLimit` only steers the ops' own re-layout chunks).
  const limit = gpu.limits.maxStorageBufferBindingSize!;
  const perEntry = Math.max(tempBytes, ...viewed.map((e) => 4 * e));
  if (perEntry * n <= limit) return [[0, n]];
  const fit = Math.floor(limit / perEntry);
  if (fit < 1) {
    throw new GpuError(
      'over-limit',
      `${op}: one batch entry needs ${fmtBytes(perEntry)} in one binding, more than this adapter's ${fmtBytes(limit)} (maxStorageBufferBindingSize); crop or resize the volume, or use an adapter with larger bindings`,
    );
  }
  // Entries per 256-byte-aligned step of every viewed tensor.
  const step = viewed.reduce((s, e) => {
    const k = 64 / gcd(e, 64);
    return (s * k) / gcd(s, k);
  }, 1);
  if (fit < step) {
    throw new GpuError(
      'over-limit',
      `${op}: ${fit} batch entries fit one binding (${fmtBytes(limit)}), but chunks must start on 256-byte boundaries, every ${step} entries here; crop or resize the volume so that a batch entry is a multiple of 64 elements, or use an adapter with larger bindings`,
    );
  }
  const per = Math.floor(fit / step) * step;
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < n; n0 += per) out.push([n0, Math.min(n, n0 + per)]);
  return out;
}

/** Batch entries n0 .. n1 − 1 of an [N, …] tensor, as a view. */
export function entries<D extends DType>(t: GpuTensor<D>, n0: number, n1: number): GpuTensor<D> {
  const per = t.size / t.shape[0]!;
  return t.viewAt(n0 * per, [n1 - n0, ...t.shape.slice(1)]);
}

/**
 * Flat ranges [e0, e1) of `n` elements for element-wise work: one range when a tensor of n elements fits
 * one binding, else ranges of the largest multiple of 64 elements (256 bytes) that does.
 */
export function elementChunks(gpu: Gpu, n: number): [number, number][] {
  const limit = gpu.limits.maxStorageBufferBindingSize!;
  if (4 * n <= limit) return [[0, n]];
  const per = Math.floor(limit / 256) * 64;
  const out: [number, number][] = [];
  for (let e0 = 0; e0 < n; e0 += per) out.push([e0, Math.min(n, e0 + per)]);
  return out;
}

/** Elements e0 .. e1 − 1 of a tensor (any shape), as a flat view. */
export function elements<D extends DType>(t: GpuTensor<D>, e0: number, e1: number): GpuTensor<D> {
  return t.viewAt(e0, [e1 - e0]);
}
