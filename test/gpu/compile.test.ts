/** On the GPU: every kernel's module compiles with no error or warning, and bad shaders fail clearly. */
import { describe, expect, it } from 'vitest';
import '../../src/gpu/runtime-reflection.js';
import { registeredKernels } from '../../src/kernels/all.js';
import type { KernelDef } from '../../src/gpu/gpu.js';
import { testGpu } from '../helpers/gpu.js';

describe('shader compilation on the device', async () => {
  const gpu = await testGpu();

  it('every registered kernel compiles without messages', async () => {
    const results = await gpu.compileAll(registeredKernels());
    const messages = results.flatMap((r) => r.messages.map((m) => `${r.shader}:${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`));
    expect(messages).toEqual([]);
    // Default pipelines too (override-specialised compilation can fail separately).
    for (const d of registeredKernels()) gpu.kernel(d).pipeline();
    await gpu.sync();
  });

  it('a shader that parses but does not type-check reports its error with the line', async () => {
    const bad: KernelDef = {
      name: 'bad-kernel',
      shaderPath: 'shaders/test/bad.wgsl',
      source: `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { let v: u32 = 1.5; y[0] = f32(v); }`,
      bindings: { y: 'read_write' },
    };
    const msgs = await gpu.kernel(bad).compile();
    const errors = msgs.filter((m) => m.type === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.lineNum).toBe(2);
    // Building a pipeline from it raises a validation error that names the kernel.
    gpu.kernel(bad).pipeline();
    await expect(gpu.sync()).rejects.toThrow(/bad-kernel|bad\.wgsl/);
  });

  it('a definition that disagrees with its shader is rejected before any GPU work', () => {
    const def: KernelDef = {
      name: 'mismatch',
      shaderPath: 'shaders/test/mismatch.wgsl',
      source: `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = x[0]; }`,
      bindings: { x: 'read_write', z: 'read' },
    };
    expect(() => gpu.kernel(def)).toThrow(/binding 'x' is declared 'read_write' but the shader has 'read'.*'z'.*'y' is not declared/);
  });
});
