/** `voxelgrad info`: the adapter, its features and limits (and, with --kernels, the kernel registry). */
import { acquireNodeGpu } from '../gpu/acquire.node.js';
import { fmtBytes } from '../gpu/gpu.js';
import { registeredKernels } from '../kernels/all.js';
import { HEAD_KINDS, type HeadKind, MODEL_NAMES, PAPER_PARAMETER_COUNTS, StagingNet, parseModelName } from '../model/resnet.js';
import { rangeOf } from '../train/config.js';
import { ADAPTER_FLAG, type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';

function modelInfo(name: string, head: string, width: number, json: boolean, out: (s: string) => void): number {
  if (!HEAD_KINDS.includes(head as HeadKind)) throw new UsageError(`--head must be one of ${HEAD_KINDS.join(', ')}`);
  let names: string[];
  try {
    names = name === 'all' ? [...MODEL_NAMES] : [parseModelName(name)];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const rows = names.map((n) => {
    const m = new StagingNet({ name: parseModelName(n), head: head as HeadKind, width });
    const paper = head === 'slice' && width === 32 ? PAPER_PARAMETER_COUNTS[m.config.name] : undefined;
    return { model: m.config.name, head, width, parameters: m.parameterCount(), ...(paper !== undefined ? { paper } : {}) };
  });
  if (json) out(JSON.stringify(rows.length === 1 ? rows[0] : rows, null, 2));
  else
    for (const r of rows)
      out(
        `${r.model.padEnd(10)} ${String(r.parameters).padStart(10)} parameters${r.paper !== undefined ? `   (paper Table 2: ${r.paper}${r.paper === r.parameters ? ', equal' : `, ${r.parameters - r.paper > 0 ? '+' : ''}${r.parameters - r.paper}`})` : ''}`,
      );
  return 0;
}

export const infoFlags: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print JSON' },
  adapter: ADAPTER_FLAG,
  kernels: { type: 'boolean', help: 'also compile and list every kernel' },
  model: { type: 'string', help: "print a model's parameter count instead (a name from Table 2, or 'all'); no GPU needed" },
  head: { type: 'string', help: 'with --model: the head', choices: HEAD_KINDS, default: 'slice' },
  width: { type: 'number', help: 'with --model: first-layer filters', default: 32, ...rangeOf('width') },
  help: { type: 'boolean', help: 'show this help' },
};

export async function infoCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, infoFlags, 'info');
  if (flags.help) {
    out(formatHelp('info', 'Prints the WebGPU adapter voxelgrad uses, its features and limits.', infoFlags));
    return 0;
  }
  if (flags.model) return modelInfo(String(flags.model), String(flags.head), Number(flags.width), Boolean(flags.json), out);
  const gpu = await acquireNodeGpu(flags.adapter ? { adapter: String(flags.adapter) } : {});
  try {
    const a = gpu.adapter;
    let kernels: { kernel: string; shader: string; messages: number }[] | undefined;
    if (flags.kernels) {
      kernels = (await gpu.compileAll(registeredKernels())).map((r) => ({ kernel: r.kernel, shader: r.shader, messages: r.messages.length }));
    }
    if (flags.json) {
      out(JSON.stringify({ adapter: a, limitsInUse: gpu.limits, kernels }, null, 2));
      return 0;
    }
    const fmt = (k: string, v: number) => (k.endsWith('Size') && v >= 1024 ? `${v} (${fmtBytes(v)})` : String(v));
    const lines = [
      `adapter       ${a.description}`,
      `vendor        ${a.vendor || '-'}   architecture ${a.architecture || '-'}`,
      `found via     ${a.backend}`,
      `fallback      ${a.isFallbackAdapter ? 'yes' : 'no'}`,
      `features      ${a.features.join(', ')}`,
      ...(a.disabledFeatures.length
        ? [`left off      ${a.disabledFeatures.join(', ')} (VOXELGRAD_DISABLE_FEATURES / disableFeatures): kernels that need them are not used`]
        : []),
      `limits        in use: ${a.limitsMode === 'core' ? "WebGPU's core defaults (VOXELGRAD_LIMITS=core)" : "the adapter's"}, less any cap (VOXELGRAD_LIMITS name=value); the adapter's own in brackets where it differs`,
      ...Object.entries(gpu.limits).map(([k, v]) => {
        const own = a.limits[k];
        return `  ${k.padEnd(36)} ${fmt(k, v)}${own !== undefined && own !== v ? `   [adapter ${fmt(k, own)}]` : ''}`;
      }),
    ];
    if (kernels) lines.push('kernels', ...kernels.map((k) => `  ${k.kernel.padEnd(28)} ${k.shader}  ${k.messages ? `${k.messages} message(s)` : 'ok'}`));
    out(lines.join('\n'));
    return 0;
  } finally {
    gpu.destroy();
  }
}
