/**
 * WebGPU in Node through Dawn (the `webgpu` package). Node-only: the browser path is acquire-browser.ts.
 *
 * Adapter choice, in order:
 *  1. `VOXELGRAD_VK_ICD=/path/icd.json` — exactly that Vulkan driver;
 *  2. `VOXELGRAD_ADAPTER=swiftshader|lavapipe` (or the `adapter` option) — that CPU driver;
 *  3. `auto` (default): whatever Dawn picks with the system's drivers (a real GPU when there is one);
 *     if it finds none, the CPU Vulkan drivers we know of (lavapipe, then Chromium's SwiftShader).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { quietDawnStartup } from './dawn-stderr.node.js';
import { GpuError } from './errors.js';
import { Gpu, type GpuOptions, parseFeatureList, parseLimitsSpec } from './gpu.js';

export type AdapterChoice = 'auto' | 'swiftshader' | 'lavapipe';

export const KNOWN_ICDS: Record<Exclude<AdapterChoice, 'auto'>, string[]> = {
  swiftshader: ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json', '/opt/google/chrome/vk_swiftshader_icd.json'],
  lavapipe: ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json'],
};

export interface NodeGpuOptions extends GpuOptions {
  adapter?: AdapterChoice | string;
  /** Extra Dawn toggles, e.g. `enable-dawn-features=...`. */
  dawnOptions?: string[];
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | null = null;
function loadDawn(): DawnModule {
  if (!dawn) {
    try {
      dawn = createRequire(import.meta.url)('webgpu') as DawnModule;
    } catch (e) {
      throw new GpuError(
        'no-adapter',
        `the 'webgpu' npm package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run 'npm ci' in the voxelgrad folder.`,
      );
    }
    // Some code (and the profiler of other tools) expects the GPU* constants as globals, as in a browser.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return dawn;
}

let fullGc: (() => void) | null | undefined;

/**
 * V8's full garbage collection, for `GpuOptions.collectGarbage`: `globalThis.gc` when Node runs with
 * --expose-gc, else the same function taken from a fresh context after turning the flag on (the flag only
 * affects contexts created after it is set). Null if neither works.
 */
export function nodeGarbageCollector(): (() => void) | null {
  if (fullGc !== undefined) return fullGc;
  const g = (globalThis as { gc?: unknown }).gc;
  if (typeof g === 'function') return (fullGc = g as () => void);
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    fullGc = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    fullGc = null;
  }
  return fullGc;
}

function setIcd(path: string): void {
  // Both names: VK_ICD_FILENAMES for older Vulkan loaders, VK_DRIVER_FILES for newer ones.
  process.env.VK_ICD_FILENAMES = path;
  process.env.VK_DRIVER_FILES = path;
}

// Dawn's GPU instance must outlive every adapter and device made from it: if it is garbage-collected
// the process crashes. Instances are kept here for the life of the process.
const instances: GPU[] = [];

async function tryAdapter(extra: string[]): Promise<GPUAdapter | null> {
  const gpu = loadDawn().create(extra);
  instances.push(gpu);
  try {
    // Dawn prints its limit notice to fd 2 inside this call (see dawn-stderr.node.ts).
    return await quietDawnStartup(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
  } catch {
    return null;
  }
}

function libvulkanPresent(): boolean {
  return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].some(
    existsSync,
  );
}

export function noAdapterMessage(tried: string[]): string {
  const lines = [
    `No WebGPU adapter found (tried: ${tried.join('; ') || 'nothing'}).`,
    'voxelgrad needs a Vulkan driver for WebGPU in Node. On Debian/Ubuntu without a GPU install a CPU driver:',
    '  sudo apt-get install libvulkan1 chromium            # SwiftShader, ships inside Chromium',
    '  sudo apt-get install libvulkan1 mesa-vulkan-drivers  # lavapipe (Mesa >= 25, e.g. from bookworm-backports)',
    'With a GPU, install its Vulkan driver. Or point VOXELGRAD_VK_ICD at a Vulkan ICD .json file.',
  ];
  if (process.platform === 'linux' && !libvulkanPresent()) lines.splice(1, 0, 'The Vulkan loader libvulkan.so.1 is missing: install the package libvulkan1.');
  return lines.join('\n');
}

/**
 * Acquires a device in Node, with the fallbacks described at the top of this file.
 * `VOXELGRAD_DISABLE_FEATURES` (comma-separated) and `VOXELGRAD_LIMITS` apply when the options do not
 * say: they let CI run every test again on the paths an adapter without subgroups (or with only core
 * limits) takes.
 */
export async function acquireNodeGpu(opts: NodeGpuOptions = {}): Promise<Gpu> {
  const envFeatures = process.env.VOXELGRAD_DISABLE_FEATURES;
  const envLimits = process.env.VOXELGRAD_LIMITS ? parseLimitsSpec(process.env.VOXELGRAD_LIMITS, 'VOXELGRAD_LIMITS') : null;
  opts = {
    ...opts,
    disableFeatures: opts.disableFeatures ?? (envFeatures ? parseFeatureList(envFeatures, 'VOXELGRAD_DISABLE_FEATURES') : []),
    limits: opts.limits ?? envLimits?.mode ?? 'adapter',
    lowerLimits: opts.lowerLimits ?? envLimits?.lower ?? {},
  };
  const extra = opts.dawnOptions ?? [];
  const tried: string[] = [];
  const gc = nodeGarbageCollector();
  if (gc && !opts.collectGarbage) opts = { ...opts, collectGarbage: gc };
  const explicitIcd = process.env.VOXELGRAD_VK_ICD;
  const choice = (opts.adapter ?? process.env.VOXELGRAD_ADAPTER ?? 'auto') as string;

  const withIcd = async (path: string, origin: string): Promise<Gpu | null> => {
    if (!existsSync(path)) {
      tried.push(`${origin}: ${path} does not exist`);
      return null;
    }
    setIcd(path);
    const a = await tryAdapter(extra);
    tried.push(`${origin}: ${path}${a ? '' : ' (no adapter)'}`);
    return a ? Gpu.fromAdapter(a, { ...opts, origin: `${origin} (${path})` }) : null;
  };

  if (explicitIcd) {
    const g = await withIcd(explicitIcd, 'VOXELGRAD_VK_ICD');
    if (g) return g;
    throw new GpuError('no-adapter', noAdapterMessage(tried));
  }
  if (choice === 'swiftshader' || choice === 'lavapipe') {
    for (const p of KNOWN_ICDS[choice]) {
      const g = await withIcd(p, choice);
      if (g) return g;
    }
    throw new GpuError('no-adapter', noAdapterMessage(tried));
  }
  if (choice !== 'auto') throw new GpuError('usage', `unknown adapter '${choice}': use auto, swiftshader or lavapipe (or VOXELGRAD_VK_ICD=/path/icd.json)`);

  const a = await tryAdapter(extra);
  tried.push(`system default${process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})` : ''}${a ? '' : ' (no adapter)'}`);
  if (a) return Gpu.fromAdapter(a, { ...opts, origin: 'system default' });
  for (const kind of ['lavapipe', 'swiftshader'] as const) {
    for (const p of KNOWN_ICDS[kind]) {
      if (!existsSync(p)) continue;
      const g = await withIcd(p, kind);
      if (g) return g;
    }
  }
  throw new GpuError('no-adapter', noAdapterMessage(tried));
}
