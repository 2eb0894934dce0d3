/**
 * `npm run bench` (→ node dist/bench/run.js): runs the benches of bench/benches.ts (and the Node-only
 * memory soak) on one device in Node (Dawn), prints their tables and writes
 * bench/results/<adapter-slug>.json with the adapter description. The peer is TensorFlow.js on the same
 * adapter in the same process (bench/tfjs-peer.node.ts); `npm run bench:browser` runs the same benches in
 * headless Chromium with more peers (bench/browser/). Flags (src/cli/bench.ts, `--help`):
 *   --quick          small iteration counts and fewer shapes (a few minutes on a CPU driver)
 *   --only a,b       only these benches (matmul, conv, depth-agg, triplet, sgd, batchnorm, maxpool,
 *                    plane-avgpool, network, memory; the old groups norm-pool and head-loss still name
 *                    their parts, with a notice); their results are merged into the existing JSON
 *   --layers a,b     only the rows whose name contains one of these (benches that take it: conv,
 *                    matmul); the rows replace the same-named ones in the JSON, dated, and the others stay
 *   --adapter NAME   auto | lavapipe | swiftshader (also VOXELGRAD_ADAPTER)
 *   --gpu            the machine's GPU through Dawn (refuses a CPU driver, saying what Dawn needs to see
 *                    the GPU); every bench at the paper's size, and the conv kernel families side by side
 *   --peers tfjs|none  with or without TensorFlow.js
 *   --profile        per-kernel GPU time of our side of each row (timestamp queries) in the JSON
 *   --tune JSON      override tile choices for this run (src/kernels/tuning.ts), for sweeps
 *   --paths          conv: time the subgroup and the tiled kernel families side by side per layer and op
 *   --disable-features a,b  leave these optional features off (as VOXELGRAD_DISABLE_FEATURES)
 *   --out DIR        write the results JSON there instead of bench/results (bench/gpu-check.sh's CPU smoke run)
 * Usage errors exit 2 with the message, as every voxelgrad command does (src/cli/main.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireNodeGpu } from '../src/gpu/acquire.node.js';
import { parseFeatureList } from '../src/gpu/gpu.js';
import { adapterFamily, setTuning, type Tuning } from '../src/kernels/tuning.js';
import { UsageError, formatHelp, parseArgs } from '../src/cli/args.js';
import { checkBenchFlags, listFlag, nodeBenchFlags } from '../src/cli/bench.js';
import { describeError } from '../src/cli/main.js';
import { BENCHES, type BenchModule, expandBenchAliases, selectBenches, unknownBenchMessage } from './benches.js';
import type { BenchContext } from './context.js';
import { sharedCopyCeiling } from './copy-ceiling.js';
import * as memory from './memory.bench.js';
import { type BenchResults, adapterSlug, mergeResults } from './record.js';
import { tfjsOpPeer } from './tfjs-peer.js';
import { tfjsNodeRuntime, tfjsUnavailable } from './tfjs-peer.node.js';

/** Benches only the Node runner has (the memory soak reads the process's RSS). */
const NODE_BENCHES: Record<string, BenchModule> = { memory };

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, nodeBenchFlags, 'bench');
  if (flags.help) {
    console.log(formatHelp('bench', 'npm run bench -- [options]: the benches in Node (Dawn); writes bench/results/<adapter>.json.', nodeBenchFlags));
    return 0;
  }
  checkBenchFlags(flags, false);
  const here = dirname(fileURLToPath(import.meta.url));
  const quick = Boolean(flags.quick);
  const only = listFlag(flags.only);
  const adapter = flags.adapter as string | undefined;
  const tune = flags.tune as string | undefined;
  const layers = listFlag(flags.layers);
  const paths = Boolean(flags.paths);
  const gpuMode = Boolean(flags.gpu);
  const disabled = flags['disable-features'] as string | undefined;
  const nodeOnly = Object.keys(NODE_BENCHES);
  // Old group names (norm-pool, head-loss) expand to the per-op benches they became, with a notice.
  const expanded = only && expandBenchAliases(only);
  for (const n of expanded?.notices ?? []) console.error(`bench: ${n}`);
  const names = expanded?.names;
  const unknown = (names ?? []).filter((s) => !BENCHES[s] && !NODE_BENCHES[s]);
  if (unknown.length) throw new UsageError(unknownBenchMessage(unknown, [...Object.keys(BENCHES), ...nodeOnly]));
  const stems = [...selectBenches(names?.filter((s) => BENCHES[s])), ...nodeOnly.filter((s) => !names || names.includes(s))];
  let tuning: Partial<Tuning> | undefined;
  if (tune) {
    try {
      tuning = JSON.parse(tune) as Partial<Tuning>;
    } catch (e) {
      throw new UsageError(`--tune must be a JSON object of tile choices (src/kernels/tuning.ts): ${(e as Error).message}`);
    }
  }
  // The compiled file lives in dist/bench; results go to the source tree's bench/results.
  const repo = existsSync(join(here, '..', '..', 'package.json')) ? join(here, '..', '..') : join(here, '..');
  const resultsDir = flags.out ? resolve(String(flags.out)) : join(repo, 'bench', 'results');

  const gpu = await acquireNodeGpu({
    ...(adapter ? { adapter } : {}),
    ...(disabled !== undefined ? { disableFeatures: parseFeatureList(disabled, '--disable-features') } : {}),
  });
  if (gpuMode && adapterFamily(gpu) !== 'gpu') {
    gpu.destroy();
    console.error(
      `--gpu: Dawn chose ${gpu.adapter.description} (${gpu.adapter.backend}), a CPU driver, not a GPU.\n` +
        "On Linux, Dawn sees a GPU through its vendor's Vulkan driver: the Vulkan loader (libvulkan1) and an ICD file in\n" +
        '/usr/share/vulkan/icd.d/ (NVIDIA: nvidia_icd.json, from the proprietary driver; AMD/Intel: radeon_icd / intel_icd from\n' +
        'mesa-vulkan-drivers). Check with `vulkaninfo --summary` (package vulkan-tools), or point VOXELGRAD_VK_ICD at the ICD json.',
    );
    return 3;
  }
  if (tuning) setTuning(gpu, tuning);
  const tf = flags.peers === 'none' ? null : await tfjsNodeRuntime();
  const loadStart = load();
  console.log(
    `adapter: ${gpu.adapter.description} (${gpu.adapter.backend})${quick ? ' — quick' : ''}; features ${[...gpu.features].filter((f) => ['subgroups', 'shader-f16', 'timestamp-query'].includes(f)).join(', ') || 'none'}` +
      `${gpu.adapter.disabledFeatures.length ? ` (left off: ${gpu.adapter.disabledFeatures.join(', ')})` : ''}; host load average ${loadStart.join(' ')}`,
  );
  // A run with features left off is another configuration of the adapter: its own file.
  const masked = gpu.adapter.disabledFeatures.length ? `-without-${gpu.adapter.disabledFeatures.join('-')}` : '';
  const file = join(resultsDir, `${adapterSlug(gpu.adapter.description)}${masked}.json`);
  let results: BenchResults = {
    adapter: {
      description: gpu.adapter.description,
      vendor: gpu.adapter.vendor,
      architecture: gpu.adapter.architecture,
      device: gpu.adapter.device,
      backend: gpu.adapter.backend,
    },
    date: new Date().toISOString(),
    quick,
    node: process.version,
    loadavg: { start: loadStart, end: [] },
    benches: {},
  };
  let mark = loadStart;
  const ctx: BenchContext = {
    quick,
    ...(layers ? { layers } : {}),
    peers: tf ? [tfjsOpPeer(tf)] : [],
    tfjs: tf,
    netPeers: [],
    unavailable: tf || flags.peers === 'none' ? {} : { tfjs: tfjsUnavailable },
    profile: Boolean(flags.profile),
    log: (s) => console.log(s),
    async emit(r) {
      const end = load();
      // A shared row (the copy ceiling) keeps the load average of its measurement.
      r.loadavg ??= { start: mark, end };
      mark = end;
      return r;
    },
    copyCeiling: sharedCopyCeiling(() => ctx),
  };
  // --gpu: the conv bench a second time with both kernel families side by side; --paths: only that.
  const runs = stems.flatMap((stem) =>
    stem !== 'conv'
      ? [{ stem, paths: false }]
      : gpuMode
        ? [
            { stem, paths: false },
            { stem, paths: true },
          ]
        : [{ stem, paths }],
  );
  for (const { stem, paths: bothFamilies } of runs) {
    const key = bothFamilies ? `${stem}-paths` : stem;
    console.log(`\n== ${key}`);
    const t0 = performance.now();
    const load0 = load();
    mark = load0;
    const records = await (BENCHES[stem] ?? NODE_BENCHES[stem])!.run(gpu, { ...ctx, paths: bothFamilies });
    // Each bench keeps its own run's date and mode: with --only, the file mixes runs.
    results.benches[key] = { seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(), quick, loadavg: { start: load0, end: load() }, records };
    await gpu.sync();
  }
  results.loadavg!.end = load();
  console.log(`\nhost load average at the end ${results.loadavg!.end.join(' ')}`);
  if ((only || layers || paths) && existsSync(file)) results = mergeResults(JSON.parse(readFileSync(file, 'utf8')) as BenchResults, results, Boolean(layers));
  if (!tune) {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } else console.log('\n(--tune run: results not written)');
  gpu.destroy();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const { code, message } = describeError(e);
    console.error(`bench: ${message}`);
    if (process.env.VOXELGRAD_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
    process.exit(code);
  },
);
