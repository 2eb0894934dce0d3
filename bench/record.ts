/**
 * One row of a benchmark: what ran, on which shape, its median time and derived rates, and ratios to
 * the device's measured ceilings or to a peer run in the same process. Every bench/*.bench.ts returns
 * these; bench/run.ts prints them and writes them as JSON with the adapter description.
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
  ratio?: Record<string, number>;
  /** The GEMM ceiling (GFLOP/s) that `ratio.gemm` divides by, when measured next to this row. */
  ceilingGflops?: number;
  /** Peak device memory of the run, MiB (how it is counted: the bench's header comment). */
  peakMiB?: number;
  /** A peer timed in the same run (its own input shape when it differs from `shape`). */
  peer?: { name: string; ms: number; spreadMs?: [number, number]; peakMiB?: number; shape?: number[] };
  /** When the row was measured, if not in its bench's run (`--layers` reruns single rows). */
  date?: string;
  /** Whether that rerun was `--quick`. */
  quick?: boolean;
  /** Free-form remarks (e.g. a peer timed on a reduced depth, and why). */
  note?: string;
  /** Host memory over many steps (bench/memory.bench.ts): growth after the warm-up, MiB. */
  memory?: { warmupSteps: number; steps: number; rssGrowthMiB: number; heapGrowthMiB: number; rssMiB: [number, number]; collections: number; buffersCreated: number };
}

/** What `bench/run.ts` writes to bench/results/<adapter-slug>.json. */
export interface BenchResults {
  adapter: { description: string; vendor: string; architecture: string; device: string; backend: string };
  date: string;
  quick: boolean;
  node: string;
  /** os.loadavg() at the start and end of the run: CPU drivers share the host's cores with everything else. */
  loadavg?: { start: number[]; end: number[] };
  /** Per bench: its wall time and its own run's date (when it finished), mode and load (with `--only`, a file mixes runs). */
  benches: Record<string, { seconds: number; date?: string; quick?: boolean; loadavg?: { start: number[]; end: number[] }; records: BenchRecord[] }>;
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
