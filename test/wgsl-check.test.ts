/**
 * `npm run check:wgsl` — no GPU needed: every shader parses, every kernel definition matches the
 * shader's reflected interface (bindings, access), the build-time interface each kernel carries equals
 * a fresh reflection of its final source (alias variants included), every override without a default
 * is set by the definition's constants, every shader is used by some kernel, and each shader opens with
 * the explanatory comment the house style asks for.
 */
import { describe, expect, it } from 'vitest';
import { registeredKernels } from '../src/kernels/all.js';
import { SHADERS } from '../src/kernels/shaders.gen.js';
import { reflectShader, serializeInterface } from '../src/gpu/reflect.js';
import '../src/gpu/runtime-reflection.js';

describe('WGSL sources and kernel definitions', () => {
  const defs = registeredKernels();

  for (const [path, source] of Object.entries(SHADERS)) {
    it(`shaders/${path}.wgsl parses, documents itself and is used`, () => {
      const iface = reflectShader(path, source, undefined);
      expect(iface.bindings.size).toBeGreaterThan(0);
      expect(source.trimStart().startsWith('//'), 'shader must open with a comment').toBe(true);
      expect(
        defs.some((d) => d.shaderPath === `shaders/${path}.wgsl`),
        'no kernel uses this shader',
      ).toBe(true);
    });
  }

  for (const def of defs) {
    it(`kernel '${def.name}' matches ${def.shaderPath}`, () => {
      const iface = reflectShader(def.shaderPath, def.source, def.entry);
      expect(def.iface, 'build-time interface').toBeDefined();
      expect(serializeInterface(def.iface!)).toEqual(serializeInterface(iface));
      const reflected = Object.fromEntries([...iface.bindings.values()].map((b) => [b.name, b.kind]));
      expect(reflected).toEqual({ ...def.bindings });
      for (const b of iface.bindings.values()) expect(b.group, `${b.name} group`).toBe(0);
      for (const w of iface.workgroupSize) {
        if (typeof w === 'string') expect(iface.overrides.has(w), `workgroup size '${w}' must be an override`).toBe(true);
      }
      // A constant the TypeScript side owns is declared without a default and set by the definition.
      for (const o of iface.overrides.values()) {
        if (!o.hasDefault) expect(def.constants?.[o.name], `override '${o.name}' has no default: the definition must set it`).toBeDefined();
      }
      for (const k of Object.keys(def.constants ?? {})) expect(iface.overrides.has(k), `constant '${k}' must be an override`).toBe(true);
    });
  }
});
