/**
 * `npm run bench` (→ node dist/bench/run.js): runs the benches of bench/benches.ts on one device in
 * Node (Dawn), prints their tables and writes bench/results/<adapter-slug>.json with the adapter
 * description. The peer is TensorFlow.js on the same adapter in the same process (bench/tfjs-peer.node.ts);
 * `npm run bench:browser` runs the same benches in headless Chromium with more peers (bench/browser/).
 *   --quick          small iteration counts and fewer shapes (a few minutes on a CPU driver)
 *   --only a,b       only these benches (matmul, conv, head-loss, norm-pool, network); their results
 *                    are merged into the existing JSON
 *   --layers a,b     only the rows whose name contains one of these (benches that take it: conv,
 *                    matmul); the rows replace the same-named ones in the JSON, dated, and the others stay
 *   --adapter NAME   auto | lavapipe | swiftshader (also VOXELGRAD_ADAPTER)
 *   --no-peers       without TensorFlow.js
 *   --profile        per-kernel GPU time of our side of each row (timestamp queries) in the JSON
 *   --tune JSON      override tile choices for this run (src/kernels/tuning.ts), for sweeps
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireNodeGpu } from '../src/gpu/acquire.node.js';
import { setTuning, type Tuning } from '../src/kernels/tuning.js';
import { BENCHES, selectBenches } from './benches.js';
import type { BenchContext } from './context.js';
import { type BenchResults, adapterSlug, mergeResults } from './record.js';
import { tfjsOpPeer } from './tfjs-peer.js';
import { tfjsNodeRuntime, tfjsUnavailable } from './tfjs-peer.node.js';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function main(argv: string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const quick = argv.includes('--quick');
  const only = arg(argv, '--only')?.split(',');
  const adapter = arg(argv, '--adapter');
  const tune = arg(argv, '--tune');
  const layers = arg(argv, '--layers')?.split(',');
  const stems = selectBenches(only);
  // The compiled file lives in dist/bench; results go to the source tree's bench/results.
  const repo = existsSync(join(here, '..', '..', 'package.json')) ? join(here, '..', '..') : join(here, '..');
  const resultsDir = join(repo, 'bench', 'results');

  const gpu = await acquireNodeGpu(adapter ? { adapter } : {});
  if (tune) setTuning(gpu, JSON.parse(tune) as Partial<Tuning>);
  const tf = argv.includes('--no-peers') ? null : await tfjsNodeRuntime();
  const loadStart = load();
  console.log(`adapter: ${gpu.adapter.description} (${gpu.adapter.backend})${quick ? ' — quick' : ''}; host load average ${loadStart.join(' ')}`);
  const file = join(resultsDir, `${adapterSlug(gpu.adapter.description)}.json`);
  let results: BenchResults = {
    adapter: { description: gpu.adapter.description, vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, device: gpu.adapter.device, backend: gpu.adapter.backend },
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
    unavailable: tf || argv.includes('--no-peers') ? {} : { tfjs: tfjsUnavailable },
    profile: argv.includes('--profile'),
    log: (s) => console.log(s),
    async emit(r) {
      const end = load();
      r.loadavg = { start: mark, end };
      mark = end;
      return r;
    },
  };
  for (const stem of stems) {
    console.log(`\n== ${stem}`);
    const t0 = performance.now();
    const load0 = load();
    mark = load0;
    const records = await BENCHES[stem]!.run(gpu, ctx);
    // Each bench keeps its own run's date and mode: with --only, the file mixes runs.
    results.benches[stem] = { seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(), quick, loadavg: { start: load0, end: load() }, records };
    await gpu.sync();
  }
  results.loadavg!.end = load();
  console.log(`\nhost load average at the end ${results.loadavg!.end.join(' ')}`);
  if ((only || layers) && existsSync(file)) results = mergeResults(JSON.parse(readFileSync(file, 'utf8')) as BenchResults, results, Boolean(layers));
  if (!tune) {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } else console.log('\n(--tune run: results not written)');
  gpu.destroy();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
