/** `voxelgrad bench`: the kernel and network benchmarks of bench/ (same as `npm run bench`). */
import { type FlagSpec, formatHelp, parseArgs } from './args.js';

export const benchFlags: Record<string, FlagSpec> = {
  quick: { type: 'boolean', help: 'small iteration counts and shapes (minutes on a CPU driver)' },
  filter: { type: 'string', help: 'only benches whose name contains this text' },
  adapter: { type: 'string', help: 'auto | swiftshader | lavapipe' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function benchCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, benchFlags, 'bench');
  if (flags.help) {
    out(formatHelp('bench', 'Times the kernels and networks on the real layer shapes; writes bench/results/<adapter>.json.', benchFlags));
    return 0;
  }
  // bench/ is compiled next to src/ in dist/; imported lazily so the CLI starts fast.
  const mod = (await import(new URL('../../bench/run.js', import.meta.url).href)) as { runBench: (o: { quick: boolean; filter?: string; adapter?: string; out: (s: string) => void }) => Promise<number> };
  return mod.runBench({ quick: Boolean(flags.quick), ...(flags.filter ? { filter: String(flags.filter) } : {}), ...(flags.adapter ? { adapter: String(flags.adapter) } : {}), out });
}
