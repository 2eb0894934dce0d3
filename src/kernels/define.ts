/**
 * Kernel definitions: a name, a shader file under `shaders/`, and the bindings the TypeScript side
 * binds by name. Every definition registers itself so `check:wgsl` and the GPU compile test can walk
 * all of them; the runtime checks each declaration against the reflected shader on first use.
 */
import type { Gpu, KernelDef } from '../gpu/gpu.js';
import { deserializeInterface } from '../gpu/reflect.js';
import { SHADER_INTERFACES, SHADER_LINES, SHADERS, type ShaderPath } from './shaders.gen.js';

const registry: KernelDef[] = [];

/** WGSL `enable` extensions whose WebGPU feature has another name. */
const FEATURE_OF_EXTENSION: Record<string, string> = { f16: 'shader-f16' };

/**
 * `alias` rebinds type aliases declared in the shader (`alias T = f32;`), building a variant of one
 * file — e.g. the same transform on vec4 elements — without a second copy of its code. `constants` sets
 * pipeline-overridable constants that are fixed for the kernel — values the TypeScript side owns too
 * (e.g. the GEMM panel width), so the shader declares them without a default instead of copying them.
 */
export function defineKernel(spec: {
  name: string;
  shader: ShaderPath;
  entry?: string;
  bindings: KernelDef['bindings'];
  alias?: Record<string, string>;
  constants?: Readonly<Record<string, number>>;
}): KernelDef {
  let source: string = SHADERS[spec.shader];
  for (const [name, type] of Object.entries(spec.alias ?? {})) {
    const re = new RegExp(`^alias ${name} = [^;]+;`, 'm');
    if (!re.test(source)) throw new Error(`kernel '${spec.name}': shaders/${spec.shader}.wgsl declares no 'alias ${name} = …;' to rebind`);
    source = source.replace(re, `alias ${name} = ${type};`);
  }
  const def: KernelDef = { name: spec.name, shaderPath: `shaders/${spec.shader}.wgsl`, source, bindings: spec.bindings };
  if (spec.entry !== undefined) def.entry = spec.entry;
  // The interface reflected at build time. An alias rebinds element types, which the interface does not
  // record (the WGSL check test compares every definition, variants included, with a fresh reflection
  // of its final source).
  const entries = SHADER_INTERFACES[spec.shader];
  const names = Object.keys(entries);
  const serialized = spec.entry !== undefined ? entries[spec.entry] : names.length === 1 ? entries[names[0]!] : undefined;
  if (!serialized) throw new Error(`kernel '${spec.name}': shaders/${spec.shader}.wgsl has compute entry points ${names.join(', ')}; name one with 'entry'`);
  def.iface = deserializeInterface(serialized);
  if (spec.constants) {
    for (const k of Object.keys(spec.constants)) {
      if (!def.iface.overrides.has(k)) throw new Error(`kernel '${spec.name}': shaders/${spec.shader}.wgsl has no override '${k}' to set`);
    }
    def.constants = { ...spec.constants };
  }
  // `enable subgroups;` (and the like) at the top of the shader: the optional features it needs.
  const features = [...source.matchAll(/^\s*enable\s+([\w\s,]+?)\s*;/gm)].flatMap((m) =>
    m[1]!.split(',').map((f) => FEATURE_OF_EXTENSION[f.trim()] ?? f.trim()),
  );
  if (features.length) def.features = features;
  const lines = SHADER_LINES[spec.shader];
  if (lines) def.lines = lines;
  if (registry.some((d) => d.name === def.name)) throw new Error(`kernel name '${def.name}' is defined twice`);
  registry.push(def);
  return def;
}

/** Every kernel defined by the modules imported so far. */
export function registeredKernels(): readonly KernelDef[] {
  return registry;
}

/**
 * Workgroup grid for one thread per element with `wg` threads per group: a 2-D grid when the count
 * exceeds the per-dimension limit (65,535 on most adapters). Shaders index `gid.x + gid.y·nwg.x·WG`.
 */
export function grid1d(n: number, wg: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * Threads per workgroup of the element-wise kernels (one element per thread): WebGPU's guaranteed
 * minimum of maxComputeInvocationsPerWorkgroup, so every adapter runs them unchanged.
 */
export const ELEMENT_WG = 256;

/** `grid1d` over n elements within this adapter's per-dimension workgroup limit; `wg` threads per group. */
export function elementGrid(gpu: Gpu, n: number, wg: number = ELEMENT_WG): [number, number, number] {
  return grid1d(n, wg, gpu.limits.maxComputeWorkgroupsPerDimension);
}
