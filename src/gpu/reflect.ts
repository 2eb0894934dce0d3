/**
 * The interface of a WGSL compute entry point: bindings by name, uniform struct layouts (offsets and
 * sizes as WGSL lays them out), `override` constants and the workgroup size expression — read from the
 * shader itself, never hand-copied. The engine's own shaders are reflected at build time
 * (scripts/gen-shaders.mjs runs reflect-wgsl.ts over shaders/**), so the WGSL parser is not in a
 * page's bundle; kernels with other WGSL need the runtime parser: `import 'voxelgrad/reflect'`
 * (src/gpu/runtime-reflection.ts) installs it.
 */

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

export type ShaderReflector = (shaderName: string, source: string, entry?: string) => ShaderInterface;

let reflector: ShaderReflector | null = null;

/** Installs the runtime WGSL parser (runtime-reflection.ts does this on import). */
export function setShaderReflector(r: ShaderReflector): void {
  reflector = r;
}

const cache = new Map<string, ShaderInterface>();

/**
 * Reflects the compute entry point `entry` (or the only one) of `source` with the runtime parser.
 * Results are cached by text. Kernels of the engine carry their build-time interface instead.
 */
export function reflectShader(shaderName: string, source: string, entry?: string): ShaderInterface {
  const key = `${entry ?? ''}\u0000${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (!reflector) {
    throw new Error(
      `shader '${shaderName}' has no build-time interface and the runtime WGSL parser is not loaded: import 'voxelgrad/reflect' (or src/gpu/runtime-reflection.ts) once before defining kernels with your own WGSL`,
    );
  }
  let out: ShaderInterface;
  try {
    out = reflector(shaderName, source, entry);
  } catch (e) {
    if (e instanceof Error && e.name === 'WgslParseError') throw new ShaderParseError(shaderName, e.cause ?? e);
    throw e;
  }
  cache.set(key, out);
  return out;
}

/** A ShaderInterface as plain JSON (Maps as entry lists): what the build step writes into shaders.gen.ts. */
export interface SerializedInterface {
  entry: string;
  bindings: (Omit<BindingInfo, 'uniform'> & { uniform?: { structName: string; size: number; fields: UniformField[] } })[];
  overrides: OverrideDecl[];
  workgroupSize: (number | string)[];
}

export function serializeInterface(i: ShaderInterface): SerializedInterface {
  return {
    entry: i.entry,
    bindings: [...i.bindings.values()].map((b) => ({
      name: b.name,
      group: b.group,
      binding: b.binding,
      kind: b.kind,
      ...(b.uniform ? { uniform: { structName: b.uniform.structName, size: b.uniform.size, fields: [...b.uniform.fields.values()] } } : {}),
    })),
    overrides: [...i.overrides.values()],
    workgroupSize: i.workgroupSize,
  };
}

export function deserializeInterface(s: SerializedInterface): ShaderInterface {
  return {
    entry: s.entry,
    bindings: new Map(
      s.bindings.map((b) => {
        const info: BindingInfo = { name: b.name, group: b.group, binding: b.binding, kind: b.kind };
        if (b.uniform)
          info.uniform = { structName: b.uniform.structName, size: b.uniform.size, fields: new Map(b.uniform.fields.map((f) => [f.name, { ...f }])) };
        return [b.name, info];
      }),
    ),
    overrides: new Map(s.overrides.map((o) => [o.name, { ...o }])),
    workgroupSize: [...s.workgroupSize],
  };
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
