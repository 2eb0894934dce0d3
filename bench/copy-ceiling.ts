/**
 * The device's copy bandwidth: the ceiling the memory-bound benches (batchnorm, maxpool, plane-avgpool,
 * depth-agg, triplet, sgd) divide their GB/s by — `copy` from elementwise.ts, one read and one write of
 * a float32 tensor of the size the bench moves. Measured once per run and tensor size and shared through
 * the bench context, so one bench per op costs no more time than the grouped benches did. Every bench
 * still carries the `copy (ceiling)` row its ratios divide by: the first bench to ask measures and emits
 * it; the others emit the same measurement with its time (`date`), its load average and a note.
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { numel } from '../src/gpu/tensor.js';
import { copy } from '../src/kernels/elementwise.js';
import { Rng } from '../src/util/rng.js';
import { gbps, timeIt } from './harness.js';
import { type BenchRecord, COPY_CEILING_ROW } from './record.js';

export interface CopyCeiling {
  /** Copy bandwidth, GB/s (2 × the tensor's bytes ÷ the median time). */
  gbps: number;
  ms: number;
  /** The `copy (ceiling)` row as emitted into the asking bench (already handed to `emit`). */
  record: BenchRecord;
}

/** What the memo needs of the bench context, read at each call (the runner's mode and row sink). */
export interface CeilingHost {
  quick: boolean;
  emit(r: BenchRecord): Promise<BenchRecord>;
}

/** Median time of copying a float32 tensor of `shape` (read + write), as a record. */
export async function measureCopy(gpu: Gpu, shape: readonly number[], quick: boolean): Promise<BenchRecord> {
  const n = numel(shape);
  const src = gpu.tensor(new Rng(5).normalArray(n), [...shape]);
  const dst = gpu.empty([...shape], 'f32');
  try {
    const t = await timeIt(gpu, () => void copy(src, dst), { warmup: 1, reps: quick ? 2 : 7 });
    return { name: COPY_CEILING_ROW, shape: [...shape], ms: t.medianMs, spreadMs: [t.minMs, t.maxMs], gbps: gbps(2 * n * 4, t.medianMs), ratio: { copy: 1 } };
  } finally {
    src.release();
    dst.release();
  }
}

/**
 * A memoised `BenchContext.copyCeiling` for one run: per device and tensor size (element count) the copy
 * is timed once, by the first bench that asks; later benches get the same figure and a copy of its row,
 * dated when it was measured, with that measurement's load average (the runners' `emit` keeps a load
 * average a row already has).
 */
export function sharedCopyCeiling(host: () => CeilingHost): (gpu: Gpu, shape: readonly number[]) => Promise<CopyCeiling> {
  const measured = new WeakMap<Gpu, Map<number, Promise<{ row: BenchRecord; at: string }>>>();
  return async (gpu, shape) => {
    const h = host();
    let bySize = measured.get(gpu);
    if (!bySize) measured.set(gpu, (bySize = new Map()));
    const n = numel(shape);
    const known = bySize.get(n);
    if (!known) {
      const p = measureCopy(gpu, shape, h.quick).then(async (r) => ({ at: new Date().toISOString(), row: await h.emit(r) }));
      bySize.set(n, p);
      const { row } = await p;
      return { gbps: row.gbps!, ms: row.ms, record: row };
    }
    const { row, at } = await known;
    const shared: BenchRecord = {
      ...structuredClone(row),
      date: at,
      note: `the run's copy ceiling for ${n.toLocaleString('en-US')} floats, measured once at ${at.slice(11, 19)} UTC by an earlier bench of this run and shared`,
    };
    return { gbps: shared.gbps!, ms: shared.ms, record: await h.emit(shared) };
  };
}
