import { describe, expect, it } from 'vitest';
import { acquireNodeGpu, noAdapterMessage } from '../../src/gpu/acquire.node.js';
import { GpuError } from '../../src/gpu/errors.js';
import { add } from '../../src/kernels/elementwise.js';
import { testGpu } from '../helpers/gpu.js';

describe('device acquisition', async () => {
  const gpu = await testGpu();

  it('requests the adapter real limits and the useful features', () => {
    // The defaults are 128 MiB binding / 16 KiB workgroup storage; we must have asked for what exists.
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBe(gpu.adapter.limits.maxStorageBufferBindingSize);
    expect(gpu.device.limits.maxComputeWorkgroupStorageSize).toBe(gpu.adapter.limits.maxComputeWorkgroupStorageSize);
    expect(gpu.device.limits.maxBufferSize).toBe(gpu.adapter.limits.maxBufferSize);
    for (const f of ['timestamp-query', 'subgroups', 'shader-f16']) {
      expect(gpu.features.has(f)).toBe(gpu.adapter.features.includes(f));
    }
    expect(gpu.adapter.description.length).toBeGreaterThan(0);
  });

  it('an unknown adapter name is a usage error', async () => {
    await expect(acquireNodeGpu({ adapter: 'voodoo' })).rejects.toThrow(/unknown adapter 'voodoo'/);
  });

  it('the no-adapter message says what to install', () => {
    const m = noAdapterMessage(['system default (no adapter)']);
    expect(m).toMatch(/No WebGPU adapter found/);
    expect(m).toMatch(/apt-get install libvulkan1 chromium/);
    expect(m).toMatch(/VOXELGRAD_VK_ICD/);
  });

  it('uncaptured GPU errors surface at the next sync with the kernel names', async () => {
    const a = gpu.tensor([1, 2, 3, 4], [4]);
    // Destroying a buffer behind the runtime's back makes the next dispatch a validation error.
    a.buffer.destroy();
    const b = gpu.tensor([1, 2, 3, 4], [4]);
    add(a, b, 1);
    let err: unknown;
    try {
      await gpu.sync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuError);
    expect((err as Error).message).toMatch(/binary|add/);
    b.release();
  });
});
