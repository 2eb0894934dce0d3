/**
 * Device buffer pool with size classes and byte accounting.
 *
 * Training allocates the same shapes every step, so released buffers go back to a free list keyed by
 * size class and the next request of that class reuses them instead of asking the driver again.
 * Classes: powers of two from 256 B up to 16 MiB (≤ 2× waste where buffers are many and small), then
 * multiples of 4 MiB (≤ 25 % waste on the big activations, which dominate memory).
 */
import { BufferUsage } from './flags.js';

export const POOL_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

const MIN_CLASS = 256;
const POW2_MAX = 16 * 1024 * 1024;
const BIG_STEP = 4 * 1024 * 1024;

export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  if (bytes <= POW2_MAX) return 2 ** Math.ceil(Math.log2(bytes));
  return Math.ceil(bytes / BIG_STEP) * BIG_STEP;
}

export interface MemoryStats {
  /** Bytes held by live tensors (their size class). */
  liveBytes: number;
  peakLiveBytes: number;
  liveBuffers: number;
  /** Bytes kept in the free lists for reuse. */
  pooledBytes: number;
  /** Everything allocated from the driver and not yet destroyed (live + pooled). */
  allocatedBytes: number;
  peakAllocatedBytes: number;
  /** Driver allocations and pool hits since creation (a hit rate near 1 means steady state). */
  allocations: number;
  reuses: number;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private stats: MemoryStats = {
    liveBytes: 0,
    peakLiveBytes: 0,
    liveBuffers: 0,
    pooledBytes: 0,
    allocatedBytes: 0,
    peakAllocatedBytes: 0,
    allocations: 0,
    reuses: 0,
  };
  /** Upper bound on bytes kept idle in the free lists; beyond it released buffers are destroyed. */
  maxPooledBytes = 2 * 1024 * 1024 * 1024;
  /**
   * Released buffers over the cap, destroyed at the next `afterSubmit`: work encoded but not yet
   * submitted may still use them, and WebGPU refuses to submit work that uses a destroyed buffer.
   */
  private doomed: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize = Number.MAX_SAFE_INTEGER,
    /** Submits any encoded work (the device's flush), so that `trim` may destroy what it used. */
    private readonly submitPending: () => void = () => {},
  ) {}

  acquire(bytes: number, label: string): GPUBuffer {
    // A class above the device's buffer limit falls back to the exact (4-byte aligned) size.
    const cls = Math.min(sizeClass(bytes), Math.max(Math.ceil(bytes / 4) * 4, this.maxBufferSize));
    const list = this.free.get(cls);
    let buf = list?.pop();
    if (buf) {
      this.stats.pooledBytes -= cls;
      this.stats.reuses++;
    } else {
      buf = this.device.createBuffer({ size: cls, usage: POOL_USAGE, label });
      this.stats.allocatedBytes += cls;
      this.stats.allocations++;
      this.stats.peakAllocatedBytes = Math.max(this.stats.peakAllocatedBytes, this.stats.allocatedBytes);
    }
    this.stats.liveBytes += cls;
    this.stats.liveBuffers++;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    return buf;
  }

  release(buf: GPUBuffer): void {
    const cls = buf.size;
    this.stats.liveBytes -= cls;
    this.stats.liveBuffers--;
    if (this.stats.pooledBytes + cls > this.maxPooledBytes) {
      this.doomed.push(buf);
      this.stats.allocatedBytes -= cls;
      return;
    }
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(buf);
    this.stats.pooledBytes += cls;
  }

  /** Called by the device once everything encoded so far is submitted: destroys the buffers released over the cap. */
  afterSubmit(): void {
    for (const b of this.doomed.splice(0)) b.destroy();
  }

  /** Destroys every idle buffer (e.g. between benchmark shapes, or when a page is backgrounded), after submitting pending work. */
  trim(): void {
    this.submitPending();
    this.afterSubmit();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.stats.allocatedBytes -= this.stats.pooledBytes;
    this.stats.pooledBytes = 0;
    this.free.clear();
  }

  resetPeak(): void {
    this.stats.peakLiveBytes = this.stats.liveBytes;
    this.stats.peakAllocatedBytes = this.stats.allocatedBytes;
  }

  memory(): MemoryStats {
    return { ...this.stats };
  }
}
