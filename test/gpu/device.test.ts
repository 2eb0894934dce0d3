import { describe, expect, it } from 'vitest';
import { acquireNodeGpu, noAdapterMessage } from '../../src/gpu/acquire.node.js';
import { GpuError } from '../../src/gpu/errors.js';
import { OPTIONAL_FEATURES, parseFeatureList, parseLimitsMode } from '../../src/gpu/gpu.js';
import { add } from '../../src/kernels/elementwise.js';
import { testGpu } from '../helpers/gpu.js';

describe('device acquisition', async () => {
  const gpu = await testGpu();

  it('requests the adapter real limits (or the core defaults when asked) and the useful features not left off', () => {
    if (gpu.adapter.limitsMode === 'adapter') {
      // The defaults are 128 MiB binding / 16 KiB workgroup storage; we must have asked for what exists.
      expect(gpu.device.limits.maxStorageBufferBindingSize).toBe(gpu.adapter.limits.maxStorageBufferBindingSize);
      expect(gpu.device.limits.maxComputeWorkgroupStorageSize).toBe(gpu.adapter.limits.maxComputeWorkgroupStorageSize);
      expect(gpu.device.limits.maxBufferSize).toBe(gpu.adapter.limits.maxBufferSize);
    } else {
      expect(gpu.limits.maxComputeWorkgroupStorageSize).toBe(16384);
      expect(gpu.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
      expect(gpu.limits.maxStorageBufferBindingSize).toBe(128 * 1024 * 1024);
    }
    for (const f of OPTIONAL_FEATURES) {
      expect(gpu.features.has(f), f).toBe(gpu.adapter.features.includes(f) && !gpu.adapter.disabledFeatures.includes(f));
    }
    expect(gpu.adapter.description.length).toBeGreaterThan(0);
  });

  it('optional features can be left off and WebGPU core limits requested, and bad values are usage errors', async () => {
    const masked = await acquireNodeGpu({ disableFeatures: ['subgroups', 'timestamp-query'], limits: 'core' });
    try {
      expect(masked.features.has('subgroups')).toBe(false);
      expect(masked.features.has('timestamp-query')).toBe(false);
      expect(masked.adapter.disabledFeatures).toEqual(masked.adapter.features.filter((f) => f === 'subgroups' || f === 'timestamp-query'));
      expect(masked.adapter.limitsMode).toBe('core');
      expect(masked.limits.maxComputeWorkgroupStorageSize).toBe(16384);
      expect(masked.limits.maxComputeInvocationsPerWorkgroup).toBe(256);
    } finally {
      masked.destroy();
    }
    expect(() => parseFeatureList('subgroups, shader_f16', 'VOXELGRAD_DISABLE_FEATURES')).toThrow(
      /VOXELGRAD_DISABLE_FEATURES: unknown feature 'shader_f16'; .*subgroups, shader-f16/,
    );
    expect(parseFeatureList(' subgroups ,, shader-f16', 'x')).toEqual(['subgroups', 'shader-f16']);
    expect(() => parseLimitsMode('low', 'VOXELGRAD_LIMITS')).toThrow(/'low' is not a limits mode/);
    await expect(acquireNodeGpu({ disableFeatures: ['wide-lines'] })).rejects.toThrow(/unknown feature 'wide-lines'/);
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
