/**
 * `npm run bench` (→ node dist/bench/run.js): runs every bench/*.bench.ts on one device, prints their
 * tables and writes bench/results/<adapter-slug>.json with the adapter description.
 *   --quick          small iteration counts and fewer shapes (a few minutes on a CPU driver)
 *   --only a,b       only these benches (file stems, e.g. conv,matmul); their results are merged
 *                    into the existing JSON
 *   --layers a,b     only the rows whose name contains one of these (benches that take it: conv); the
 *                    rows replace the same-named ones in the JSON, dated, and the others stay
 *   --adapter NAME   auto | lavapipe | swiftshader (also VOXELGRAD_ADAPTER)
 *   --tune JSON      override tile choices for this run (src/kernels/tuning.ts), for sweeps
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acquireNodeGpu } from '../src/gpu/acquire.node.js';
import type { Gpu } from '../src/gpu/gpu.js';
import { setTuning, type Tuning } from '../src/kernels/tuning.js';
import { type BenchRecord, type BenchResults, adapterSlug } from './record.js';

interface BenchModule {
  run(gpu: Gpu, opts: { quick: boolean; layers?: string[] }): Promise<BenchRecord[]>;
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
  // The compiled file lives in dist/bench; results go to the source tree's bench/results.
  const repo = existsSync(join(here, '..', '..', 'package.json')) ? join(here, '..', '..') : join(here, '..');
  const resultsDir = join(repo, 'bench', 'results');
  const stems = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.slice(0, -'.bench.js'.length))
    .sort()
    // The GEMM ceiling first: the convolution bench divides by it.
    .sort((a, b) => (a === 'matmul' ? -1 : b === 'matmul' ? 1 : 0))
    .filter((s) => !only || only.includes(s));
  if (!stems.length) throw new Error(`no bench selected (available: ${readdirSync(here).filter((f) => f.endsWith('.bench.js')).join(', ')})`);

  const gpu = await acquireNodeGpu(adapter ? { adapter } : {});
  if (tune) setTuning(gpu, JSON.parse(tune) as Partial<Tuning>);
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
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
  if ((only || layers) && existsSync(file)) {
    const old = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    // Entries from before per-bench metadata take the old file's run date, mode and load.
    const benches = Object.fromEntries(Object.entries(old.benches ?? {}).map(([k, b]) => [k, { date: old.date, quick: old.quick, ...(old.loadavg ? { loadavg: old.loadavg } : {}), ...b }]));
    results = { ...results, benches };
  }
  for (const stem of stems) {
    console.log(`\n== ${stem}`);
    const t0 = performance.now();
    const load0 = loadavg().map((x) => Math.round(x * 100) / 100);
    const mod = (await import(pathToFileURL(join(here, `${stem}.bench.js`)).href)) as BenchModule;
    const records = await mod.run(gpu, layers ? { quick, layers } : { quick });
    const prev = results.benches[stem];
    if (layers && prev) {
      // A partial run: its rows (dated) replace the same-named rows; the bench keeps its own metadata.
      const date = new Date().toISOString();
      const fresh = new Map(records.map((r) => [r.name, { ...r, date, quick }]));
      const merged = prev.records.map((r) => fresh.get(r.name) ?? r);
      for (const r of fresh.values()) if (!prev.records.some((o) => o.name === r.name)) merged.push(r);
      results.benches[stem] = { ...prev, records: merged };
    } else {
      // Each bench keeps its own run's date and mode: with --only, the file mixes runs.
      results.benches[stem] = { seconds: (performance.now() - t0) / 1000, date: new Date().toISOString(), quick, loadavg: { start: load0, end: loadavg().map((x) => Math.round(x * 100) / 100) }, records };
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
