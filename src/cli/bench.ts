/** `voxelgrad bench`: the kernel benchmarks of bench/ (same as `npm run bench`), run as a child process. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAPTER_FLAG, type FlagSpec, formatHelp, parseArgs } from './args.js';

export const benchFlags: Record<string, FlagSpec> = {
  quick: { type: 'boolean', help: 'small iteration counts (minutes on a CPU driver)' },
  only: { type: 'string', help: 'comma-separated bench names: matmul, conv, norm-pool, head-loss, network' },
  layers: { type: 'string', help: 'conv rows whose name contains one of these (comma-separated), e.g. 3×3×3; they replace those rows in the JSON' },
  adapter: ADAPTER_FLAG,
  help: { type: 'boolean', help: 'show this help' },
};

export async function benchCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, benchFlags, 'bench');
  if (flags.help) {
    out(formatHelp('bench', 'Times the kernels on the real layer shapes of f-rMC5; writes bench/results/<adapter>.json.', benchFlags));
    return 0;
  }
  // bench/ is compiled next to src/ in dist/ (dist/bench/run.js).
  const runner = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
  if (!existsSync(runner)) throw new Error(`${runner} is missing; run 'npm run build' first`);
  const args = [runner, ...(flags.quick ? ['--quick'] : []), ...(flags.only ? ['--only', String(flags.only)] : []), ...(flags.layers ? ['--layers', String(flags.layers)] : []), ...(flags.adapter ? ['--adapter', String(flags.adapter)] : [])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  return r.status ?? 1;
}
