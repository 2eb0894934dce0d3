/**
 * One device per test worker (vitest forks: one process per file). The adapter follows the same
 * rules as the CLI: VOXELGRAD_ADAPTER / VOXELGRAD_VK_ICD, else the system default, else CPU drivers.
 */
import { acquireNodeGpu } from '../../src/gpu/acquire.node.js';
import type { Gpu } from '../../src/gpu/gpu.js';
import { fill } from '../../src/kernels/elementwise.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';

let shared: Promise<Gpu> | null = null;

export function testGpu(): Promise<Gpu> {
  shared ??= acquireNodeGpu({ debug: process.env.VOXELGRAD_DEBUG === '1' });
  return shared;
}

/** An output tensor pre-filled with NaN, so a kernel that skips an element cannot pass by luck. */
export function poisoned(gpu: Gpu, shape: readonly number[]): GpuTensor<'f32'> {
  return fill(gpu.empty(shape, 'f32'), Number.NaN);
}

/** ‖a − b‖₂ / ‖b‖₂ (b is the float64 reference); NaN anywhere in a gives NaN, which fails `< tol`. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length} differ`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  if (Number.isNaN(num)) return Number.NaN;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}
