/**
 * `voxelgrad bench`: the benchmarks of bench/ run as a child process — in Node (same as `npm run bench`)
 * or, with --browser, in headless Chromium with the browser peers (same as `npm run bench:browser`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FlagSpec, UsageError, formatHelp, parseArgs } from './args.js';

export const benchFlags: Record<string, FlagSpec> = {
  quick: { type: 'boolean', help: 'fewer rows and runs (minutes on a CPU driver)' },
  only: { type: 'string', help: 'comma-separated bench names: matmul, conv, head-loss, norm-pool, network' },
  layers: { type: 'string', help: 'rows whose name contains one of these (comma-separated), e.g. 3×3×3; they replace those rows in the JSON' },
  adapter: { type: 'string', help: 'Node: auto | swiftshader | lavapipe; --browser: swiftshader | default | d3d11 | opengles | low-power | high-performance' },
  browser: { type: 'boolean', help: 'run in headless Chromium (the system one) with TensorFlow.js, jax-js and ONNX Runtime Web as peers on the same adapter' },
  gpu: { type: 'boolean', help: "with --browser: the machine's GPU instead of SwiftShader" },
  peers: { type: 'string', help: 'with --browser: comma-separated peers (tfjs, jax-js, ort; default all)' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function benchCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, benchFlags, 'bench');
  if (flags.help) {
    out(formatHelp('bench', 'Times the kernels and networks on the real layer shapes of the paper; writes bench/results/<adapter>.json (with --browser: browser-<adapter>.json, .md and .html).', benchFlags));
    return 0;
  }
  if (!flags.browser && (flags.gpu || flags.peers)) throw new UsageError('bench: --gpu and --peers go with --browser');
  const pass = (name: string) => (flags[name] !== undefined && flags[name] !== false ? (flags[name] === true ? [`--${name}`] : [`--${name}`, String(flags[name])]) : []);
  const args = [...pass('quick'), ...pass('only'), ...pass('layers'), ...pass('adapter'), ...pass('gpu'), ...pass('peers')];
  // bench/ is compiled next to src/ in dist/ (dist/bench/run.js, dist/bench/browser/run.js).
  const runner = fileURLToPath(new URL(flags.browser ? '../../bench/browser/run.js' : '../../bench/run.js', import.meta.url));
  if (!existsSync(runner)) throw new Error(`${runner} is missing; run 'npm run build' first`);
  if (flags.browser && !existsSync(fileURLToPath(new URL('../../../bench/browser/index.html', import.meta.url)))) {
    throw new Error('bench --browser builds its page from the sources (bench/browser/): run it from a voxelgrad checkout (npm run bench:browser), not an installed package');
  }
  const r = spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit' });
  return r.status ?? 1;
}
