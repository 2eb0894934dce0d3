/** `voxelgrad info`: the adapter, its features and limits (and, with --kernels, the kernel registry). */
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { fmtBytes } from '../gpu/gpu.js';
import { registeredKernels } from '../kernels/all.js';
import { type FlagSpec, formatHelp, parseArgs } from './args.js';

export const infoFlags: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print JSON' },
  adapter: { type: 'string', help: 'auto | swiftshader | lavapipe (also VOXELGRAD_ADAPTER)' },
  kernels: { type: 'boolean', help: 'also compile and list every kernel' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function infoCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, infoFlags, 'info');
  if (flags.help) {
    out(formatHelp('info', 'Prints the WebGPU adapter voxelgrad uses, its features and limits.', infoFlags));
    return 0;
  }
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  try {
    const a = gpu.adapter;
    let kernels: { kernel: string; shader: string; messages: number }[] | undefined;
    if (flags.kernels) {
      kernels = (await gpu.compileAll(registeredKernels())).map((r) => ({ kernel: r.kernel, shader: r.shader, messages: r.messages.length }));
    }
    if (flags.json) {
      out(JSON.stringify({ adapter: a, kernels }, null, 2));
      return 0;
    }
    const lines = [
      `adapter       ${a.description}`,
      `vendor        ${a.vendor || '-'}   architecture ${a.architecture || '-'}`,
      `found via     ${a.backend}`,
      `fallback      ${a.isFallbackAdapter ? 'yes' : 'no'}`,
      `features      ${a.features.join(', ')}`,
      'limits',
      ...Object.entries(a.limits).map(([k, v]) => `  ${k.padEnd(36)} ${k.endsWith('Size') && v >= 1024 ? `${v} (${fmtBytes(v)})` : v}`),
    ];
    if (kernels) lines.push('kernels', ...kernels.map((k) => `  ${k.kernel.padEnd(28)} ${k.shader}  ${k.messages ? `${k.messages} message(s)` : 'ok'}`));
    out(lines.join('\n'));
    return 0;
  } finally {
    gpu.destroy();
  }
}
