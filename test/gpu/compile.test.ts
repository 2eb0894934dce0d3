/** On the GPU: every kernel's module compiles with no error or warning, and bad shaders fail clearly. */
import { describe, expect, it } from 'vitest';
import '../../src/gpu/runtime-reflection.js';
import { registeredKernels } from '../../src/kernels/all.js';
import { type KernelDef, sourceLocation } from '../../src/gpu/gpu.js';
import { testGpu } from '../helpers/gpu.js';

describe('shader compilation on the device', async () => {
  const gpu = await testGpu();

  it('every registered kernel compiles without messages (those needing a feature this device lacks are skipped)', async () => {
    const results = await gpu.compileAll(registeredKernels());
    const messages = results.flatMap((r) => r.messages.map((m, i) => `${r.at[i]} ${m.type}: ${m.message}`));
    expect(messages).toEqual([]);
    for (const r of results)
      expect(Boolean(r.skipped), `${r.kernel} skipped?`).toBe(gpu.missingFeatures(registeredKernels().find((d) => d.name === r.kernel)!).length > 0);
    // Default pipelines too (override-specialised compilation can fail separately).
    for (const d of registeredKernels()) if (!gpu.missingFeatures(d).length) gpu.kernel(d).pipeline();
    await gpu.sync();
  });

  it('every kernel that needs an optional feature has a sibling that needs none, and is refused clearly without it', () => {
    const defs = registeredKernels();
    const needing = defs.filter((d) => d.features?.length);
    expect(needing.map((d) => d.name).sort()).toEqual(['conv-backward-input', 'conv-backward-weight', 'conv-forward', 'matmul']);
    for (const d of needing) {
      expect(d.features).toEqual(['subgroups']);
      const sibling = defs.find((e) => e.name === `${d.name}-tiled`);
      expect(sibling?.features ?? [], `${d.name}-tiled`).toEqual([]);
      expect(sibling, `${d.name}-tiled`).toBeDefined();
    }
    if (!gpu.features.has('subgroups')) expect(() => gpu.kernel(needing[0]!)).toThrow(/needs the optional feature subgroups, which this device does not have/);
  });

  it('messages of a shader built from #include pieces point at the piece', async () => {
    const bad: KernelDef = {
      name: 'bad-included',
      shaderPath: 'shaders/test/outer.wgsl',
      source: `// outer line 1
// piece line 1
fn f() -> u32 { let v: u32 = 1.5; return v; }
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(1) fn main() { y[0] = f(); }`,
      bindings: { y: 'read_write' },
      lines: [
        [1, 'test/outer.wgsl', 1],
        [2, 'test/piece.part.wgsl', 1],
        [4, 'test/outer.wgsl', 3],
      ],
    };
    const [r] = await gpu.compileAll([bad]);
    const error = r!.messages.findIndex((m) => m.type === 'error');
    expect(error).toBeGreaterThanOrEqual(0);
    expect(r!.at[error]).toMatch(/^shaders\/test\/piece\.part\.wgsl:2:/);
    expect(sourceLocation(bad, 5)).toBe('shaders/test/outer.wgsl:4');
    expect(sourceLocation({ ...bad, lines: undefined }, 5)).toBe('shaders/test/outer.wgsl:5');
    // Creating the module also raised a validation error; it surfaces (naming the module) at the next sync.
    await expect(gpu.sync()).rejects.toThrow(/outer\.wgsl/);
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

  it('override constants fixed by a definition are set on every pipeline, and a missing one is named', async () => {
    const source = `override TN: u32;
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(1) fn main() { y[0] = TN; }`;
    const loose: KernelDef = { name: 'no-constant', shaderPath: 'shaders/test/constant.wgsl', source, bindings: { y: 'read_write' } };
    expect(() => gpu.kernel(loose).pipeline()).toThrow(/'no-constant': override 'TN' has no default in shaders\/test\/constant\.wgsl and was not given/);
    const fixed: KernelDef = { ...loose, name: 'constant', constants: { TN: 16 } };
    expect(() => gpu.kernel(fixed).pipeline({ TN: 8 })).toThrow(/override 'TN' is fixed by the kernel definition \(16\)/);
    const y = gpu.empty([1], 'u32');
    gpu.dispatch(fixed, { bind: { y }, workgroups: [1] });
    expect([...(await y.read())]).toEqual([16]);
    y.release();
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
