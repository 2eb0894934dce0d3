/**
 * The `voxelgrad` command line. Each command lives in its own module; this file dispatches and maps
 * errors to exit codes: 0 ok, 1 failure while running, 2 usage error, 3 no WebGPU adapter, 4 bad input data.
 */
import { GpuError } from '../gpu/errors.js';
import { ConfigError } from '../train/experiment.js';
import { UsageError } from './args.js';
import { ablateCommand } from './ablate.js';
import { benchCommand } from './bench.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { inspectCommand } from './inspect.js';
import { predictCommand } from './predict.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';

type Command = { summary: string; run: (argv: string[], out: (s: string) => void) => Promise<number> };

export const EXIT = { ok: 0, failure: 1, usage: 2, noAdapter: 3, badInput: 4 } as const;

const commands: Record<string, Command> = {
  demo: { summary: 'the main job: synthetic cohort → cross-validated f-rMC5 + bilinear → results table', run: demoCommand },
  synth: { summary: 'write the synthetic T2/T3 rectal MR cohort (NIfTI + manifest)', run: synthCommand },
  train: { summary: 'cross-validated training on a manifest (the paper’s protocol)', run: trainCommand },
  eval: { summary: 'merge a run’s folds: results table, ROC with CI, HTML/Markdown report', run: evalCommand },
  predict: { summary: 'T3 probability, per-slice scores and saliency (NIfTI + PNG) for one volume', run: predictCommand },
  ablate: { summary: 'rerun the paper’s Table 2, 3 or 4 comparison on a cohort', run: ablateCommand },
  bench: { summary: 'kernel and network benchmarks', run: benchCommand },
  inspect: { summary: 'what a NIfTI volume or a checkpoint holds, read as training reads it (exit 4 if refused)', run: inspectCommand },
  info: { summary: 'print the WebGPU adapter, its features and limits (or a model’s parameter count)', run: infoCommand },
};

function usage(): string {
  const rows = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`);
  return [
    'voxelgrad — volumetric T-staging networks on WebGPU',
    '',
    'Usage: voxelgrad <command> [options]   (voxelgrad <command> --help)',
    '',
    'Commands:',
    ...rows,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`voxelgrad: unknown command '${name}'\n\n${usage()}\n`);
    return EXIT.usage;
  }
  try {
    return await cmd.run(rest, out);
  } catch (e) {
    const { code, message } = describeError(e);
    process.stderr.write(`voxelgrad ${name}: ${message}\n`);
    if (process.env.VOXELGRAD_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return code;
  }
}

/**
 * The one place errors become exit codes: usage errors (UsageError, ConfigError) 2, no adapter 3,
 * errors that carry their own `exitCode` (InputError 4, RunIncompleteError 1), file-system errors 1
 * with what failed; anything else is a bug in voxelgrad and says so instead of leaking a raw TypeError.
 */
export function describeError(e: unknown): { code: number; message: string } {
  if (e instanceof UsageError || e instanceof ConfigError) return { code: EXIT.usage, message: e.message };
  if (e instanceof GpuError && e.kind === 'no-adapter') return { code: EXIT.noAdapter, message: e.message };
  if (e instanceof GpuError && e.kind === 'usage') return { code: EXIT.usage, message: e.message };
  if (!(e instanceof Error))
    return { code: EXIT.failure, message: `internal error: ${String(e)} (a bug in voxelgrad; please report it with VOXELGRAD_DEBUG=1 output)` };
  const withCode = e as Error & { exitCode?: unknown; code?: unknown };
  if (typeof withCode.exitCode === 'number') return { code: withCode.exitCode, message: e.message };
  if (typeof withCode.code === 'string' && /^E[A-Z]+$/.test(withCode.code)) return { code: EXIT.failure, message: `file system: ${e.message}` };
  if (e instanceof GpuError || e.name === 'NonFiniteLossError' || e.name === 'Error') return { code: EXIT.failure, message: e.message };
  return {
    code: EXIT.failure,
    message: `internal error (${e.name}: ${e.message}) — a bug in voxelgrad; please report it with the output of VOXELGRAD_DEBUG=1`,
  };
}
