/**
 * Benchmark timing: warm up, then time `reps` runs each synchronised with the GPU
 * (`gpu.sync()` waits for onSubmittedWorkDone), report median and spread. Wall time around the
 * queue is used on purpose: it is what a user waits for, and works on every adapter.
 */
import type { Gpu } from '../src/gpu/gpu.js';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
}

export function timeIt(gpu: Gpu, fn: () => void | Promise<void>, opts: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  return timeSynced(() => gpu.sync(), fn, opts);
}

/** Median (and spread) of `reps` runs after `warmup` runs, each run between two `sync()`s. */
export async function timeSynced(sync: () => Promise<unknown>, fn: () => unknown, opts: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 1;
  const reps = opts.reps ?? 3;
  for (let i = 0; i < warmup; i++) {
    await fn();
    await sync();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    await sync();
    const t0 = performance.now();
    await fn();
    await sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { medianMs: median, minMs: times[0]!, maxMs: times[times.length - 1]!, reps };
}

export const gflops = (flop: number, ms: number) => flop / (ms * 1e6);
export const gbps = (bytes: number, ms: number) => bytes / (ms * 1e6);

/** Prints an aligned table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...cells.map(line)].join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
