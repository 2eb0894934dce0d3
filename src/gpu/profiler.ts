/**
 * Per-kernel GPU time.
 *
 * With `timestamp-query` each profiled dispatch runs in its own compute pass whose begin/end timestamps
 * land in a query set; `report()` resolves them in one readback. Without it, each dispatch is submitted
 * alone and timed by wall clock around `onSubmittedWorkDone()` (slower, but still per kernel).
 */
import { BufferUsage, MapMode } from './flags.js';

export interface KernelTiming {
  kernel: string;
  calls: number;
  totalMs: number;
  meanMs: number;
}

export interface ProfileReport {
  source: 'timestamp-query' | 'wall-clock';
  kernels: KernelTiming[];
  totalMs: number;
}

const CAPACITY = 2048; // dispatches per query set before an automatic resolve

export class Profiler {
  enabled = false;
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GPUBuffer | null = null;
  private pendingLabels: string[] = [];
  private totals = new Map<string, { calls: number; ns: number }>();

  constructor(
    private readonly device: GPUDevice,
    readonly hasTimestamps: boolean,
  ) {}

  get source(): ProfileReport['source'] {
    return this.hasTimestamps ? 'timestamp-query' : 'wall-clock';
  }

  /** Timestamp writes for the next dispatch's pass, or undefined when not available / not enabled. */
  passTimestamps(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.enabled || !this.hasTimestamps) return undefined;
    if (!this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: CAPACITY * 2, label: 'voxelgrad-profiler' });
      this.resolveBuf = this.device.createBuffer({
        size: CAPACITY * 16,
        usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
      });
    }
    if (this.pendingLabels.length >= CAPACITY) return undefined; // caller must collect() first
    const i = this.pendingLabels.length;
    this.pendingLabels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  get full(): boolean {
    return this.pendingLabels.length >= CAPACITY;
  }

  /** Records a wall-clock measurement (fallback path). */
  addWall(label: string, ms: number): void {
    this.add(label, ms * 1e6);
  }

  /**
   * Appends the resolve of all pending timestamps to `encoder` and returns a handle for `collect`
   * (call it after submitting the encoder), or null when nothing is pending.
   */
  encodeResolve(encoder: GPUCommandEncoder): { labels: string[]; buf: GPUBuffer } | null {
    const n = this.pendingLabels.length;
    if (n === 0 || !this.querySet) return null;
    // A fresh readback buffer per resolve: the previous one may still be waiting to be mapped.
    const buf = this.device.createBuffer({ size: 16 * n, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'profiler-readback' });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf!, 0);
    encoder.copyBufferToBuffer(this.resolveBuf!, 0, buf, 0, 16 * n);
    return { labels: this.pendingLabels.splice(0), buf };
  }

  /** Reads back resolved timestamps and adds them to the per-kernel totals. */
  async collect(h: { labels: string[]; buf: GPUBuffer }): Promise<void> {
    const n = h.labels.length;
    await h.buf.mapAsync(MapMode.READ);
    const ts = new BigUint64Array(h.buf.getMappedRange().slice(0));
    h.buf.unmap();
    h.buf.destroy();
    for (let i = 0; i < n; i++) {
      const dt = Number(ts[2 * i + 1]! - ts[2 * i]!);
      // Some drivers report 0 or wrapped values for tiny passes; clamp so a table never shows negatives.
      this.add(h.labels[i]!, dt > 0 ? dt : 0);
    }
  }

  private add(label: string, ns: number): void {
    const t = this.totals.get(label) ?? { calls: 0, ns: 0 };
    t.calls++;
    t.ns += ns;
    this.totals.set(label, t);
  }

  reset(): void {
    this.totals.clear();
  }

  table(): ProfileReport {
    const kernels = [...this.totals.entries()]
      .map(([kernel, t]) => ({ kernel, calls: t.calls, totalMs: t.ns / 1e6, meanMs: t.ns / 1e6 / t.calls }))
      .sort((a, b) => b.totalMs - a.totalMs);
    return { source: this.source, kernels, totalMs: kernels.reduce((s, k) => s + k.totalMs, 0) };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
  }
}

/** Renders a profile as an aligned text table. */
export function formatProfile(r: ProfileReport): string {
  const rows = r.kernels.map((k) => [k.kernel, String(k.calls), k.totalMs.toFixed(3), k.meanMs.toFixed(4)]);
  const head = ['kernel', 'calls', 'total ms', 'mean ms'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [`GPU time by kernel (${r.source})`, line(head), ...rows.map(line), `total ${r.totalMs.toFixed(3)} ms`].join('\n');
}
