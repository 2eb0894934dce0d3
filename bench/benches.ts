/**
 * Every bench, in run order (the GEMM ceiling first: the convolution bench divides by it). One list
 * for the Node runner (bench/run.ts) and the page (bench/browser/main.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import type { BenchContext } from './context.js';
import * as conv from './conv.bench.js';
import * as headLoss from './head-loss.bench.js';
import * as matmul from './matmul.bench.js';
import * as network from './network.bench.js';
import * as normPool from './norm-pool.bench.js';
import type { BenchRecord } from './record.js';

export interface BenchModule {
  run(gpu: Gpu, ctx: BenchContext): Promise<BenchRecord[]>;
}

export const BENCHES: Record<string, BenchModule> = {
  matmul,
  conv,
  'head-loss': headLoss,
  'norm-pool': normPool,
  network,
};

export const BENCH_NAMES = Object.keys(BENCHES);

/** The benches `--only a,b` selects, in run order; a clear error for an unknown name. */
export function selectBenches(only: readonly string[] | undefined): string[] {
  const unknown = (only ?? []).filter((s) => !BENCHES[s]);
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (benches: ${BENCH_NAMES.join(', ')})`);
  return BENCH_NAMES.filter((s) => !only || only.includes(s));
}
