/**
 * One row of a benchmark: what ran, on which shape, its median time and derived rates, and ratios to
 * the device's measured ceilings or to peers run in the same process (Node) or the same page (browser).
 * Every bench/*.bench.ts returns these; bench/run.ts (Node) and bench/browser/run.ts (headless Chromium)
 * print them and write them as JSON with the adapter description — one schema for both.
 */
export interface BenchRecord {
  name: string;
  /** How the operation was computed when there is a choice (e.g. a convolution's direct or Winograd path). */
  algorithm?: string;
  shape: number[];
  /** Median over the timed runs. */
  ms: number;
  /** Fastest and slowest timed run (CPU drivers share the host: the spread shows how busy it was). */
  spreadMs?: [number, number];
  gflops?: number;
  gbps?: number;
  /**
   * Ratios: `gemm` / `copy` to the device's ceiling; per peer name, the peer's time ÷ ours (how many
   * times faster voxelgrad is) — only for peers whose result matched ours (see `peers`).
   */
  ratio?: Record<string, number>;
  /** The GEMM ceiling (GFLOP/s) that `ratio.gemm` divides by, when measured next to this row. */
  ceilingGflops?: number;
  /** Peak device memory of the run, MiB (how it is counted: the bench's header comment). */
  peakMiB?: number;
  /** The whole-network peer (tfjs layers twin) timed in the same run (its own input shape when it differs). */
  peer?: { name: string; ms: number; spreadMs?: [number, number]; peakMiB?: number; shape?: number[] };
  /** Every peer run on this row: its time, its check against ours, or why it did not run. */
  peers?: PeerResult[];
  /** GPU time per kernel of one of our runs (timestamp queries, else wall time per dispatch), largest first. */
  kernels?: KernelProfile;
  /** The host's load averages (1, 5, 15 min) when the row started and ended. */
  loadavg?: { start: number[]; end: number[] };
  /** When the row was measured, if not in its bench's run (`--layers` reruns single rows). */
  date?: string;
  /** Whether that rerun was `--quick`. */
  quick?: boolean;
  /** Free-form remarks (e.g. a peer timed on a reduced depth, and why). */
  note?: string;
  /** Host memory over many steps (bench/memory.bench.ts): growth after the warm-up, MiB. */
  memory?: {
    warmupSteps: number;
    steps: number;
    rssGrowthMiB: number;
    heapGrowthMiB: number;
    rssMiB: [number, number];
    collections: number;
    buffersCreated: number;
  };
}

/** A peer engine on one row. */
export interface PeerResult {
  /** tfjs, tfjs-layers, jax-js, ort. */
  name: string;
  /** Median of its timed runs (absent when it could not run). */
  ms?: number;
  spreadMs?: [number, number];
  /** The shape it ran on when it differs from the row's (a thinner volume for a slow peer). */
  shape?: number[];
  /** Peer time ÷ ours on the same work (by GFLOP/s when it ran on a thinner volume); set only when `check.ok`. */
  speedup?: number;
  peakMiB?: number;
  /**
   * Its outputs against ours on the same inputs: relative error ‖peer − ours‖/‖ours‖ per output (y, dx,
   * dw, loss, …). A failed check means its time is NOT comparable (it computed something else).
   */
  check?: { ok: boolean; tolerance: number; errors: Record<string, number>; detail?: string };
  /** Why it did not run or was not timed. */
  unavailable?: string;
  note?: string;
}

export interface KernelProfile {
  source: 'timestamp-query' | 'wall-clock';
  totalMs: number;
  /** The largest kernels (the rest summed into the last entry when cut). */
  kernels: { kernel: string; calls: number; totalMs: number }[];
}

/** What a run writes to bench/results/<adapter-slug>.json (Node) or browser-<adapter-slug>.json (browser). */
export interface BenchResults {
  adapter: { description: string; vendor: string; architecture: string; device: string; backend: string };
  date: string;
  quick: boolean;
  node: string;
  /** os.loadavg() at the start and end of the run: CPU drivers share the host's cores with everything else. */
  loadavg?: { start: number[]; end: number[] };
  /** The browser run's Chromium, its flags and the peers' versions. */
  browser?: {
    userAgent: string;
    flags: string[];
    engines: Record<string, string>;
    timestampQuery: boolean;
    /** Wall time of the whole run. */
    seconds?: number;
    /** CPU time the run used (Chromium's processes and the runner; Linux): wall time on an idle machine is about this ÷ the cores it keeps busy. */
    cpuSeconds?: number;
  };
  /** Per bench: its wall time and its own run's date (when it finished), mode and load (with `--only`, a file mixes runs). */
  benches: Record<string, BenchEntry>;
}

/** One bench's part of a results file. */
export interface BenchEntry {
  /** Wall time of the bench; absent on an entry split out of an old grouped bench (its time was not split). */
  seconds?: number;
  date?: string;
  quick?: boolean;
  loadavg?: { start: number[]; end: number[] };
  /** The grouped bench (`norm-pool`, `head-loss`) whose run these rows come from, when split out of an older file. */
  migratedFrom?: string;
  records: BenchRecord[];
}

/**
 * The grouped benches of older results files and where their rows went when every op got its own bench
 * (one stem per op, as in shaders/, src/kernels/ and test/): by row-name prefix. Each part also takes the
 * group's `copy (ceiling)` row, the bandwidth its ratios were divided by.
 */
export const SPLIT_GROUPS: Readonly<Record<string, readonly { stem: string; prefix: string }[]>> = {
  'norm-pool': [
    { stem: 'batchnorm', prefix: 'batchnorm' },
    { stem: 'maxpool', prefix: 'maxpool' },
    { stem: 'plane-avgpool', prefix: 'plane-avgpool' },
  ],
  'head-loss': [
    { stem: 'depth-agg', prefix: 'bilinear' },
    { stem: 'triplet', prefix: 'triplet' },
    { stem: 'sgd', prefix: 'sgd' },
  ],
};

/** The name of the copy-bandwidth row that the memory-bound benches divide by. */
export const COPY_CEILING_ROW = 'copy (ceiling)';

/**
 * A results file's benches with every old grouped entry split into one entry per op (same place in the
 * order), each marked `migratedFrom`, with the group's date, mode and load and no `seconds`. Rows that
 * match no part (none did when the groups were split) stay under the old name rather than being dropped.
 */
export function splitGroupedBenches(benches: Readonly<Record<string, BenchEntry>>): Record<string, BenchEntry> {
  const out: Record<string, BenchEntry> = {};
  for (const [stem, entry] of Object.entries(benches)) {
    const parts = SPLIT_GROUPS[stem];
    if (!parts) {
      out[stem] = entry;
      continue;
    }
    const { seconds: _whole, records, ...meta } = entry;
    const copyRows = records.filter((r) => r.name === COPY_CEILING_ROW);
    const claimed = new Set<BenchRecord>(copyRows);
    for (const { stem: part, prefix } of parts) {
      const rows = records.filter((r) => r.name.startsWith(prefix));
      if (!rows.length) continue;
      for (const r of rows) claimed.add(r);
      out[part] = { ...meta, migratedFrom: stem, records: [...copyRows, ...rows] };
    }
    const left = records.filter((r) => !claimed.has(r));
    if (left.length) out[stem] = { ...entry, records: [...copyRows, ...left] };
  }
  return out;
}

/** File-name slug of an adapter description ("SwiftShader driver 5.0.0" → "swiftshader-driver-5-0-0"). */
export function adapterSlug(description: string): string {
  return (
    description
      .toLowerCase()
      .replace(/\(.*?\)/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'unknown-adapter'
  );
}

/** Merges a run into an existing results file (`--only` / `--layers` runs). */
export function mergeResults(old: BenchResults, fresh: BenchResults, partialRows: boolean): BenchResults {
  // Entries from before per-bench metadata take the old file's run date, mode and load.
  // Old files' grouped benches (norm-pool, head-loss) become the per-op entries a run writes now.
  const benches: BenchResults['benches'] = splitGroupedBenches(
    Object.fromEntries(
      Object.entries(old.benches ?? {}).map(([k, b]) => [k, { date: old.date, quick: old.quick, ...(old.loadavg ? { loadavg: old.loadavg } : {}), ...b }]),
    ),
  );
  for (const [stem, b] of Object.entries(fresh.benches)) {
    const prev = benches[stem];
    if (partialRows && prev) {
      // A partial run: its rows (dated) replace the same-named rows; the bench keeps its own metadata.
      const fr = new Map(b.records.map((r) => [r.name, { ...r, date: b.date, quick: b.quick }]));
      const merged = prev.records.map((r) => fr.get(r.name) ?? r);
      for (const r of fr.values()) if (!prev.records.some((o) => o.name === r.name)) merged.push(r);
      benches[stem] = { ...prev, records: merged };
    } else benches[stem] = b;
  }
  return { ...fresh, benches };
}
