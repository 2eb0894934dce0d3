import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireNodeGpu } from '../../src/gpu/acquire.node.js';
import { GpuError } from '../../src/gpu/errors.js';

// Own file (own process): it points the Vulkan loader at a driver that does not exist.
describe('no adapter at all', () => {
  it('a missing driver is one clear error, not a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-icd-'));
    const icd = join(dir, 'broken_icd.json');
    writeFileSync(icd, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: join(dir, 'libnothing.so'), api_version: '1.3.0' } }));
    const saved = process.env.VOXELGRAD_VK_ICD;
    process.env.VOXELGRAD_VK_ICD = icd;
    try {
      let err: unknown;
      try {
        await acquireNodeGpu();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GpuError);
      expect((err as GpuError).kind).toBe('no-adapter');
      expect((err as Error).message).toMatch(/No WebGPU adapter found/);
      expect((err as Error).message).toContain(icd);
    } finally {
      if (saved === undefined) delete process.env.VOXELGRAD_VK_ICD;
      else process.env.VOXELGRAD_VK_ICD = saved;
    }
  });
});
