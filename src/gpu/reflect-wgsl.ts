/**
 * Reading a WGSL compute entry point's interface with the `wgsl_reflect` parser. Used at build time by
 * scripts/gen-shaders.mjs for the engine's shaders, and at run time only when a user loads
 * runtime-reflection.ts for WGSL of their own. Self-contained (type imports only), so the build step can
 * transpile and run this file alone.
 */
// wgsl_reflect's package.json marks a CommonJS `main` as an ES module, so Node cannot load its main
// entry; its ES module build imports the same way in Node and in bundlers.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import type { BindingInfo, OverrideDecl, ScalarType, ShaderInterface, UniformField } from './reflect.js';

function scalarOf(typeName: string, formatName: string | undefined, where: string): { scalar: ScalarType; components: number } {
  const short = /^vec([234])([fiu])$/.exec(typeName);
  if (short) {
    const s = ({ f: 'f32', i: 'i32', u: 'u32' } as const)[short[2] as 'f' | 'i' | 'u'];
    return { scalar: s, components: Number(short[1]) };
  }
  const vec = /^vec([234])$/.exec(typeName);
  if (vec && (formatName === 'f32' || formatName === 'u32' || formatName === 'i32')) {
    return { scalar: formatName, components: Number(vec[1]) };
  }
  if (typeName === 'f32' || typeName === 'u32' || typeName === 'i32') return { scalar: typeName, components: 1 };
  throw new Error(`${where}: uniform field type '${typeName}${formatName ? `<${formatName}>` : ''}' is not supported (use f32/u32/i32 scalars or vectors)`);
}

class WgslParseError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'WgslParseError';
  }
}

/** Reflects the compute entry point `entry` (or the only one) of `source`. */
export function parseShaderInterface(shaderName: string, source: string, entry?: string): ShaderInterface {
  let r: WgslReflect;
  try {
    r = new WgslReflect(source);
  } catch (e) {
    throw new WgslParseError(e);
  }
  const computes = r.entry.compute;
  if (computes.length === 0) throw new WgslParseError(new Error('no @compute entry point'));
  const fn = entry ? computes.find((f) => f.name === entry) : computes.length === 1 ? computes[0] : undefined;
  if (!fn) {
    const names = computes.map((f) => f.name).join(', ');
    throw new Error(`shader '${shaderName}': entry point '${entry ?? '(unnamed)'}' not found; it has: ${names}`);
  }
  const bindings = new Map<string, BindingInfo>();
  for (const v of fn.resources) {
    // ResourceType: 0 uniform, 1 storage (see wgsl_reflect's info.d.ts).
    if (v.resourceType !== 0 && v.resourceType !== 1) {
      throw new Error(`shader '${shaderName}': binding '${v.name}' is a texture/sampler; compute kernels use buffers only`);
    }
    const info: BindingInfo = {
      name: v.name,
      group: v.group,
      binding: v.binding,
      kind: v.resourceType === 0 ? 'uniform' : v.access === 'read_write' ? 'read_write' : 'read',
    };
    if (info.kind === 'uniform') {
      const members = v.members;
      if (!members) throw new Error(`shader '${shaderName}': uniform '${v.name}' must be a struct`);
      const fields = new Map<string, UniformField>();
      for (const m of members) {
        const { scalar, components } = scalarOf(m.type.name, m.format?.name, `shader '${shaderName}', ${v.name}.${m.name}`);
        fields.set(m.name, { name: m.name, offset: m.offset, size: m.size, scalar, components });
      }
      info.uniform = { structName: v.type.name, size: v.size, fields };
    }
    bindings.set(v.name, info);
  }
  const overrides = new Map<string, OverrideDecl>();
  for (const o of r.overrides) {
    overrides.set(o.name, { name: o.name, type: o.type?.name ?? 'unknown', hasDefault: hasOverrideDefault(source, o.name) });
  }
  const wgAttr = fn.attributes?.find((a) => a.name === 'workgroup_size');
  const raw = (Array.isArray(wgAttr?.value) ? wgAttr!.value : [wgAttr?.value ?? '1']) as string[];
  const workgroupSize = [0, 1, 2].map((i) => {
    const s = raw[i];
    if (s === undefined) return 1;
    const n = Number(s);
    return Number.isFinite(n) ? n : s;
  });
  return { entry: fn.name, bindings, overrides, workgroupSize };
}

function hasOverrideDefault(source: string, name: string): boolean {
  const re = new RegExp(`override\\s+${name}\\s*(:\\s*\\w+\\s*)?=`);
  return re.test(source);
}

/** Names of the compute entry points of `source`. */
export function computeEntryPoints(source: string): string[] {
  try {
    return new WgslReflect(source).entry.compute.map((f) => f.name);
  } catch (e) {
    throw new WgslParseError(e);
  }
}
