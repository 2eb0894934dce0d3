/**
 * The runtime: one WebGPU device with its buffer pool, pipeline cache, command batching, error
 * surfacing, profiling and tensor scopes. Host-agnostic — it is handed a `GPU` object by
 * `acquire.node.ts` (Dawn) or `acquire-browser.ts` (navigator.gpu).
 */
import { GpuError } from './errors.js';
import { BufferUsage, MapMode } from './flags.js';
import { BufferPool, type MemoryStats, sizeClass } from './pool.js';
import { Profiler, type ProfileReport } from './profiler.js';
import { type BindingInfo, type ShaderInterface, packUniform, reflectShader, resolveWorkgroupSize } from './reflect.js';
import { type DType, GpuTensor, type TypedArrayFor, numel, validateShape } from './tensor.js';

declare module './tensor.js' {
  /** A tensor's device is the whole `Gpu` (see `TensorDevice`). */
  interface TensorDevice extends Gpu {}
}

/** A compute kernel as the kernel layer declares it; the shader is reflected to check the declaration. */
export interface KernelDef {
  /** Label used in profiles and error messages, e.g. `conv-backward-weight`. */
  name: string;
  /** Path of the `.wgsl` file under `shaders/` (for messages). */
  shaderPath: string;
  /** WGSL source text. */
  source: string;
  entry?: string;
  /** Every binding the shader uses, by name, with its access; checked against reflection. */
  bindings: Readonly<Record<string, 'uniform' | 'read' | 'read_write'>>;
  /** Override constants fixed for this kernel, set on every pipeline (a dispatch may not change them). */
  constants?: Readonly<Record<string, number>>;
  /** The shader's interface reflected at build time; without it the runtime parser reflects `source`. */
  iface?: ShaderInterface;
  /** Optional WebGPU features the shader needs (its `enable` directives, e.g. `subgroups`). */
  features?: readonly string[];
  /**
   * For shaders expanded from `#include`s: [first line in `source`, file under shaders/, its line there]
   * per segment (scripts/wgsl-include.mjs), so messages can name the file a developer edits.
   */
  lines?: readonly (readonly [number, string, number])[];
}

/** Where line `line` of a kernel's source comes from, as "shaders/file.wgsl:N". */
export function sourceLocation(def: KernelDef, line: number): string {
  const lines = def.lines;
  if (!lines?.length) return `${def.shaderPath}:${line}`;
  let seg = lines[0]!;
  for (const s of lines) if (s[0] <= line) seg = s;
  return `shaders/${seg[1]}:${seg[2] + (line - seg[0])}`;
}

export interface AdapterReport {
  description: string;
  /** Optional features the adapter has but the device was created without (`disableFeatures`). */
  disabledFeatures: string[];
  /** 'core': the device was requested with WebGPU's default limits, not the adapter's. */
  limitsMode: LimitsMode;
  vendor: string;
  architecture: string;
  device: string;
  backend: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export type LimitsMode = 'adapter' | 'core';

export interface GpuOptions {
  /** Wrap every dispatch in error scopes so failures name the exact kernel (slow; for debugging). */
  debug?: boolean;
  /** Label of how the adapter was found (printed by `voxelgrad info`). */
  origin?: string;
  /**
   * Optional features to leave off even where the adapter has them — to run (and test) the paths every
   * adapter gets, e.g. `['subgroups']` for the convolutions of a browser without subgroups. Node also
   * reads `VOXELGRAD_DISABLE_FEATURES=subgroups,shader-f16,timestamp-query`.
   */
  disableFeatures?: readonly string[];
  /**
   * 'adapter' (default): request the adapter's real limits (bindings, workgroup storage, …); 'core':
   * request none, so the device has WebGPU's default limits — what the least capable adapter offers
   * (128 MiB bindings, 256 MiB buffers, 16 KiB workgroup storage, 256 invocations). Node also reads
   * `VOXELGRAD_LIMITS=core`.
   */
  limits?: LimitsMode;
  /**
   * Caps below the device's own limits: the engine then behaves as on a weaker adapter (its tiles,
   * batch splits and refusals all read `gpu.limits`) — how the tests cover limits no CPU driver has,
   * since WebGPU raises any request below its defaults to the defaults. Node also reads them from
   * `VOXELGRAD_LIMITS` (e.g. `core,maxStorageBufferBindingSize=16777216`).
   */
  lowerLimits?: Readonly<Partial<Record<LimitName, number>>>;
  /**
   * A full garbage collection of the host's JS heap, called after every `GC_AFTER_OBJECTS` bind groups and
   * command encoders (acquire.node.ts passes V8's). Dawn for Node keeps each such object's host memory
   * (several KB) until its small JS wrapper is collected, and V8, not told about that memory, collects
   * old wrappers rarely: a training step makes hundreds of bind groups, so RSS grew by tens of KB per step
   * for as long as the heap stayed small. A page needs none (the browser accounts for its GPU objects).
   */
  collectGarbage?: () => void;
}

/** Native objects made between two `collectGarbage` calls (~700 per step of a tiny network's training). */
export const GC_AFTER_OBJECTS = 16384;

export type LimitName = (typeof WANTED_LIMITS)[number];

/** The optional features the engine uses when present; each can be masked (`disableFeatures`). */
export const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;
const WANTED_FEATURES = OPTIONAL_FEATURES as unknown as GPUFeatureName[];

/**
 * Parses a comma-separated feature list (`VOXELGRAD_DISABLE_FEATURES`, `--disable-features`): names of
 * the optional features the engine uses; anything else is a usage error saying what is allowed.
 */
export function parseFeatureList(text: string, origin: string): string[] {
  const names = text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  const unknown = names.filter((f) => !(OPTIONAL_FEATURES as readonly string[]).includes(f));
  if (unknown.length) {
    throw new GpuError(
      'usage',
      `${origin}: unknown feature${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `'${f}'`).join(', ')}; the optional features voxelgrad uses (and can leave off) are ${OPTIONAL_FEATURES.join(', ')}`,
    );
  }
  return names;
}

/** Checks a limits mode (the `limits` option). */
export function parseLimitsMode(text: string, origin: string): LimitsMode {
  if (text === 'adapter' || text === 'core') return text;
  throw new GpuError(
    'usage',
    `${origin}: '${text}' is not a limits mode; use 'adapter' (the adapter's real limits, default) or 'core' (WebGPU's default limits)`,
  );
}

/**
 * Parses `VOXELGRAD_LIMITS`: a comma-separated list of an optional mode (`adapter` or `core`) and
 * `name=value` caps below the device's limits, e.g. `core,maxStorageBufferBindingSize=16777216`.
 */
export function parseLimitsSpec(text: string, origin: string): { mode: LimitsMode; lower: Partial<Record<LimitName, number>> } {
  let mode: LimitsMode = 'adapter';
  const lower: Partial<Record<LimitName, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      mode = parseLimitsMode(part, origin);
      continue;
    }
    const name = part.slice(0, eq).trim();
    const value = Number(part.slice(eq + 1));
    if (!(WANTED_LIMITS as readonly string[]).includes(name))
      throw new GpuError('usage', `${origin}: '${name}' is not a limit voxelgrad reads; use one of ${WANTED_LIMITS.join(', ')}`);
    if (!Number.isInteger(value) || value < 1) throw new GpuError('usage', `${origin}: ${name} must be a positive integer, got '${part.slice(eq + 1)}'`);
    lower[name as LimitName] = value;
  }
  return { mode, lower };
}
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
] as const;

/** Dispatch arguments: tensors/buffers by binding name, uniform structs by binding name. */
export interface DispatchArgs {
  bind: Readonly<Record<string, GpuTensor | GPUBuffer>>;
  uniforms?: Readonly<Record<string, Readonly<Record<string, number | readonly number[]>>>>;
  overrides?: Readonly<Record<string, number>>;
  workgroups: readonly [number, number?, number?];
}

/** A pipeline a dispatch needs: the kernel and its override constants. */
export interface PipelineKey {
  def: KernelDef;
  overrides: Readonly<Record<string, number>>;
}

export class Kernel {
  readonly iface: ShaderInterface;
  readonly layout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  readonly defaults: Record<string, number>;
  private module: GPUShaderModule | null = null;
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly gpu: Gpu,
    readonly def: KernelDef,
  ) {
    this.iface = def.iface ?? reflectShader(def.shaderPath, def.source, def.entry);
    checkKernelDef(def, this.iface);
    const bindings = [...this.iface.bindings.values()];
    if (bindings.some((b) => b.group !== 0)) throw new Error(`kernel '${def.name}': all bindings must be in @group(0)`);
    this.layout = gpu.device.createBindGroupLayout({
      label: def.name,
      entries: bindings.map((b) => ({
        binding: b.binding,
        visibility: 0x4 /* GPUShaderStage.COMPUTE */,
        buffer: { type: b.kind === 'uniform' ? 'uniform' : b.kind === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    this.pipelineLayout = gpu.device.createPipelineLayout({ label: def.name, bindGroupLayouts: [this.layout] });
    this.defaults = readOverrideDefaults(def.source, this.iface);
  }

  /** Compiles the module (once) and fails on any compilation error or warning. */
  async compile(): Promise<GPUCompilationMessage[]> {
    const module = this.getModule();
    const info = await module.getCompilationInfo();
    return [...info.messages];
  }

  getModule(): GPUShaderModule {
    if (!this.module) this.module = this.gpu.device.createShaderModule({ label: this.def.shaderPath, code: this.def.source });
    return this.module;
  }

  workgroupSize(overrides: Readonly<Record<string, number>> = {}): [number, number, number] {
    return resolveWorkgroupSize(this.iface, overrides, this.defaults);
  }

  pipeline(overrides: Readonly<Record<string, number>> = {}): GPUComputePipeline {
    const { key, descriptor } = this.describe(overrides);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.gpu.device.createComputePipeline(descriptor);
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Creates the pipeline for `overrides` with `createComputePipelineAsync`, so the driver compiles it
   * without blocking JavaScript; `pipeline()` then finds it ready. No-op when it exists already.
   */
  async precompile(overrides: Readonly<Record<string, number>> = {}): Promise<boolean> {
    const { key, descriptor } = this.describe(overrides);
    if (this.pipelines.has(key)) return false;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.gpu.device.createComputePipelineAsync(descriptor).then((p) => {
        if (!this.pipelines.has(key)) this.pipelines.set(key, p);
        this.pending.delete(key);
        return p;
      });
      this.pending.set(key, pending);
    }
    await pending;
    return true;
  }

  private pending = new Map<string, Promise<GPUComputePipeline>>();

  private describe(overrides: Readonly<Record<string, number>>): { key: string; descriptor: GPUComputePipelineDescriptor } {
    const constants = this.def.constants ?? {};
    for (const k of Object.keys(overrides)) {
      if (!this.iface.overrides.has(k)) {
        throw new Error(`kernel '${this.def.name}': shader has no override '${k}' (has: ${[...this.iface.overrides.keys()].join(', ') || 'none'})`);
      }
      if (k in constants) throw new Error(`kernel '${this.def.name}': override '${k}' is fixed by the kernel definition (${constants[k]})`);
    }
    const key = Object.keys(overrides)
      .sort()
      .map((k) => `${k}=${overrides[k]}`)
      .join(',');
    if (!this.pipelines.has(key)) {
      for (const o of this.iface.overrides.values()) {
        if (!o.hasDefault && !(o.name in overrides) && !(o.name in constants)) {
          throw new Error(`kernel '${this.def.name}': override '${o.name}' has no default in ${this.def.shaderPath} and was not given`);
        }
      }
      // Check the workgroup size against this adapter's limits here, where the message can name the
      // kernel and the overrides (the driver's asynchronous validation error cannot).
      const ws = this.workgroupSize({ ...constants, ...overrides });
      const lim = this.gpu.limits;
      const maxes = [lim.maxComputeWorkgroupSizeX!, lim.maxComputeWorkgroupSizeY!, lim.maxComputeWorkgroupSizeZ!];
      const total = ws[0] * ws[1] * ws[2];
      if (ws.some((w, i) => w > maxes[i]!) || total > lim.maxComputeInvocationsPerWorkgroup!) {
        throw new GpuError(
          'over-limit',
          `kernel '${this.def.name}'${key ? ` {${key}}` : ''}: workgroup size (${ws.join(', ')}) exceeds this adapter's limits (${maxes.join(', ')}; ${lim.maxComputeInvocationsPerWorkgroup} invocations)`,
        );
      }
    }
    return {
      key,
      descriptor: {
        label: key ? `${this.def.name}{${key}}` : this.def.name,
        layout: this.pipelineLayout,
        compute: { module: this.getModule(), entryPoint: this.iface.entry, constants: { ...constants, ...overrides } },
      },
    };
  }
}

function checkKernelDef(def: KernelDef, iface: ShaderInterface): void {
  const declared = Object.keys(def.bindings);
  const reflected = [...iface.bindings.keys()];
  const problems: string[] = [];
  for (const n of declared) {
    const b = iface.bindings.get(n);
    if (!b) problems.push(`declares binding '${n}' that the shader does not use`);
    else if (b.kind !== def.bindings[n]) problems.push(`binding '${n}' is declared '${def.bindings[n]}' but the shader has '${b.kind}'`);
  }
  for (const n of reflected) if (!(n in def.bindings)) problems.push(`shader binding '${n}' is not declared`);
  if (problems.length) throw new Error(`kernel '${def.name}' (${def.shaderPath}) does not match its shader: ${problems.join('; ')}`);
}

function readOverrideDefaults(source: string, iface: ShaderInterface): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of iface.overrides.keys()) {
    const m = new RegExp(`override\\s+${name}\\s*(?::\\s*\\w+\\s*)?=\\s*([0-9.eE+-]+)[uif]?\\s*;`).exec(source);
    if (m) out[name] = Number(m[1]);
  }
  return out;
}

type Scope = Set<GpuTensor>;

/** Host bytes of uniforms one submit can carry (64 dispatches × a few 256-byte-aligned structs fit). */
const UNIFORM_ARENA_BYTES = 64 * 1024;
/** Readback buffers up to this size are kept for reuse. */
const STAGING_KEEP_MAX = 16 * 1024 * 1024;

export class Gpu {
  readonly pool: BufferPool;
  readonly profiler: Profiler;
  readonly features: ReadonlySet<string>;
  readonly limits: Readonly<Record<string, number>>;
  private kernels = new Map<KernelDef, Kernel>();
  /**
   * Uniform arena: every uniform of the dispatches encoded since the last submit is packed into one host
   * array (at the device's offset alignment) and written into one device buffer right before the submit,
   * which the queue orders after the work already submitted. A device buffer per distinct uniform (the
   * earlier LRU cache) kept up to 4096 buffers alive, and randomly parametrised kernels (augmentation)
   * replaced several per step: Dawn holds ~8 KB of host memory per buffer until a full garbage collection
   * of its wrapper, which a small JS heap rarely triggers — RSS grew ~80 KB per training step.
   */
  private uniformArena: GPUBuffer | null = null;
  private uniformHost = new Uint8Array(UNIFORM_ARENA_BYTES);
  private uniformUsed = 0;
  private readonly uniformAlign: number;
  /** Readback buffers by size class, reused (creating one per read has the same host-memory cost). */
  private stagingFree = new Map<number, GPUBuffer[]>();
  /** Bind groups and command encoders made since the last `collectGarbage` hint. */
  private nativeObjects = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private errors: GpuError[] = [];
  private lostInfo: string | null = null;
  private debugScopes: Promise<void>[] = [];
  private scopes: Scope[] = [];
  private recentKernels: string[] = [];
  /** Dispatches per submitted command buffer (bounded so the driver starts work early). */
  maxBatch = 64;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterReport,
    readonly options: GpuOptions = {},
  ) {
    this.pool = new BufferPool(device, Math.min(device.limits.maxBufferSize, options.lowerLimits?.maxBufferSize ?? Infinity), () => this.flush());
    this.uniformAlign = Math.max(16, (device.limits as unknown as Record<string, number>).minUniformBufferOffsetAlignment ?? 256);
    this.features = new Set(device.features as unknown as Iterable<string>);
    const lim: Record<string, number> = {};
    for (const k of WANTED_LIMITS) {
      const own = (device.limits as unknown as Record<string, number>)[k]!;
      const cap = options.lowerLimits?.[k];
      if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) throw new GpuError('usage', `lowerLimits.${k} must be a positive integer, got ${cap}`);
      lim[k] = cap !== undefined ? Math.min(own, cap) : own;
    }
    for (const k of Object.keys(options.lowerLimits ?? {})) {
      if (!(WANTED_LIMITS as readonly string[]).includes(k))
        throw new GpuError('usage', `lowerLimits: '${k}' is not a limit voxelgrad reads; use one of ${WANTED_LIMITS.join(', ')}`);
    }
    this.limits = lim;
    this.profiler = new Profiler(device, this.features.has('timestamp-query'));
    device.addEventListener('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(this.toGpuError(err, this.recentKernels.slice(-4).join(' → ')));
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostInfo = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * Creates the runtime for an already requested adapter: its real limits (or WebGPU's defaults with
   * `limits: 'core'`) and the optional features the engine uses, less those in `disableFeatures`.
   */
  static async fromAdapter(adapter: GPUAdapter, options: GpuOptions = {}): Promise<Gpu> {
    const disabled = parseFeatureList((options.disableFeatures ?? []).join(','), 'disableFeatures');
    const limitsMode = parseLimitsMode(options.limits ?? 'adapter', 'limits');
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f) && !disabled.includes(f));
    const requiredLimits: Record<string, number> = {};
    if (limitsMode === 'adapter') {
      for (const k of WANTED_LIMITS) {
        const v = (adapter.limits as unknown as Record<string, number>)[k];
        if (typeof v === 'number') requiredLimits[k] = v;
      }
    }
    const device = await adapter.requestDevice({ label: 'voxelgrad', requiredFeatures, requiredLimits });
    const info = adapter.info ?? ({} as GPUAdapterInfo);
    const limits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) limits[k] = (adapter.limits as unknown as Record<string, number>)[k]!;
    const features = [...(adapter.features as unknown as Iterable<string>)].sort();
    const report: AdapterReport = {
      description: info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter',
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      backend: options.origin ?? '',
      disabledFeatures: features.filter((f) => disabled.includes(f)),
      limitsMode,
      isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
      features,
      limits,
    };
    return new Gpu(device, report, options);
  }

  private toGpuError(err: GPUError, context: string): GpuError {
    const kind = err.constructor?.name === 'GPUOutOfMemoryError' ? 'out-of-memory' : err.constructor?.name === 'GPUInternalError' ? 'internal' : 'validation';
    return new GpuError(kind, `WebGPU ${kind} error${context ? ` (recent kernels: ${context})` : ''}: ${err.message}`);
  }

  // ---------------------------------------------------------------- kernels

  kernel(def: KernelDef): Kernel {
    let k = this.kernels.get(def);
    if (!k) {
      const missing = this.missingFeatures(def);
      if (missing.length) {
        throw new GpuError(
          'usage',
          `kernel '${def.name}' (${def.shaderPath}) needs the optional feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this device does not have` +
            `${this.adapter.disabledFeatures.length ? ` (left off: ${this.adapter.disabledFeatures.join(', ')})` : ''}; the kernel layer must choose a kernel that needs none here`,
        );
      }
      k = new Kernel(this, def);
      this.kernels.set(def, k);
    }
    return k;
  }

  /** Encodes one compute dispatch. Work is batched; `flush`/`sync`/`read` submit it. */
  dispatch(def: KernelDef, args: DispatchArgs): void {
    this.assertAlive();
    if (this.planning) {
      this.planning.push({ def, overrides: { ...args.overrides } });
      return;
    }
    const k = this.kernel(def);
    const [wx, wy = 1, wz = 1] = args.workgroups;
    if (wx === 0 || wy === 0 || wz === 0) return; // empty tensors: nothing to do
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension!;
    if (wx > maxWg || wy > maxWg || wz > maxWg) {
      throw new GpuError('over-limit', `kernel '${def.name}': dispatch [${wx}, ${wy}, ${wz}] exceeds maxComputeWorkgroupsPerDimension ${maxWg}`);
    }
    const pipeline = k.pipeline(args.overrides);
    // All of this dispatch's uniforms go into the same submit's arena: make room first.
    let uniformBytes = 0;
    for (const b of k.iface.bindings.values()) if (b.kind === 'uniform') uniformBytes += this.alignUniform(b.uniform!.size);
    if (this.uniformUsed + uniformBytes > this.uniformHost.byteLength) this.flush();
    const entries: GPUBindGroupEntry[] = [];
    for (const b of k.iface.bindings.values()) {
      if (b.kind === 'uniform') {
        const { offset, size } = this.packUniform(def, b, args);
        entries.push({ binding: b.binding, resource: { buffer: this.arena(), offset, size } });
      } else entries.push({ binding: b.binding, resource: this.resource(def, b, args) });
    }
    for (const name of Object.keys(args.bind)) {
      const b = k.iface.bindings.get(name);
      if (!b || b.kind === 'uniform') throw new Error(`kernel '${def.name}': no storage binding named '${name}'`);
    }
    const bindGroup = this.device.createBindGroup({ label: def.name, layout: k.layout, entries });
    this.nativeObjects++;
    this.recentKernels.push(def.name);
    if (this.recentKernels.length > 16) this.recentKernels.splice(0, 8);

    const profiling = this.profiler.enabled;
    if (this.options.debug) this.device.pushErrorScope('validation');
    if (profiling) {
      // One pass per dispatch so each has its own timestamps (or its own submit for wall-clock timing).
      this.endPass();
      if (this.profiler.hasTimestamps && this.profiler.full) this.flushProfilerSync();
      const enc = this.getEncoder();
      const ts = this.profiler.passTimestamps(def.name);
      const pass = enc.beginComputePass(ts ? { label: def.name, timestampWrites: ts } : { label: def.name });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(wx, wy, wz);
      pass.end();
    } else {
      if (!this.pass) this.pass = this.getEncoder().beginComputePass({ label: 'voxelgrad-batch' });
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(wx, wy, wz);
    }
    if (this.options.debug) {
      const name = def.name;
      this.debugScopes.push(
        this.device.popErrorScope().then((e) => {
          if (e) this.errors.push(new GpuError('validation', `kernel '${name}' (${def.shaderPath}): ${e.message}`));
        }),
      );
    }
    this.pendingDispatches++;
    if (profiling && !this.profiler.hasTimestamps) {
      // Wall-clock fallback: submit each dispatch alone; its time runs from the later of its submit and
      // the previous dispatch's completion to its own completion.
      this.flush();
      const submitted = performance.now();
      const prev = this.wallClockLast;
      this.wallClockLast = this.device.queue.onSubmittedWorkDone().then(async () => {
        const done = performance.now();
        const prevDone = await prev;
        this.profiler.addWall(def.name, done - Math.max(submitted, prevDone));
        return done;
      });
    } else if (this.pendingDispatches >= this.maxBatch) this.flush();
  }

  private wallClockLast: Promise<number> = Promise.resolve(0);

  /** Packs a uniform struct into the arena; returns its (aligned) offset there and its size. */
  private packUniform(def: KernelDef, b: BindingInfo, args: DispatchArgs): { offset: number; size: number } {
    const values = args.uniforms?.[b.name];
    if (!values) throw new Error(`kernel '${def.name}': uniform '${b.name}' (struct ${b.uniform!.structName}) was not given`);
    const bytes = packUniform(b.uniform!, values, `kernel '${def.name}'`);
    const offset = this.uniformUsed;
    this.uniformHost.set(new Uint8Array(bytes), offset);
    this.uniformUsed += this.alignUniform(bytes.byteLength);
    return { offset, size: bytes.byteLength };
  }

  private resource(def: KernelDef, b: BindingInfo, args: DispatchArgs): GPUBufferBinding {
    const t = args.bind[b.name];
    if (!t) throw new Error(`kernel '${def.name}': storage binding '${b.name}' was not given`);
    if (t instanceof GpuTensor) {
      if (t.gpu !== this) throw new Error(`kernel '${def.name}': tensor for '${b.name}' belongs to another device`);
      const limit = this.limits.maxStorageBufferBindingSize!;
      if (t.byteLength > limit) {
        throw new GpuError(
          'over-limit',
          `kernel '${def.name}': '${b.name}' would bind ${t} (${fmtBytes(t.byteLength)}), more than this device's maxStorageBufferBindingSize of ${fmtBytes(limit)}` +
            ` (${this.adapter.description}), and this operation does not split its tensors; reduce the batch, crop or resize the volume, or use an adapter with larger bindings`,
        );
      }
      return { buffer: t.buffer, offset: t.byteOffset, size: Math.max(4, t.byteLength) };
    }
    return { buffer: t };
  }

  private alignUniform(bytes: number): number {
    return Math.ceil(bytes / this.uniformAlign) * this.uniformAlign;
  }

  private arena(): GPUBuffer {
    this.uniformArena ??= this.device.createBuffer({ label: 'uniform-arena', size: UNIFORM_ARENA_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    return this.uniformArena;
  }

  private getEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder({ label: 'voxelgrad' });
      this.nativeObjects++;
    }
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits all encoded work. */
  flush(): void {
    this.endPass();
    if (!this.encoder) {
      this.pool.afterSubmit();
      return;
    }
    const resolved = this.profiler.enabled && this.profiler.hasTimestamps ? this.profiler.encodeResolve(this.encoder) : null;
    if (this.uniformUsed > 0) {
      this.device.queue.writeBuffer(this.arena(), 0, this.uniformHost.buffer, 0, this.uniformUsed);
      this.uniformUsed = 0;
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pendingDispatches = 0;
    this.pool.afterSubmit();
    if (this.nativeObjects >= GC_AFTER_OBJECTS && this.options.collectGarbage) {
      this.nativeObjects = 0;
      this.options.collectGarbage();
    }
    if (resolved) this.profilerReads.push(this.profiler.collect(resolved));
  }

  private profilerReads: Promise<void>[] = [];

  private flushProfilerSync(): void {
    // The query set is full: submit and queue the readback; report() awaits it.
    this.flush();
  }

  /** Waits until all submitted work has finished, then surfaces any error it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
  }

  /** Throws the first GPU error raised so far (with the kernels that ran before it). */
  async checkErrors(): Promise<void> {
    if (this.debugScopes.length) await Promise.all(this.debugScopes.splice(0));
    this.assertAlive();
    if (this.errors.length) {
      const [first, ...rest] = this.errors.splice(0);
      if (rest.length) first!.message += ` (and ${rest.length} more error(s))`;
      throw first!;
    }
  }

  private assertAlive(): void {
    if (this.lostInfo)
      throw new GpuError('device-lost', `the WebGPU device was lost (${this.lostInfo}); recent kernels: ${this.recentKernels.slice(-4).join(' → ') || 'none'}`);
  }

  // ---------------------------------------------------------------- tensors & memory

  /**
   * Allocates an uninitialised tensor (contents are whatever the pooled buffer held). A tensor may be
   * larger than one storage binding (maxStorageBufferBindingSize) up to maxBufferSize: the operations
   * that meet such tensors in the networks (convolutions, batch norm, max-pool, the element-wise ops and
   * the fused optimizers; kernels/chunks.ts) process them a few batch entries or a flat range at a time;
   * any other kernel asked to bind one refuses with a message naming the limit.
   */
  empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): GpuTensor<D> {
    validateShape(shape);
    const bytes = numel(shape) * 4;
    const limit = this.limits.maxBufferSize!;
    if (bytes > limit) {
      throw new GpuError(
        'over-limit',
        `tensor [${shape.join(', ')}] ${dtype} needs ${fmtBytes(bytes)}, more than this adapter's maxBufferSize of ${fmtBytes(limit)}` +
          ` (${this.adapter.description}); reduce the batch, crop or resize the volume, or use an adapter with larger buffers`,
      );
    }
    const buffer = this.pool.acquire(bytes, `tensor[${shape.join('x')}]`);
    const t = new GpuTensor(this, shape, dtype, buffer);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.add(t);
    this.track(t);
    return t;
  }

  /** Uploads host data into a new tensor. */
  tensor<D extends DType = 'f32'>(data: ArrayLike<number>, shape: readonly number[], dtype: D = 'f32' as D): GpuTensor<D> {
    const n = numel(shape);
    if (data.length !== n) throw new GpuError('usage', `data has ${data.length} elements but shape [${shape.join(', ')}] needs ${n}`);
    const t = this.empty(shape, dtype);
    this.write(t, data);
    return t;
  }

  /** Overwrites a tensor's contents from the host. Encoded work is submitted first to keep program order. */
  write(t: GpuTensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new GpuError('usage', `write of ${data.length} elements into ${t} of ${t.size}`);
    this.flush();
    const arr =
      t.dtype === 'f32'
        ? data instanceof Float32Array
          ? data
          : Float32Array.from(data)
        : t.dtype === 'i32'
          ? data instanceof Int32Array
            ? data
            : Int32Array.from(data)
          : data instanceof Uint32Array
            ? data
            : Uint32Array.from(data);
    if (arr.byteLength > 0) this.device.queue.writeBuffer(t.buffer, t.byteOffset, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  async read<D extends DType>(t: GpuTensor<D>): Promise<TypedArrayFor<D>> {
    const bytes = Math.ceil(Math.max(4, t.byteLength) / 4) * 4;
    const cls = sizeClass(bytes);
    const staging =
      this.stagingFree.get(cls)?.pop() ?? this.device.createBuffer({ size: cls, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'readback' });
    this.endPass();
    this.getEncoder().copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MapMode.READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      await this.checkErrors();
      throw e;
    }
    const copy = staging.getMappedRange(0, bytes).slice(0, t.byteLength);
    staging.unmap();
    this.releaseStaging(cls, staging);
    await this.checkErrors();
    return (t.dtype === 'f32' ? new Float32Array(copy) : t.dtype === 'i32' ? new Int32Array(copy) : new Uint32Array(copy)) as TypedArrayFor<D>;
  }

  private releaseStaging(cls: number, buf: GPUBuffer): void {
    // Keep a few per class (reads may overlap) and only small ones: a big readback is rare and its
    // buffer is better returned to the driver.
    let list = this.stagingFree.get(cls);
    if (!list) this.stagingFree.set(cls, (list = []));
    if (list.length < 4 && cls <= STAGING_KEEP_MAX) list.push(buf);
    else buf.destroy();
  }

  releaseBuffer(buf: GPUBuffer): void {
    this.pool.release(buf);
    this.liveTensors--;
  }

  private liveTensors = 0;
  private track(_t: GpuTensor): void {
    this.liveTensors++;
  }

  memory(): MemoryStats & { liveTensors: number } {
    return { ...this.pool.memory(), liveTensors: this.liveTensors };
  }

  /**
   * Runs `fn` in a scope: every tensor created inside and not returned (directly, in an array or as
   * an object's values) nor `keep()`-ed is released at the end. Scopes nest. For async functions
   * the scope stays open until the promise settles, so do not interleave two async scopes.
   */
  tidy<T>(fn: () => T): T {
    const scope: Scope = new Set();
    this.scopes.push(scope);
    let popped = false;
    const finish = (result: unknown) => {
      if (popped) return;
      popped = true;
      const i = this.scopes.lastIndexOf(scope);
      if (i >= 0) this.scopes.splice(i, 1);
      const keep = new Set<GpuTensor>();
      collectTensors(result, keep);
      const parent = this.scopes[this.scopes.length - 1];
      for (const t of scope) {
        if (keep.has(t)) parent?.add(t);
        else t.release();
      }
    };
    try {
      const out = fn();
      if (out instanceof Promise) {
        return out.then(
          (v) => {
            finish(v);
            return v;
          },
          (e) => {
            finish(undefined);
            throw e;
          },
        ) as T;
      }
      finish(out);
      return out;
    } catch (e) {
      finish(undefined);
      throw e;
    }
  }

  /** Moves a tensor out of the current scope so the scope's end does not release it. */
  keep<T extends GpuTensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  // ---------------------------------------------------------------- profiling

  /** Starts per-kernel timing (timestamp queries when available). */
  startProfiling(): void {
    this.flush();
    this.profiler.reset();
    this.profiler.enabled = true;
  }

  /** Stops timing and returns the per-kernel table. */
  async stopProfiling(): Promise<ProfileReport> {
    await this.sync();
    await Promise.all(this.profilerReads.splice(0));
    await this.wallClockLast;
    this.profiler.enabled = false;
    return this.profiler.table();
  }

  /** The optional features a kernel needs that this device lacks. */
  missingFeatures(def: KernelDef): string[] {
    return (def.features ?? []).filter((f) => !this.features.has(f));
  }

  /**
   * Compiles every module of the given kernels and returns their compilation messages, each with the
   * file and line it points at (`at`, through #include line maps). Kernels needing an optional feature
   * this device lacks are not compiled: `skipped` names the features.
   */
  async compileAll(
    defs: readonly KernelDef[],
  ): Promise<{ kernel: string; shader: string; messages: GPUCompilationMessage[]; at: string[]; skipped?: string }[]> {
    const out = [];
    for (const d of defs) {
      const missing = this.missingFeatures(d);
      if (missing.length) {
        out.push({ kernel: d.name, shader: d.shaderPath, messages: [], at: [], skipped: `needs ${missing.join(', ')}` });
        continue;
      }
      const messages = await this.kernel(d).compile();
      out.push({ kernel: d.name, shader: d.shaderPath, messages, at: messages.map((m) => `${sourceLocation(d, m.lineNum)}:${m.linePos}`) });
    }
    return out;
  }

  // ---------------------------------------------------------------- compiling ahead

  private planning: PipelineKey[] | null = null;

  /**
   * Runs `fn` with every dispatch recorded instead of encoded and returns the distinct pipelines it
   * asked for, in first-use order: nothing is compiled or run, so tensor contents (and anything read
   * back) are meaningless — run it on a throw-away model with the shapes of the real work.
   */
  async planPipelines(fn: () => Promise<unknown> | unknown): Promise<PipelineKey[]> {
    if (this.planning) throw new GpuError('usage', 'planPipelines calls cannot nest');
    const seen: PipelineKey[] = [];
    this.planning = seen;
    try {
      await fn();
    } finally {
      this.planning = null;
    }
    const keys = new Map<string, PipelineKey>();
    for (const p of seen) {
      const k = `${p.def.name}|${JSON.stringify(Object.entries(p.overrides).sort())}`;
      if (!keys.has(k)) keys.set(k, p);
    }
    return [...keys.values()];
  }

  /**
   * Compiles the pipelines of `keys` asynchronously (createComputePipelineAsync: the driver works off the
   * JavaScript thread) so the first dispatches that need them do not wait for the compiler. Returns how
   * many were compiled (pipelines that already existed are skipped).
   */
  async precompile(keys: readonly PipelineKey[]): Promise<number> {
    const done = await Promise.all(keys.map((p) => this.kernel(p.def).precompile(p.overrides)));
    await this.checkErrors();
    return done.filter(Boolean).length;
  }

  destroy(): void {
    this.flush();
    this.uniformArena?.destroy();
    this.uniformArena = null;
    for (const list of this.stagingFree.values()) for (const b of list) b.destroy();
    this.stagingFree.clear();
    this.pool.trim();
    this.profiler.destroy();
    this.device.destroy();
  }
}

function collectTensors(v: unknown, out: Set<GpuTensor>, depth = 0): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if (v instanceof GpuTensor) {
    out.add(v);
    return;
  }
  if (ArrayBuffer.isView(v)) return;
  if (Array.isArray(v)) for (const x of v) collectTensors(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collectTensors(x, out, depth + 1);
  else for (const x of Object.values(v as object)) collectTensors(x, out, depth + 1);
}

export function fmtBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
