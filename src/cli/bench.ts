/**
 * `voxelgrad bench`: the benchmarks of bench/ run as a child process — in Node (same as `npm run bench`)
 * or, with --browser, in headless Chromium with the browser peers (same as `npm run bench:browser`).
 * The flag tables of both runners live here, so the command and `npm run bench[:browser] -- …` parse
 * the same flags the same way (util.parseArgs, strict) and refuse the same combinations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAPTER_FLAG, type FlagSpec, type FlagValue, UsageError, formatHelp, parseArgs } from './args.js';

/** Chromium's WebGPU adapters (--use-webgpu-adapter) and requestAdapter's power preferences. */
export const CHROMIUM_ADAPTERS = ['swiftshader', 'default', 'd3d11', 'opengles', 'compat'] as const;
export const POWER_PREFERENCES = ['low-power', 'high-performance'] as const;

const common: Record<string, FlagSpec> = {
  quick: { type: 'boolean', help: 'fewer rows and runs (minutes on a CPU driver; --browser: within 10 minutes on 2 cores with SwiftShader)' },
  only: {
    type: 'string',
    help: 'comma-separated bench names: matmul, conv, depth-agg, triplet, sgd, batchnorm, maxpool, plane-avgpool, network (Node also: memory; the old groups norm-pool and head-loss name their parts); merged into the JSON',
  },
  layers: { type: 'string', help: 'rows whose name contains one of these (comma-separated), e.g. 3×3×3; they replace those rows in the JSON' },
  out: { type: 'string', help: 'folder for the results (default bench/results)' },
};

/** `npm run bench -- …` (bench/run.ts): Dawn in Node, TensorFlow.js as the peer. */
export const nodeBenchFlags: Record<string, FlagSpec> = {
  ...common,
  adapter: ADAPTER_FLAG,
  gpu: { type: 'boolean', help: "the machine's GPU through Dawn (refuses a CPU driver); every bench at full size, conv with both kernel families" },
  peers: { type: 'string', help: 'tfjs (default) or none', choices: ['tfjs', 'none'] },
  paths: { type: 'boolean', help: 'conv: time the subgroup and the tiled kernel families side by side per layer and op' },
  'disable-features': { type: 'string', help: 'leave these optional features off (comma-separated: subgroups, shader-f16, timestamp-query)' },
  profile: { type: 'boolean', help: 'per-kernel GPU time of our side of each row (timestamp queries) in the JSON' },
  tune: { type: 'string', help: 'JSON tile overrides for this run (src/kernels/tuning.ts), for sweeps; nothing is written' },
  help: { type: 'boolean', help: 'show this help' },
};

/** `npm run bench:browser -- …` (bench/browser/run.ts): headless Chromium, three peers in the page. */
export const browserBenchFlags: Record<string, FlagSpec> = {
  ...common,
  adapter: {
    type: 'string',
    help: 'Chromium adapter (swiftshader default; the others need --gpu) or a power preference',
    choices: [...CHROMIUM_ADAPTERS, ...POWER_PREFERENCES],
  },
  gpu: { type: 'boolean', help: "the machine's GPU instead of SwiftShader (Chromium flags in scripts/browser.ts)" },
  peers: { type: 'string', help: 'comma-separated: tfjs, jax-js, ort (default all), or none' },
  profile: { type: 'boolean', help: 'per-kernel GPU profile of our rows (timestamp queries)', default: true },
  'timeout-min': { type: 'number', help: 'give up after this many minutes (default 120; --quick 30)', min: 1, max: 1440 },
  verbose: { type: 'boolean', help: 'print every console message of the page' },
  render: { type: 'string', help: 'only rewrite FILE.md and FILE.html from the results FILE.json (no run)' },
  help: { type: 'boolean', help: 'show this help' },
};

/** `voxelgrad bench`: the Node flags, or with --browser the browser ones. */
export const benchFlags: Record<string, FlagSpec> = {
  ...common,
  adapter: { type: 'string', help: `Node: ${ADAPTER_FLAG.choices!.join(' | ')}; --browser: ${[...CHROMIUM_ADAPTERS, ...POWER_PREFERENCES].join(' | ')}` },
  browser: { type: 'boolean', help: 'run in headless Chromium (the system one) with TensorFlow.js, jax-js and ONNX Runtime Web as peers on the same adapter' },
  gpu: {
    type: 'boolean',
    help: "the machine's GPU (Node: through Dawn, refusing a CPU driver; --browser: Chromium's hardware adapter) instead of a CPU driver",
  },
  peers: { type: 'string', help: 'Node: tfjs or none; --browser: comma-separated tfjs, jax-js, ort (default all) or none' },
  paths: nodeBenchFlags.paths!,
  'disable-features': nodeBenchFlags['disable-features']!,
  help: { type: 'boolean', help: 'show this help' },
};

const NODE_ONLY = ['paths', 'disable-features', 'tune'];
const BROWSER_ONLY = ['timeout-min', 'verbose', 'render'];

/**
 * Combinations either runner refuses (UsageError, exit 2), checked before anything starts: flags of the
 * other runner, an adapter value the runner cannot ask for, --gpu with what it overrides.
 */
export function checkBenchFlags(flags: Record<string, FlagValue>, browser: boolean): void {
  const given = (k: string) => flags[k] !== undefined && flags[k] !== false;
  const other = (browser ? NODE_ONLY : BROWSER_ONLY).filter(given);
  if (other.length)
    throw new UsageError(`bench: ${other.map((k) => `--${k}`).join(', ')} ${browser ? 'only in Node (without --browser)' : 'only with --browser'}`);
  const adapter = flags.adapter as string | undefined;
  if (adapter !== undefined) {
    const allowed: readonly string[] = browser ? [...CHROMIUM_ADAPTERS, ...POWER_PREFERENCES] : ADAPTER_FLAG.choices!;
    if (!allowed.includes(adapter))
      throw new UsageError(`--adapter must be one of ${allowed.join(', ')}${browser ? ' with --browser' : ' in Node'}, got '${adapter}'`);
    if (browser && !flags.gpu && adapter !== 'swiftshader' && !(POWER_PREFERENCES as readonly string[]).includes(adapter)) {
      throw new UsageError(`--adapter ${adapter} needs --gpu (without it the page runs on SwiftShader)`);
    }
  }
  if (!browser && flags.gpu && (flags.quick || adapter))
    throw new UsageError('--gpu runs every bench at full size on the auto-chosen adapter: leave out --quick and --adapter');
  const peers = flags.peers as string | undefined;
  if (peers !== undefined && !browser && !['tfjs', 'none'].includes(peers))
    throw new UsageError(`--peers in Node is tfjs or none (jax-js and ONNX Runtime Web run with --browser), got '${peers}'`);
}

/** A comma-separated flag as a list ('' items dropped). */
export const listFlag = (v: FlagValue): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

export async function benchCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { flags } = parseArgs(argv, benchFlags, 'bench');
  if (flags.help) {
    out(
      formatHelp(
        'bench',
        'Times the kernels and networks on the real layer shapes of the paper; writes bench/results/<adapter>.json (with --browser: browser-<adapter>.json, .md and .html).',
        benchFlags,
      ),
    );
    return 0;
  }
  const browser = Boolean(flags.browser);
  checkBenchFlags(flags, browser);
  const pass = (name: string) =>
    flags[name] !== undefined && flags[name] !== false ? (flags[name] === true ? [`--${name}`] : [`--${name}`, String(flags[name])]) : [];
  const args = ['quick', 'only', 'layers', 'out', 'adapter', 'gpu', 'peers', 'paths', 'disable-features'].flatMap(pass);
  // bench/ is compiled next to src/ in dist/ (dist/bench/run.js, dist/bench/browser/run.js).
  const runner = fileURLToPath(new URL(browser ? '../../bench/browser/run.js' : '../../bench/run.js', import.meta.url));
  if (!existsSync(runner)) throw new Error(`${runner} is missing; run 'npm run build' first`);
  if (browser && !existsSync(fileURLToPath(new URL('../../../bench/browser/index.html', import.meta.url)))) {
    throw new UsageError(
      'bench --browser builds its page from the sources (bench/browser/): run it from a voxelgrad checkout (npm run bench:browser), not an installed package',
    );
  }
  const r = spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit' });
  return r.status ?? 1;
}
