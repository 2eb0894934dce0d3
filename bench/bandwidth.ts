/**
 * What the memory-bound benches (batchnorm, maxpool, plane-avgpool, depth-agg, triplet, sgd) share:
 * their timing counts, rows in GB/s — the bytes the op must move at least — with the ratio to the run's
 * copy bandwidth (bench/copy-ceiling.ts, measured once per run and size) and to each peer, and the
 * printed table. Each bench's records open with the `copy (ceiling)` row its ratios divide by.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import type { BenchContext } from './context.js';
import type { CopyCeiling } from './copy-ceiling.js';
import { type Timing, gbps, gflops, table } from './harness.js';
import { peerCells } from './matmul.bench.js';
import { peerRatios } from './peer.js';
import type { BenchRecord, PeerResult } from './record.js';
import { FRMC5_ACTIVATIONS } from './shapes.js';

/**
 * The two tensor sizes the copy ceiling is measured on (each once per run): the stem's activation
 * [1, 32, 24, 128, 128] for batch norm and pooling, and 8 Mi floats (32 MiB) for the head, the loss and
 * the optimizer — the sizes their grouped benches used, so the ratios stay comparable with older results.
 */
export const ACTIVATION_CEILING: readonly number[] = FRMC5_ACTIVATIONS[0]!.shape;
export const HEAD_CEILING: readonly number[] = [8 * 1024 * 1024];

/** Our timed runs (median of 7 after a warm-up; 2 with --quick) and the peers' (the checked run compiles their pipelines; --quick takes it as the warm-up). */
export function benchTiming(ctx: BenchContext): { ours: { warmup: number; reps: number }; peers: { warmup: number; reps: number } } {
  return { ours: { warmup: 1, reps: ctx.quick ? 2 : 7 }, peers: ctx.quick ? { warmup: 0, reps: 2 } : { warmup: 1, reps: 3 } };
}

export interface BandwidthBench {
  ceiling: CopyCeiling;
  records: BenchRecord[];
  /**
   * Emits a row: `t` is a timing (median and spread) or a time in ms (a sum of medians); `bytes` what the
   * op moves at least; `flop` when there is arithmetic worth counting.
   */
  add(name: string, shape: number[], t: Timing | number, bytes: number, extra?: { flop?: number; peers?: PeerResult[] }): Promise<void>;
  /** Logs the bench's table (with a GFLOP/s column if any row counts FLOPs) and returns its records. */
  finish(stem: string): BenchRecord[];
}

/** Starts a memory-bound bench: the run's copy ceiling for a tensor of `ceilingShape` opens its records. */
export async function bandwidthBench(gpu: Gpu, ctx: BenchContext, ceilingShape: readonly number[]): Promise<BandwidthBench> {
  const ceiling = await ctx.copyCeiling(gpu, ceilingShape);
  const records: BenchRecord[] = [ceiling.record];
  return {
    ceiling,
    records,
    async add(name, shape, t, bytes, extra = {}) {
      const ms = typeof t === 'number' ? t : t.medianMs;
      const g = gbps(bytes, ms);
      const peers = extra.peers ?? [];
      records.push(
        await ctx.emit({
          name,
          shape,
          ms,
          ...(typeof t === 'number' ? {} : { spreadMs: [t.minMs, t.maxMs] as [number, number] }),
          ...(extra.flop ? { gflops: gflops(extra.flop, ms) } : {}),
          gbps: g,
          ratio: { copy: g / ceiling.gbps, ...peerRatios(peers) },
          ...(peers.length ? { peers } : {}),
        }),
      );
    },
    finish(stem) {
      const flops = records.some((r) => r.gflops !== undefined);
      ctx.log(
        `${stem} on ${gpu.adapter.description} (copy ${ceiling.gbps.toFixed(2)} GB/s${ceiling.record.date ? `, measured at ${ceiling.record.date.slice(11, 19)} UTC` : ''})`,
      );
      ctx.log(
        table(
          ['op', 'shape', 'ms', ...(flops ? ['GFLOP/s'] : []), 'GB/s', '× copy', ...ctx.peers.map((p) => `vs ${p.name}`)],
          records.map((r) => [
            r.name,
            r.shape.join('×'),
            r.ms,
            ...(flops ? [r.gflops ?? 0] : []),
            r.gbps ?? 0,
            r.ratio?.copy ?? 0,
            ...peerCells(ctx, r.peers ?? []),
          ]),
        ),
      );
      return records;
    },
  };
}
