/**
 * Every bench, in run order (the GEMM ceiling first: the convolution bench divides by it), one per op
 * stem as in shaders/, src/kernels/ and test/. One list for the Node runner (bench/run.ts) and the page
 * (bench/browser/main.ts). The memory-bound benches share the run's copy ceiling (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import * as batchnorm from './batchnorm.bench.js';
import type { BenchContext } from './context.js';
import * as conv from './conv.bench.js';
import * as depthAgg from './depth-agg.bench.js';
import * as matmul from './matmul.bench.js';
import * as maxpool from './maxpool.bench.js';
import * as network from './network.bench.js';
import * as planeAvgpool from './plane-avgpool.bench.js';
import { type BenchRecord, SPLIT_GROUPS } from './record.js';
import * as sgd from './sgd.bench.js';
import * as triplet from './triplet.bench.js';

export interface BenchModule {
  run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]>;
}

export const BENCHES: Record<string, BenchModule> = {
  matmul,
  conv,
  'depth-agg': depthAgg,
  triplet,
  sgd,
  batchnorm,
  maxpool,
  'plane-avgpool': planeAvgpool,
  network,
};

export const BENCH_NAMES = Object.keys(BENCHES);

/** The old grouped benches, still accepted by `--only` (users' scripts name them): each → the per-op benches it became. */
export const BENCH_ALIASES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(SPLIT_GROUPS).map(([group, parts]) => [group, parts.map((p) => p.stem)]),
);

/**
 * `--only` names with every old group name replaced by the benches it became (in place, without
 * repeats), and one notice line per group name used, naming the new benches.
 */
export function expandBenchAliases(only: readonly string[]): { names: string[]; notices: string[] } {
  const names: string[] = [];
  const notices: string[] = [];
  for (const s of only) {
    const parts = BENCH_ALIASES[s];
    if (parts) notices.push(`--only ${s}: the ${s} bench is now one bench per op; running ${parts.join(', ')} (name those instead)`);
    for (const n of parts ?? [s]) if (!names.includes(n)) names.push(n);
  }
  return { names, notices };
}

/** The message for `--only` names that are no bench (after expanding the old group names). */
export function unknownBenchMessage(unknown: readonly string[], known: readonly string[] = BENCH_NAMES, label = 'benches'): string {
  return `unknown bench ${unknown.join(', ')} (${label}: ${known.join(', ')}; ${Object.keys(BENCH_ALIASES).join(' and ')} still name their parts)`;
}

/** The benches `--only a,b` selects, in run order (old group names expanded); a clear error for an unknown name. */
export function selectBenches(only: readonly string[] | undefined): string[] {
  const names = only && expandBenchAliases(only).names;
  const unknown = (names ?? []).filter((s) => !BENCHES[s]);
  if (unknown.length) throw new Error(unknownBenchMessage(unknown));
  return BENCH_NAMES.filter((s) => !names || names.includes(s));
}
