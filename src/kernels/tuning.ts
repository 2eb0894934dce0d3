/**
 * Per-adapter tile choices for the GEMM-shaped kernels (matmul and the three convolution kernels), and
 * which of the two kernel families runs each of them:
 *  - 'broadcast': register blocking + subgroupBroadcast, no workgroup memory (needs the optional
 *    `subgroups` feature; the winner on the CPU drivers);
 *  - 'tiled': register tiles with the shared operand staged in double-buffered workgroup memory (or, on
 *    the CPU drivers, read straight from storage) — needs no optional feature, so every adapter has it.
 * Chosen by measurement on each adapter — best-of-N GFLOP/s per kernel on the f-rMC5 layers, swept
 * with `npm run bench -- --tune '<json>'` and per-kernel scripts; the numbers behind each choice are in
 * the comments. Tests and the bench may override them with `setTuning`; nothing else needs to know.
 * Every tile is clamped to the device's limits (workgroup size, invocations, workgroup storage).
 */
import type { Gpu } from '../gpu/gpu.js';

/**
 * Columns per panel of the packed broadcast operand — the column tile of every GEMM kernel (four vec4
 * column quads). The kernel definitions pass it to the shaders as the pipeline constant TN; the broadcast
 * kernels' register tile is built for exactly four quads.
 */
export const PANEL = 16;

/**
 * Invocations per column group of a tiled kernel: its WG invocations split into PANEL/(4·TNQ) groups,
 * each owning TNQ column quads of the panel (tilePlace in matmul/register-tile.part.wgsl).
 */
export function groupInvocations(t: { wg: number; tnq: number }): number {
  return t.wg / (PANEL / 4 / t.tnq);
}

/** A broadcast kernel's launch shape: WG invocations per workgroup, TM rows per invocation (1, 2 or 4). */
export interface GemmTile {
  wg: number;
  tm: 1 | 2 | 4;
}

/**
 * A tiled kernel's launch shape (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): WG
 * invocations, each TM rows × TNQ column quads of the 16-column panel (so 4/TNQ column groups of
 * WG·TNQ/4 invocations), and KC k-groups of four per workgroup-memory step (0: no staging).
 */
export interface TiledTile {
  wg: number;
  tm: 1 | 2 | 4 | 8;
  tnq: 1 | 2 | 4;
  kc: number;
}

export type GemmOp = 'matmul' | 'convForward' | 'convBackwardInput' | 'convBackwardWeight';
/**
 * Layer classes the family choice is made per: the thin-input stem (Cin ≤ thinInputChannels), 1×1×1
 * (downsampling) convolutions, in-plane 1×k×k convolutions (also every depth-Winograd point) and
 * convolutions with a depth extent; `gemm` is a plain matrix product (matmul, 3-D Winograd points).
 */
export type LayerClass = 'thin' | 'pointwise' | 'plane' | 'volume' | 'gemm';
export const LAYER_CLASSES: readonly LayerClass[] = ['thin', 'pointwise', 'plane', 'volume', 'gemm'];

export interface Tuning {
  /** Family name, for bench output. */
  name: string;
  /**
   * Where the broadcast (subgroup) kernels run when the device has subgroups: per op, the layer classes
   * they won on this adapter (measured side by side, see each adapter's comment); everything else — and
   * everything on a device without subgroups — runs the tiled kernels.
   */
  broadcast: Readonly<Record<GemmOp, readonly LayerClass[]>>;
  /** Broadcast-kernel tiles. */
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
  /**
   * Depth Winograd for convolutions with a 3-tap depth kernel and depth stride 1 (3×3×3, 3×1×1; see
   * conv-winograd.ts): the output tile sizes it may use (F(m, 3), m in 2, 4, 6; empty = always the direct
   * kernels), the fewest input and output channels for which it is used, and the most depth work
   * ((m + 2)·⌈Do/m⌉ transformed slices) it may take, as a fraction of the direct path's 3·Do — below 1
   * to pay for the transforms. `inPlane` adds F(2, 3) along height and width for 3×3×3 kernels with
   * stride 1 everywhere (each point then a matrix product) when both channel counts are at least
   * `inPlaneMinChannels` and a batch entry has at least `minTiles` output tiles: it multiplies the
   * weight's size by (m + 2)·16/27, so it pays only where the weights are small next to the work.
   * Convolutions under `minMacs` multiply-adds stay direct: the transforms' extra dispatches cost more
   * than they save there.
   */
  depthWinograd: {
    tiles: readonly number[];
    minChannels: number;
    maxWork: number;
    inPlane: boolean;
    inPlaneMinChannels: number;
    minTiles: number;
    minMacs: number;
  };
  /** Tiled-kernel tiles. */
  tiled: Readonly<Record<GemmOp, TiledTile>>;
  /**
   * Cap on the bytes of one temporary binding (default: the adapter's maxStorageBufferBindingSize);
   * larger re-layouts are processed a few batch entries at a time. Tests lower it to cover that path.
   */
  bindingLimit?: number;
}

const ALL: readonly LayerClass[] = LAYER_CLASSES;
/** `broadcast` tables: the subgroup kernels for every op and layer class (where the device has subgroups), or nowhere. */
export const BROADCAST_EVERYWHERE: Readonly<Record<GemmOp, readonly LayerClass[]>> = {
  matmul: ALL,
  convForward: ALL,
  convBackwardInput: ALL,
  convBackwardWeight: ALL,
};
export const BROADCAST_NOWHERE: Readonly<Record<GemmOp, readonly LayerClass[]>> = {
  matmul: [],
  convForward: [],
  convBackwardInput: [],
  convBackwardWeight: [],
};
const tiledAll = (t: TiledTile): Record<GemmOp, TiledTile> => ({ matmul: t, convForward: t, convBackwardInput: t, convBackwardWeight: t });

const base: Tuning = {
  name: 'default',
  broadcast: BROADCAST_EVERYWHERE,
  matmul: { wg: 64, tm: 2 },
  convForward: { wg: 64, tm: 2 },
  convBackwardInput: { wg: 64, tm: 2 },
  convBackwardWeight: { wg: 64, tm: 2 },
  convBackwardWeightQuads: false,
  minWorkgroups: 64,
  minRowsPerSplit: 16,
  thinInputChannels: 8,
  sg8: false,
  tiled: tiledAll({ wg: 128, tm: 8, tnq: 1, kc: 0 }),
  // Depth Winograd measured on lavapipe (fwd + both gradients, ms, direct → depth F(4|6, 3) → 3-D):
  // [1,32,16,32,32] 189 → 130 → 245; [1,64,24,32,32] 967 → 544 → 566; [1,128,24,16,16] 940 → 541 → 481;
  // [1,256,24,8,8] 987 → 650 → 450–480; [4,256,8,6,6] 823 → 734 → 547; [4,64,8,12,12] 235 → 135 → 180;
  // small ones (direct → depth): 8 MMACs 7.3 → 11.4 ms, 14 MMACs 11.7 → 12.7, 28 MMACs 22.8 → 21.9,
  // 42 MMACs 28.8 → 20.7, 85 MMACs 48.0 → 32.1.
  depthWinograd: { tiles: [4, 6], minChannels: 8, maxWork: 0.75, inPlane: true, inPlaneMinChannels: 128, minTiles: 32, minMacs: 32e6 },
};

/**
 * Mesa llvmpipe (lavapipe): 8-wide subgroups on 256-bit vectors (AVX-512VL: 32 vector registers), every
 * load a per-lane loop. TM 2 keeps the 32 accumulators in registers; TM 4 spills (WG 64, GFLOP/s, TM 2 →
 * 4: matmul 1024³ 19.5 → 12.7, stage-2 conv fwd 16.3 → 10.9). WG 32 for the weight gradient, whose row
 * count (Cin·taps) is small: stage-2 dw 11.8 → 15.6; elsewhere WG 32/128 are within noise of 64.
 * The broadcast kernels win every op and class here (bench --paths): without subgroups each invocation
 * must load every panel value it multiplies — the same address in all lanes still costs a per-lane load —
 * where a subgroup loads each once per 8 lanes and broadcasts it, so the tiled kernels do ~3× the loads.
 */
const lavapipe: Tuning = {
  ...base,
  name: 'lavapipe',
  // Measured with `--only conv --paths` on the f-rMC5 layers and the 3×7×7 stem (2026-11-30, load 12–18;
  // ms summed per class as the network has the layers, subgroup / tiled): the tiled forward won the 1×1×1
  // layers (411 / 337; per layer 112 / 105, 75 / 129, 224 / 104 — close), the broadcast kernels every
  // other op and class: in-plane fwd 6499 / 12428, dx 6538 / 20454, dw 6767 / 24029; stems fwd 2955 /
  // 7587, dx 9058 / 11041, dw 3691 / 6216; 3-D Winograd points fwd 5370 / 6539, dx 2256 / 5684, dw 3274 /
  // 4581; 1×1×1 dx 232 / 419, dw 135 / 496.
  broadcast: { ...BROADCAST_EVERYWHERE, convForward: ['thin', 'plane', 'volume', 'gemm'] },
  convBackwardWeight: { wg: 32, tm: 2 },
  // Tiled kernels (subgroups masked), best of 3 interleaved runs on f-rMC5 layers at depth 8, as a share of
  // the broadcast kernel's speed (2026-11-30, host load 13–16, so ±20 %): fwd WG×TM×4·TNQ 64×4×4 0.54 /
  // 0.48 / 0.80 (stage 2 / stage 4 / stem; 128×8×4: 0.38 / 0.48 / 0.45), dx 128×8×4 0.34 / 0.48 / 0.66,
  // dw 64×4×4 0.30 / 0.24 / 0.25 (128×8×4: 0.33 / 0.17 / 0.25); matmul 1024³ 128×8×4 0.61. No staging:
  // workgroup memory reads cost what storage reads do here (KC 4–8: 0.26–0.37 on matmul).
  tiled: {
    matmul: { wg: 128, tm: 8, tnq: 1, kc: 0 },
    convForward: { wg: 64, tm: 4, tnq: 1, kc: 0 },
    convBackwardInput: { wg: 128, tm: 8, tnq: 1, kc: 0 },
    convBackwardWeight: { wg: 64, tm: 4, tnq: 1, kc: 0 },
  },
};

/**
 * SwiftShader: 4-wide subgroups and every SPIR-V instruction costs ~10 cycles, so more FMAs per load and
 * per index computation pay off even with spilled accumulators (TM 2 → 4: matmul 3.26 → 3.75, stage-2
 * fwd 2.10 → 2.68, stage-5 3×3×3 fwd 2.46 → 3.39, dx 2.80 → 3.81); weight gradient in channel quads
 * with WG 32 (stage-2 dw 1.31 → 2.50). The tiled family is not swept on SwiftShader (its tiles are the
 * base's, the lavapipe sweep's first choice); SwiftShader has subgroups, so it runs only when masked.
 */
const swiftshader: Tuning = {
  ...base,
  name: 'swiftshader',
  matmul: { wg: 64, tm: 4 },
  convForward: { wg: 64, tm: 4 },
  convBackwardInput: { wg: 64, tm: 4 },
  convBackwardWeight: { wg: 32, tm: 4 },
  convBackwardWeightQuads: true,
};

/**
 * Hardware GPUs — NOT MEASURED: the development machine has no GPU. The tiled kernels everywhere (the
 * usual winner on GPUs: 64 invocations × 4 rows × 16 columns, the panel staged 8 k-groups (32 k) at a
 * time in 4 KiB of double-buffered workgroup memory), wider workgroups and more split-K parallelism for
 * the broadcast kernels where they are forced. `bench/gpu-check.sh` times both families on every f-rMC5
 * layer of the machine it runs on and prints the winners: that table belongs here once measured.
 */
const hardware: Tuning = {
  ...base,
  name: 'gpu',
  broadcast: BROADCAST_NOWHERE,
  tiled: tiledAll({ wg: 64, tm: 4, tnq: 4, kc: 8 }),
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

/** Puts back a tuning returned by `setTuning`/`tuningFor` exactly (fields it lacks are unset again). */
export function restoreTuning(gpu: Gpu, t: Tuning): void {
  chosen.set(gpu, clampTuning(gpu, t));
}

function clampTuning(gpu: Gpu, t: Tuning): Tuning {
  if (t.sg8 && subgroupMinSize(gpu) < 8) throw new Error(`tuning: sg8 needs subgroups of at least 8 lanes; this adapter's minimum is ${subgroupMinSize(gpu)}`);
  const lim = gpu.limits;
  return {
    ...t,
    matmul: clampGemmTile(lim, t.matmul),
    convForward: clampGemmTile(lim, t.convForward),
    convBackwardInput: clampGemmTile(lim, t.convBackwardInput),
    convBackwardWeight: clampGemmTile(lim, t.convBackwardWeight),
    tiled: {
      matmul: clampTiledTile(lim, t.tiled.matmul),
      convForward: clampTiledTile(lim, t.tiled.convForward),
      convBackwardInput: clampTiledTile(lim, t.tiled.convBackwardInput),
      convBackwardWeight: clampTiledTile(lim, t.tiled.convBackwardWeight),
    },
  };
}

type Limits = Readonly<Record<string, number>>;

/** Largest workgroup (invocations along x) the device allows; WebGPU's core default is 256. */
function maxInvocations(lim: Limits): number {
  return Math.min(lim.maxComputeInvocationsPerWorkgroup ?? 256, lim.maxComputeWorkgroupSizeX ?? 256);
}

/** A broadcast tile within the device's workgroup-size limits (largest power-of-two-fold reduction of WG that fits). */
export function clampGemmTile(lim: Limits, g: GemmTile): GemmTile {
  if (![1, 2, 4].includes(g.tm)) throw new Error(`tuning: tm must be 1, 2 or 4, got ${g.tm}`);
  if (!Number.isInteger(g.wg) || g.wg < 4 || g.wg % 4 !== 0) throw new Error(`tuning: wg must be a multiple of 4, got ${g.wg}`);
  let wg = g.wg;
  while (wg > maxInvocations(lim) && wg % 8 === 0) wg /= 2;
  if (wg > maxInvocations(lim)) throw new Error(`tuning: no workgroup of ${g.wg} invocations or half of it fits this device's limit of ${maxInvocations(lim)}`);
  return { wg, tm: g.tm };
}

/** Workgroup-memory bytes of a tiled kernel's stage: two halves of KC k-groups × PANEL vec4 (16 bytes each). */
export function stageBytes(kc: number): number {
  return 2 * Math.max(kc, 1) * PANEL * 16;
}

/**
 * A tiled tile within the device's limits: WG halved until it fits maxComputeInvocationsPerWorkgroup
 * (staying a multiple of the column groups), KC halved until the stage fits maxComputeWorkgroupStorageSize.
 */
export function clampTiledTile(lim: Limits, t: TiledTile): TiledTile {
  if (![1, 2, 4, 8].includes(t.tm)) throw new Error(`tuning: tiled tm must be 1, 2, 4 or 8, got ${t.tm}`);
  if (![1, 2, 4].includes(t.tnq)) throw new Error(`tuning: tiled tnq must be 1, 2 or 4, got ${t.tnq}`);
  // A multiple of PANEL/4 splits evenly into the PANEL/(4·TNQ) column groups.
  if (!Number.isInteger(t.wg) || t.wg < PANEL / 4 || t.wg % (PANEL / 4) !== 0)
    throw new Error(`tuning: tiled wg must be a multiple of ${PANEL / 4}, got ${t.wg}`);
  if (!Number.isInteger(t.kc) || t.kc < 0) throw new Error(`tuning: tiled kc must be an integer >= 0, got ${t.kc}`);
  let wg = t.wg;
  while (wg > maxInvocations(lim) && wg % 8 === 0) wg /= 2;
  if (wg > maxInvocations(lim))
    throw new Error(`tuning: no tiled workgroup of ${t.wg} invocations or a half of it fits this device's limit of ${maxInvocations(lim)}`);
  let kc = t.kc;
  const storage = lim.maxComputeWorkgroupStorageSize ?? 16384;
  while (kc > 0 && stageBytes(kc) > storage) kc = kc > 1 ? Math.floor(kc / 2) : 0;
  return { wg, tm: t.tm, tnq: t.tnq, kc };
}

/**
 * Invocations per workgroup of the one-thread-per-element helper kernels (packing, re-layouts,
 * transforms, sums): 256, or the device's limit if lower (WebGPU's core minimum is 256; the tests
 * lower it further to check that the tiling honours it).
 */
export function elementWg(gpu: Gpu): number {
  return Math.min(256, maxInvocations(gpu.limits));
}

/** The kernel family for a GEMM op on a layer class on this device. */
export function gemmPath(gpu: Gpu, op: GemmOp, cls: LayerClass): 'broadcast' | 'tiled' {
  return gpu.features.has('subgroups') && tuningFor(gpu).broadcast[op].includes(cls) ? 'broadcast' : 'tiled';
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

/**
 * The tiled tile to use for a GEMM with `rows` rows: fewer rows per invocation when the chosen TM would
 * leave most of the last (or only) workgroup idle.
 */
export function fitTiledTile(tile: TiledTile, rows: number): TiledTile {
  const lanes = groupInvocations(tile);
  for (let tm = tile.tm; tm > 1; tm /= 2) {
    const padded = Math.ceil(rows / (lanes * tm)) * lanes * tm;
    if (padded <= 1.25 * rows) return { ...tile, tm: tm as TiledTile['tm'] };
  }
  return { ...tile, tm: 1 };
}

/** Largest temporary binding the kernels may allocate on this device. */
export function bindingLimit(gpu: Gpu): number {
  return Math.min(gpu.limits.maxStorageBufferBindingSize!, tuningFor(gpu).bindingLimit ?? Infinity);
}
