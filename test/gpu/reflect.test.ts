import { describe, expect, it } from 'vitest';
import { deserializeInterface, packUniform, reflectShader, resolveWorkgroupSize, serializeInterface, ShaderParseError } from '../../src/gpu/reflect.js';
import '../../src/gpu/runtime-reflection.js';

const SRC = `
override WG: u32 = 64;
override TILE: u32 = 4;
struct Params { n: u32, alpha: f32, kernel: vec3<u32>, beta: f32, shift: vec2<i32>, scale4: vec4<f32> }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(WG, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < params.n) { y[gid.x] = x[gid.x] * params.alpha + params.beta + params.scale4.x + f32(params.kernel.y + u32(params.shift.x)); }
}`;

describe('reflection (no GPU)', () => {
  const iface = reflectShader('test', SRC);

  it('reads bindings, access and uniform layout from the shader', () => {
    expect(iface.bindings.get('x')!.kind).toBe('read');
    expect(iface.bindings.get('y')!.kind).toBe('read_write');
    const u = iface.bindings.get('params')!.uniform!;
    // WGSL layout rules: vec3<u32> aligns to 16, the f32 after it packs into its 4th lane.
    expect(u.fields.get('kernel')!.offset).toBe(16);
    expect(u.fields.get('beta')!.offset).toBe(28);
    expect(u.fields.get('shift')!.offset).toBe(32);
    expect(u.fields.get('scale4')!.offset).toBe(48);
    expect(u.size).toBe(64);
  });

  it('packs values at reflected offsets with their types', () => {
    const u = iface.bindings.get('params')!.uniform!;
    const buf = packUniform(u, { n: 7, alpha: 0.5, kernel: [1, 3, 3], beta: -2, shift: [-1, 4], scale4: [1, 2, 3, 4] }, 't');
    const dv = new DataView(buf);
    expect(dv.getUint32(0, true)).toBe(7);
    expect(dv.getFloat32(4, true)).toBe(0.5);
    expect([dv.getUint32(16, true), dv.getUint32(20, true), dv.getUint32(24, true)]).toEqual([1, 3, 3]);
    expect(dv.getFloat32(28, true)).toBe(-2);
    expect(dv.getInt32(32, true)).toBe(-1);
    expect(dv.getFloat32(60, true)).toBe(4);
  });

  it('rejects missing, unknown, mistyped and mis-sized fields', () => {
    const u = iface.bindings.get('params')!.uniform!;
    const ok = { n: 7, alpha: 0.5, kernel: [1, 3, 3], beta: -2, shift: [-1, 4], scale4: [1, 2, 3, 4] };
    expect(() => packUniform(u, { ...ok, n: undefined as unknown as number }, 't')).toThrow(/'Params.n' was not given/);
    expect(() => packUniform(u, { ...ok, bogus: 1 }, 't')).toThrow(/no field 'bogus'/);
    expect(() => packUniform(u, { ...ok, n: -1 }, 't')).toThrow(/must be a u32/);
    expect(() => packUniform(u, { ...ok, kernel: [3, 3] }, 't')).toThrow(/takes 3 value/);
  });

  it('an interface survives serialisation (the build step writes it as JSON)', () => {
    const back = deserializeInterface(JSON.parse(JSON.stringify(serializeInterface(iface))));
    expect(back).toEqual(iface);
    expect(back.bindings.get('params')!.uniform!.fields.get('kernel')!.offset).toBe(16);
  });

  it('resolves override workgroup sizes', () => {
    expect(iface.workgroupSize).toEqual(['WG', 'TILE', 1]);
    expect(resolveWorkgroupSize(iface, { WG: 128 }, { WG: 64, TILE: 4 })).toEqual([128, 4, 1]);
  });

  it('a malformed shader is a clear parse error naming the shader', () => {
    expect(() => reflectShader('shaders/broken.wgsl', 'fn main( { let x = ;')).toThrow(ShaderParseError);
    expect(() => reflectShader('shaders/broken.wgsl', 'fn main( { let x = ;')).toThrow(/shaders\/broken\.wgsl/);
  });
});
