/**
 * The interface of a WGSL compute entry point, read from the shader itself with `wgsl_reflect`:
 * bindings by name, uniform struct layouts (offsets and sizes as WGSL lays them out), `override`
 * constants and the workgroup size expression. Nothing here is hand-copied from a shader.
 */
// wgsl_reflect's package.json marks a CommonJS `main` as an ES module, so Node cannot load its main
// entry; its ES module build imports the same way in Node and in bundlers.
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';

export type BindingKind = 'uniform' | 'read' | 'read_write';
export type ScalarType = 'f32' | 'u32' | 'i32';

export interface UniformField {
  name: string;
  offset: number;
  size: number;
  scalar: ScalarType;
  /** 1 for scalars, 2–4 for vectors. */
  components: number;
}

export interface UniformLayout {
  structName: string;
  size: number;
  fields: Map<string, UniformField>;
}

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
  /** Element type of a storage array (`f32`, `vec4<f32>`, …); for messages and checks. */
  elementType: string;
  uniform?: UniformLayout;
}

export interface OverrideDecl {
  name: string;
  type: string;
  /** Whether the shader gives a default (otherwise every pipeline must set it). */
  hasDefault: boolean;
}

export interface ShaderInterface {
  entry: string;
  bindings: Map<string, BindingInfo>;
  overrides: Map<string, OverrideDecl>;
  /** `@workgroup_size` arguments: numbers, or names of override constants. */
  workgroupSize: (number | string)[];
}

export class ShaderParseError extends Error {
  constructor(shaderName: string, cause: unknown) {
    super(`WGSL shader '${shaderName}' does not parse: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ShaderParseError';
  }
}

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

const cache = new Map<string, ShaderInterface>();

/** Reflects the compute entry point `entry` (or the only one) of `source`. Results are cached by text. */
export function reflectShader(shaderName: string, source: string, entry?: string): ShaderInterface {
  const key = `${entry ?? ''}\u0000${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let r: WgslReflect;
  try {
    r = new WgslReflect(source);
  } catch (e) {
    throw new ShaderParseError(shaderName, e);
  }
  const computes = r.entry.compute;
  if (computes.length === 0) throw new ShaderParseError(shaderName, new Error('no @compute entry point'));
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
      elementType: v.type.getTypeName(),
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
  const out: ShaderInterface = { entry: fn.name, bindings, overrides, workgroupSize };
  cache.set(key, out);
  return out;
}

function hasOverrideDefault(source: string, name: string): boolean {
  const re = new RegExp(`override\\s+${name}\\s*(:\\s*\\w+\\s*)?=`);
  return re.test(source);
}

/** Resolves the workgroup size with override values (defaults read from the shader when absent). */
export function resolveWorkgroupSize(
  iface: ShaderInterface,
  overrides: Readonly<Record<string, number>>,
  defaults: Readonly<Record<string, number>>,
): [number, number, number] {
  const ws = iface.workgroupSize.map((v) => {
    if (typeof v === 'number') return v;
    const val = overrides[v] ?? defaults[v];
    if (val === undefined) throw new Error(`workgroup size uses override '${v}' which has no value`);
    return val;
  });
  return [ws[0]!, ws[1]!, ws[2]!];
}

/** Packs named uniform values at their reflected offsets. Missing or unknown fields are errors. */
export function packUniform(layout: UniformLayout, values: Readonly<Record<string, number | readonly number[]>>, where: string): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(layout.size / 16) * 16));
  const dv = new DataView(buf);
  for (const key of Object.keys(values)) {
    if (!layout.fields.has(key)) {
      throw new Error(`${where}: uniform struct ${layout.structName} has no field '${key}' (fields: ${[...layout.fields.keys()].join(', ')})`);
    }
  }
  for (const f of layout.fields.values()) {
    if (f.name.startsWith('_pad')) continue; // explicit padding members need no value
    const v = values[f.name];
    if (v === undefined) throw new Error(`${where}: uniform field '${layout.structName}.${f.name}' was not given`);
    const arr = typeof v === 'number' ? [v] : v;
    if (arr.length !== f.components) {
      throw new Error(`${where}: uniform field '${f.name}' takes ${f.components} value(s), got ${arr.length}`);
    }
    for (let c = 0; c < f.components; c++) {
      const x = arr[c]!;
      const off = f.offset + 4 * c;
      if (f.scalar === 'f32') dv.setFloat32(off, x, true);
      else if (f.scalar === 'u32') {
        if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new Error(`${where}: '${f.name}' must be a u32, got ${x}`);
        dv.setUint32(off, x, true);
      } else {
        if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) throw new Error(`${where}: '${f.name}' must be an i32, got ${x}`);
        dv.setInt32(off, x, true);
      }
    }
  }
  return buf;
}
