/**
 * One call for a device wherever the engine runs: `navigator.gpu` in a page or worker, Dawn (the
 * `webgpu` npm package) in Node. The Node path is loaded on demand, so a browser bundle never
 * contains it.
 */
import { acquireBrowserGpu } from './acquire-browser.js';
import type { Gpu, GpuOptions } from './gpu.js';

export interface AcquireOptions extends GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Node only: `auto` | `swiftshader` | `lavapipe` (see acquire.node.ts). */
  adapter?: string;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

export async function acquireGpu(opts: AcquireOptions = {}): Promise<Gpu> {
  if (!isNode()) return acquireBrowserGpu(opts);
  // A computed specifier: bundlers leave it alone, Node resolves it next to this file.
  const nodeModule = './acquire.node.js';
  const m = (await import(/* @vite-ignore */ nodeModule)) as typeof import('./acquire.node.js');
  return m.acquireNodeGpu(opts);
}
