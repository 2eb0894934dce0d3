/**
 * What a bench gets from its runner, the same in Node (bench/run.ts) and in the page
 * (bench/browser/main.ts): the mode, the row filter, the peers that started (and why others did not),
 * a log line sink, `emit`, which the runner uses to stamp each finished row with the host's load
 * average (Node's os.loadavg(), asked over puppeteer from the page), and the device's copy bandwidth,
 * measured once per run and shared by the memory-bound benches (bench/copy-ceiling.ts).
 */
import type { Gpu } from '../src/gpu/gpu.js';
import { type CopyCeiling, sharedCopyCeiling } from './copy-ceiling.js';
import type { NetPeer } from './net-peer.js';
import type { OpPeer } from './peer.js';
import type { BenchRecord, KernelProfile } from './record.js';
import type { TfRuntime } from './tfjs-peer.js';

export interface BenchContext {
  quick: boolean;
  /** Only rows whose name contains one of these (benches that take it say so). */
  layers?: string[];
  /** Peers for single operations (matmul, convolution), in the order their columns appear. */
  peers: OpPeer[];
  /** The started TensorFlow.js (its layers twin is the whole-network peer), or null. */
  tfjs: TfRuntime | null;
  /** Whole-network peers other than the tfjs twin (ONNX Runtime Web's forward, jax-js's step). */
  netPeers: NetPeer[];
  /** Peers that were asked for and could not start: name → why. */
  unavailable: Record<string, string>;
  /** conv: time the subgroup and the tiled kernel families side by side instead (Node's --paths). */
  paths?: boolean;
  /** Record a per-kernel GPU profile of our side of each row (only where the adapter has timestamp queries). */
  profile: boolean;
  log(line: string): void;
  /**
   * Hands a finished row to the runner, which stamps the load average over the row's run on it (a row
   * that already carries one, measured earlier in the run, keeps it); returns the row.
   */
  emit(r: BenchRecord): Promise<BenchRecord>;
  /**
   * The device's copy bandwidth on a tensor of `shape`'s size, measured once per run and size (the first
   * bench to ask measures it), and its `copy (ceiling)` row, emitted into the asking bench's records.
   * Make one with sharedCopyCeiling() per run, shared by every bench's context.
   */
  copyCeiling(gpu: Gpu, shape: readonly number[]): Promise<CopyCeiling>;
}

/** A context with no peers, for tests and tools that call one bench directly. */
export function plainContext(opts: Partial<BenchContext> = {}): BenchContext {
  const ctx: BenchContext = {
    quick: true,
    peers: [],
    tfjs: null,
    netPeers: [],
    unavailable: {},
    profile: false,
    log: (s) => console.log(s),
    emit: async (r) => r,
    copyCeiling: sharedCopyCeiling(() => ctx),
    ...opts,
  };
  return ctx;
}

/** Whether a row name passes the context's filter. */
export function wanted(ctx: BenchContext, name: string): boolean {
  return !ctx.layers || ctx.layers.some((l) => name.includes(l));
}

/** Per-kernel GPU time of one run of `fn` (the largest `top` kernels, the rest summed). */
export async function profileRun(gpu: Gpu, fn: () => unknown, top = 8): Promise<KernelProfile | undefined> {
  if (!gpu.features.has('timestamp-query')) return undefined;
  await gpu.sync();
  gpu.startProfiling();
  let report;
  try {
    await fn();
  } finally {
    report = await gpu.stopProfiling();
  }
  const kernels = report.kernels.slice(0, top).map((k) => ({ kernel: k.kernel, calls: k.calls, totalMs: k.totalMs }));
  const rest = report.kernels.slice(top);
  if (rest.length)
    kernels.push({ kernel: `(${rest.length} others)`, calls: rest.reduce((a, k) => a + k.calls, 0), totalMs: rest.reduce((a, k) => a + k.totalMs, 0) });
  return { source: report.source, totalMs: report.totalMs, kernels };
}
