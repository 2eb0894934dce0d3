/**
 * Per-adapter tile choices for the GEMM-shaped kernels (matmul and the three convolution kernels).
 * Chosen by measurement on each adapter (bench/matmul.bench.ts and bench/conv.bench.ts print the
 * sweeps; the numbers behind each choice are in the comments). Tests and the bench may override them
 * with `setTuning`; nothing else needs to know they exist.
 */
import type { Gpu } from '../gpu/gpu.js';

/** One GEMM kernel's launch shape: WG invocations per workgroup, TM rows per invocation (1, 2 or 4). */
export interface GemmTile {
  wg: number;
  tm: 1 | 2 | 4;
}

export interface Tuning {
  /** Family name, for bench output. */
  name: string;
  /**
   * matmul kernel: 'broadcast' (register blocking + subgroupBroadcast, no barriers — CPU drivers) or
   * 'tiled' (64×64 workgroup-memory tiles — hardware GPUs, and any adapter without subgroups).
   */
  matmulVariant: 'broadcast' | 'tiled';
  matmul: GemmTile;
  convForward: GemmTile;
  convBackwardInput: GemmTile;
  convBackwardWeight: GemmTile;
  /**
   * Weight gradient rows in channel quads read as one vec4 per position (TM is then 4): fewer loads and
   * much less index arithmetic per FMA — a win where every instruction is expensive (SwiftShader).
   */
  convBackwardWeightQuads: boolean;
  /**
   * Split-K for the weight gradient: the reduction over N·Do·Ho rows is cut into enough splits that
   * the grid has at least `minWorkgroups` workgroups, each keeping at least `minRowsPerSplit` rows.
   */
  minWorkgroups: number;
  minRowsPerSplit: number;
  /**
   * Input gradients of convolutions with at most this many input channels go through the tap-product
   * + gather path (conv/col2im.wgsl) instead of 16-channel panels that would be mostly padding.
   */
  thinInputChannels: number;
  /**
   * Whether subgroups have at least 8 lanes (the adapter's subgroupMinSize): the broadcast kernels then
   * spread a k-group's 16 panel entries over 8 lanes (two loads each) instead of 4 (four loads each).
   */
  sg8: boolean;
}

const base: Tuning = {
  name: 'default',
  matmulVariant: 'broadcast',
  matmul: { wg: 64, tm: 2 },
  convForward: { wg: 64, tm: 2 },
  convBackwardInput: { wg: 64, tm: 2 },
  convBackwardWeight: { wg: 64, tm: 2 },
  convBackwardWeightQuads: false,
  minWorkgroups: 64,
  minRowsPerSplit: 16,
  thinInputChannels: 8,
  sg8: false,
};

/** Mesa llvmpipe (lavapipe): 8-wide subgroups on 256-bit vectors, every load a per-lane loop. */
const lavapipe: Tuning = { ...base, name: 'lavapipe', convBackwardWeight: { wg: 32, tm: 2 } };

/** SwiftShader: 4-wide subgroups; arithmetic is slower, so more rows per invocation pay off. */
const swiftshader: Tuning = {
  ...base,
  name: 'swiftshader',
  matmul: { wg: 64, tm: 4 },
  convForward: { wg: 64, tm: 4 },
  convBackwardInput: { wg: 64, tm: 4 },
  convBackwardWeight: { wg: 32, tm: 4 },
  convBackwardWeightQuads: true,
};

/** Hardware GPUs: many more invocations in flight; wide workgroups and small register tiles. */
const hardware: Tuning = {
  ...base,
  name: 'gpu',
  matmulVariant: 'tiled',
  matmul: { wg: 128, tm: 2 },
  convForward: { wg: 128, tm: 2 },
  convBackwardInput: { wg: 128, tm: 2 },
  convBackwardWeight: { wg: 128, tm: 2 },
  minWorkgroups: 512,
};

const chosen = new WeakMap<Gpu, Tuning>();

/** The adapter family a device belongs to, from its reported architecture and description. */
export function adapterFamily(gpu: Gpu): 'lavapipe' | 'swiftshader' | 'gpu' {
  const a = gpu.adapter;
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`.toLowerCase();
  if (text.includes('swiftshader')) return 'swiftshader';
  if (text.includes('llvmpipe') || text.includes('lavapipe')) return 'lavapipe';
  return 'gpu';
}

/** The tile choices for this device (clamped to its workgroup-size limit). */
export function tuningFor(gpu: Gpu): Tuning {
  let t = chosen.get(gpu);
  if (!t) {
    const fam = adapterFamily(gpu);
    t = fam === 'lavapipe' ? lavapipe : fam === 'swiftshader' ? swiftshader : hardware;
    t = clampTuning(gpu, { ...t, sg8: subgroupMinSize(gpu) >= 8 });
    chosen.set(gpu, t);
  }
  return t;
}

/** Replaces some choices for this device (bench sweeps, tests of every tile shape). Returns the previous tuning. */
export function setTuning(gpu: Gpu, patch: Partial<Tuning>): Tuning {
  const prev = tuningFor(gpu);
  chosen.set(gpu, clampTuning(gpu, { ...prev, ...patch }));
  return prev;
}

/** The adapter's smallest subgroup size (4, WebGPU's minimum, when the adapter does not say). */
export function subgroupMinSize(gpu: Gpu): number {
  const info = (gpu.device as unknown as { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  return gpu.features.has('subgroups') ? (info?.subgroupMinSize ?? 4) : 0;
}

function clampTuning(gpu: Gpu, t: Tuning): Tuning {
  const maxWg = Math.min(gpu.limits.maxComputeInvocationsPerWorkgroup ?? 256, gpu.limits.maxComputeWorkgroupSizeX ?? 256);
  const fix = (g: GemmTile): GemmTile => {
    if (![1, 2, 4].includes(g.tm)) throw new Error(`tuning: tm must be 1, 2 or 4, got ${g.tm}`);
    if (!Number.isInteger(g.wg) || g.wg < 4 || g.wg % 4 !== 0) throw new Error(`tuning: wg must be a multiple of 4, got ${g.wg}`);
    return { wg: Math.min(g.wg, maxWg), tm: g.tm };
  };
  if (t.sg8 && subgroupMinSize(gpu) < 8) throw new Error(`tuning: sg8 needs subgroups of at least 8 lanes; this adapter's minimum is ${subgroupMinSize(gpu)}`);
  return {
    ...t,
    matmul: fix(t.matmul),
    convForward: fix(t.convForward),
    convBackwardInput: fix(t.convBackwardInput),
    convBackwardWeight: fix(t.convBackwardWeight),
  };
}

/**
 * The tile to use for a GEMM with `rows` rows: fewer rows per invocation when the chosen TM would
 * leave most of the last (or only) workgroup idle — e.g. the 49 weight rows of a 1×7×7 stem gradient.
 */
export function fitTile(tile: GemmTile, rows: number): GemmTile {
  for (let tm = tile.tm; tm > 1; tm /= 2) {
    const padded = Math.ceil(rows / (tile.wg * tm)) * tile.wg * tm;
    if (padded <= 1.25 * rows) return { wg: tile.wg, tm: tm as 1 | 2 | 4 };
  }
  return { wg: tile.wg, tm: 1 };
}
