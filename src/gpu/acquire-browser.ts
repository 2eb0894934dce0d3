/** WebGPU in a page: `navigator.gpu`. The engine above this is the same as in Node. */
import { GpuError } from './errors.js';
import { Gpu, type GpuOptions } from './gpu.js';

export async function acquireBrowserGpu(opts: GpuOptions & { powerPreference?: GPUPowerPreference } = {}): Promise<Gpu> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    throw new GpuError(
      'no-adapter',
      'This browser does not expose WebGPU (navigator.gpu is missing). Use a current Chrome/Edge (or Chromium with --enable-unsafe-webgpu), Safari 26+, or Firefox 141+, over https or localhost.',
    );
  }
  const adapter = await nav.gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter)
    throw new GpuError('no-adapter', 'navigator.gpu.requestAdapter() returned no adapter: WebGPU is disabled or blocklisted for this GPU in this browser.');
  return Gpu.fromAdapter(adapter, { ...opts, origin: opts.origin ?? 'navigator.gpu' });
}
