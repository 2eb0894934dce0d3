/**
 * `npm run bench` (→ node dist/bench/run.js): runs every bench/*.bench.ts on one device, prints their
 * tables and writes bench/results/<adapter-slug>.json with the adapter description.
 *   --quick          small iteration counts and fewer shapes (a few minutes on a CPU driver)
 *   --only a,b       only these benches (file stems, e.g. conv,matmul); their results are merged
 *                    into the existing JSON
 *   --layers a,b     only the rows whose name contains one of these (benches that take it: conv); the
 *                    rows replace the same-named ones in the JSON, dated, and the others stay
 *   --adapter NAME   auto | lavapipe | swiftshader (also VOXELGRAD_ADAPTER)
 *   --gpu            the machine's GPU through Dawn (refuses a CPU driver, saying what Dawn needs to see
 *                    the GPU); every bench at the paper's size, and the conv kernel families side by side
 *   --tune JSON      override tile choices for this run (src/kernels/tuning.ts), for sweeps
 *   --paths          conv: time the subgroup and the tiled kernel families side by side per layer and op
 *   --disable-features a,b  leave these optional features off (as VOXELGRAD_DISABLE_FEATURES)
 *   --out DIR        write the results JSON there instead of bench/results (bench/gpu-check.sh's CPU smoke run)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acquireNodeGpu } from '../src/gpu/acquire.node.js';
import type { Gpu } from '../src/gpu/gpu.js';
import { adapterFamily, setTuning, type Tuning } from '../src/kernels/tuning.js';
import { parseFeatureList } from '../src/gpu/gpu.js';
import { type BenchRecord, type BenchResults, adapterSlug } from './record.js';

interface BenchModule {
  run(gpu: Gpu, opts: { quick: boolean; layers?: string[]; paths?: boolean }): Promise<BenchRecord[]>;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const quick = argv.includes('--quick');
  const only = arg(argv, '--only')?.split(',');
  const adapter = arg(argv, '--adapter');
  const tune = arg(argv, '--tune');
  const layers = arg(argv, '--layers')?.split(',');
  const paths = argv.includes('--paths');
  const gpuMode = argv.includes('--gpu');
  const disabled = arg(argv, '--disable-features');
  if (gpuMode && (quick || adapter)) throw new Error('--gpu runs every bench at full size on the auto-chosen adapter: leave out --quick and --adapter');
  // The compiled file lives in dist/bench; results go to the source tree's bench/results.
  const repo = existsSync(join(here, '..', '..', 'package.json')) ? join(here, '..', '..') : join(here, '..');
  const resultsDir = arg(argv, '--out') ?? join(repo, 'bench', 'results');
  const stems = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.slice(0, -'.bench.js'.length))
    .sort()
    // The GEMM ceiling first: the convolution bench divides by it.
    .sort((a, b) => (a === 'matmul' ? -1 : b === 'matmul' ? 1 : 0))
    .filter((s) => !only || only.includes(s));
  if (!stems.length) throw new Error(`no bench selected (available: ${readdirSync(here).filter((f) => f.endsWith('.bench.js')).join(', ')})`);

  const gpu = await acquireNodeGpu({ ...(adapter ? { adapter } : {}), ...(disabled !== undefined ? { disableFeatures: parseFeatureList(disabled, '--disable-features') } : {}) });
  if (gpuMode && adapterFamily(gpu) !== 'gpu') {
    gpu.destroy();
    console.error(
      `--gpu: Dawn chose ${gpu.adapter.description} (${gpu.adapter.backend}), a CPU driver, not a GPU.\n` +
        'On Linux, Dawn sees a GPU through its vendor\'s Vulkan driver: the Vulkan loader (libvulkan1) and an ICD file in\n' +
        '/usr/share/vulkan/icd.d/ (NVIDIA: nvidia_icd.json, from the proprietary driver; AMD/Intel: radeon_icd / intel_icd from\n' +
        'mesa-vulkan-drivers). Check with `vulkaninfo --summary` (package vulkan-tools), or point VOXELGRAD_VK_ICD at the ICD json.',
    );
    process.exit(3);
  }
  if (tune) setTuning(gpu, JSON.parse(tune) as Partial<Tuning>);
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(
    `adapter: ${gpu.adapter.description} (${gpu.adapter.backend})${quick ? ' — quick' : ''}; features ${[...gpu.features].filter((f) => ['subgroups', 'shader-f16', 'timestamp-query'].includes(f)).join(', ') || 'none'}` +
      `${gpu.adapter.disabledFeatures.length ? ` (left off: ${gpu.adapter.disabledFeatures.join(', ')})` : ''}; host load average ${loadStart.join(' ')}`,
  );
  // A run with features left off is another configuration of the adapter: its own file.
  const masked = gpu.adapter.disabledFeatures.length ? `-without-${gpu.adapter.disabledFeatures.join('-')}` : '';
  const file = join(resultsDir, `${adapterSlug(gpu.adapter.description)}${masked}.json`);
  let results: BenchResults = {
    adapter: { description: gpu.adapter.description, vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, device: gpu.adapter.device, backend: gpu.adapter.backend },
    date: new Date().toISOString(),
    quick,
    node: process.version,
    loadavg: { start: loadStart, end: [] },
    benches: {},
  };
  if ((only || layers || paths) && existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    // Entries from before per-bench metadata take the old file's run date, mode and load.
    const benches = Object.fromEntries(Object.entries(old.benches ?? {}).map(([k, b]) => [k, { date: old.date, quick: old.quick, ...(old.loadavg ? { loadavg: old.loadavg } : {}), ...b }]));
    results = { ...results, benches };
  }
  // --gpu: the conv bench a second time with both kernel families side by side; --paths: only that.
  const runs = stems.flatMap((stem) => (stem !== 'conv' ? [{ stem, paths: false }] : gpuMode ? [{ stem, paths: false }, { stem, paths: true }] : [{ stem, paths }]));
  for (const { stem, paths: bothFamilies } of runs) {
    const key = bothFamilies ? `${stem}-paths` : stem;
    console.log(`\n== ${key}`);
    const t0 = performance.now();
    const load0 = loadavg().map((x) => Math.round(x * 100) / 100);
    const mod = (await import(pathToFileURL(join(here, `${stem}.bench.js`)).href)) as BenchModule;
    const records = await mod.run(gpu, { quick, ...(layers ? { layers } : {}), ...(bothFamilies ? { paths: true } : {}) });
    const prev = results.benches[key];
    if (layers && prev) {
      // A partial run: its rows (dated) replace the same-named rows; the bench keeps its own metadata.
      const date = new Date().toISOString();
      const fresh = new Map(records.map((r) => [r.name, { ...r, date, quick }]));
      const merged = prev.records.map((r) => fresh.get(r.name) ?? r);
      for (const r of fresh.values()) if (!prev.records.some((o) => o.name === r.name)) merged.push(r);
      results.benches[key] = { ...prev, records: merged };
    } else {
      // Each bench keeps its own run's date and mode: with --only, the file mixes runs.
      results.benches[key] = { seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(), quick, loadavg: { start: load0, end: loadavg().map((x) => Math.round(x * 100) / 100) }, records };
    }
    await gpu.sync();
  }
  results.loadavg!.end = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(`\nhost load average at the end ${results.loadavg!.end.join(' ')}`);
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
