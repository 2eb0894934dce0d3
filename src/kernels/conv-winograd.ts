/**
 * Winograd minimal filtering for the convolution family (Lavin & Gray 2016), on top of the direct
 * kernels in conv.ts (their GEMMs, conv-gemm.ts).
 *
 * Depth Winograd — convolutions with a 3-tap depth kernel and depth stride 1 (3×3×3, 3×1×1): F(m, 3)
 * along depth (`winograd-matrices.ts`). The input and weight are transformed along depth into m + 2
 * points (conv/wino-window.wgsl, on scalars or on the GEMMs' packed vec4 operands), each point is an
 * ordinary 1×kH×kW convolution through conv-gemm.ts's GEMMs, and the points are folded back
 * (conv/wino-gather.wgsl) — (m + 2)/(3m) of the direct multiply-adds (1/2 for F(4, 3), 4/9 for F(6, 3))
 * in all three passes. The tuning chooses tile sizes per adapter (`depthWinograd`); the float64
 * reference of the same decomposition is in `winograd.ref.ts`.
 *
 * Full 3-D Winograd — 3×3×3 convolutions with stride and dilation 1 on every axis (the paper's stage-5
 * 256 → 256 layers), where the tuning allows it: F(m, 3) along depth and F(2, 3) along height and width,
 * (m + 2)·4·4 points per tile of m × 2 × 2 outputs. The transforms run axis by axis with the same
 * window/gather kernels, and every point becomes a plain matrix product [Cout, Cin] × [Cin, tiles] —
 * one batched matmul per pass and batch entry (forward U·V, input gradient Uᵀ·dM, weight gradient
 * dM·Vᵀ). (m + 2)·16 / (27·4m) of the direct multiply-adds: 0.20 for F(6, 3) × F(2, 3)².
 */
import { GpuError } from '../gpu/errors.js';
import type { Gpu } from '../gpu/gpu.js';
import { BufferUsage } from '../gpu/flags.js';
import type { GpuTensor } from '../gpu/tensor.js';
import {
  type ConvGeometry,
  backwardInputGemm,
  backwardInputPanels,
  backwardWeightGemm,
  forwardGemm,
  forwardPanels,
  inputBlocks,
  outputBlocks,
  outputPanels,
  weightQuads,
} from './conv-gemm.js';
import { defineKernel, elementGrid } from './define.js';
import { type BlockSource, type PanelSource, type Panels, blockK, gemmBlockedA, matmul, packPanels } from './matmul.js';
import { swapAxes } from './layout.js';
import { convReduceSplitsKernel } from './conv-gemm.js';
import { PANEL, bindingLimit, tuningFor, elementWg } from './tuning.js';
import { winogradMatrices } from './winograd-matrices.js';

export const convWinogradWindowKernel = defineKernel({
  name: 'conv-winograd-window',
  shader: 'conv/wino-window',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
});

export const convWinogradWindow4Kernel = defineKernel({
  name: 'conv-winograd-window-vec4',
  shader: 'conv/wino-window',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
  alias: { T: 'vec4<f32>' },
});

export const convWinogradGather4Kernel = defineKernel({
  name: 'conv-winograd-gather-vec4',
  shader: 'conv/wino-gather',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
  alias: { T: 'vec4<f32>' },
});

export const convWinogradGatherKernel = defineKernel({
  name: 'conv-winograd-gather',
  shader: 'conv/wino-gather',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
});

/** How one convolution runs through depth Winograd: tile size, the points' geometry, their strides. */
export interface WinogradPlan {
  /** Output slices per depth tile (F(m, 3)). */
  m: number;
  /** Transformed points per tile (m + 2). */
  points: number;
  tiles: number;
  /** The in-plane convolution each point runs: depth kernel 1 over [N, C, tiles, H, W]. */
  plane: ConvGeometry;
  /**
   * Also F(2, 3) along height and width (a 3×3×3 kernel, stride and dilation 1 everywhere): each point
   * is then a matrix product, and tilesH × tilesW are the in-plane tile counts.
   */
  full: { tilesH: number; tilesW: number } | null;
  /** Elements between consecutive points of the plain transformed tensors (multiples of 64). */
  vStride: number;
  mStride: number;
  uStride: number;
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** Blocked (channel-quad) sizes in elements: x and its points, dy and its points. */
function blockedSizes(g: ConvGeometry, tiles: number) {
  const [d, h, w] = g.inSize;
  const [od, oh, ow] = g.outSize;
  return {
    x: 4 * g.n * Math.ceil(g.cin / 4) * d * h * w,
    v: align64(4 * g.n * Math.ceil(g.cin / 4) * tiles * h * w),
    dy: 4 * g.n * Math.ceil(g.cout / 4) * od * oh * ow,
    dm: align64(4 * g.n * Math.ceil(g.cout / 4) * tiles * oh * ow),
  };
}

/**
 * The depth-Winograd plan for this convolution on this device, or null for the direct kernels: a 3-tap
 * depth kernel with depth stride and dilation 1, at least `minChannels` channels in and out and
 * `minMacs` multiply-adds, a tile size
 * from the tuning that needs at most `maxWork` of the direct path's depth work (3·Do in-plane
 * convolutions against (m + 2)·⌈Do/m⌉; ties go to the smaller, more accurate tile), and operands that
 * each fit one binding (larger ones take the direct path, which processes the batch in chunks).
 */
export function winogradPlan(gpu: Gpu, g: ConvGeometry): WinogradPlan | null {
  const t = tuningFor(gpu).depthWinograd;
  if (g.kernel[0] !== 3 || g.stride[0] !== 1 || g.dilation[0] !== 1) return null;
  if (Math.min(g.cin, g.cout) < t.minChannels) return null;
  if (g.n * g.outSize[0] * g.outSize[1] * g.outSize[2] * g.cout * g.cin * g.kernel[0] * g.kernel[1] * g.kernel[2] < t.minMacs) return null;
  const od = g.outSize[0];
  let m = 0;
  let best = t.maxWork * 3 * od * (1 + 1e-9);
  for (const tile of [...t.tiles].sort((a, b) => a - b)) {
    const work = (tile + 2) * Math.ceil(od / tile);
    if (work < best) {
      best = work;
      m = tile;
    }
  }
  if (m === 0) return null;
  const points = m + 2;
  const tiles = Math.ceil(od / m);
  const [, h, w] = g.inSize;
  const [, oh, ow] = g.outSize;
  const [, kh, kw] = g.kernel;
  const plan: WinogradPlan = {
    m,
    points,
    tiles,
    plane: {
      ...g,
      inSize: [tiles, h, w],
      kernel: [1, kh, kw],
      outSize: [tiles, oh, ow],
      stride: [1, g.stride[1], g.stride[2]],
      pad: [0, g.pad[1], g.pad[2]],
      dilation: [1, g.dilation[1], g.dilation[2]],
    },
    full: null,
    vStride: align64(g.n * g.cin * tiles * h * w),
    mStride: align64(g.n * g.cout * tiles * oh * ow),
    uStride: align64(g.cout * g.cin * kh * kw),
  };
  plan.full = fullPlan(gpu, g, plan);
  const b = blockedSizes(g, tiles);
  // Packed panels in floats: 16-column panels × rows × the inner axis padded to four.
  const panels = (cols: number, rows: number, inner: number) => Math.ceil(cols / PANEL) * PANEL * rows * Math.ceil(inner / 4) * 4;
  const largest = Math.max(
    b.x,
    b.dy,
    points * Math.max(plan.vStride, plan.mStride, plan.uStride, b.v, b.dm),
    (points > 3 ? points : 3) * Math.max(panels(g.cout, kh * kw, g.cin), panels(g.cin, kh * kw, g.cout)),
    g.n * Math.max(panels(g.cout, od * oh, ow), points * panels(g.cout, tiles * oh, ow)),
  );
  if (!plan.full && 4 * largest > bindingLimit(gpu)) return null;
  return plan;
}

/**
 * Whether this convolution also takes F(2, 3) in-plane: a 3×3×3 kernel with stride and dilation 1 on
 * every axis, the tuning's `inPlane` with at least `inPlaneMinChannels` channels in and out, at least
 * `minTiles` output tiles per batch entry (smaller products waste the GEMM), batch entries that start
 * 256-byte aligned, and transformed tensors within one binding.
 */
function fullPlan(gpu: Gpu, g: ConvGeometry, plan: WinogradPlan): WinogradPlan['full'] {
  const t = tuningFor(gpu).depthWinograd;
  if (!t.inPlane || Math.min(g.cin, g.cout) < t.inPlaneMinChannels) return null;
  if (g.kernel.some((k) => k !== 3) || g.stride.some((s) => s !== 1) || g.dilation.some((d) => d !== 1)) return null;
  const tilesH = Math.ceil(g.outSize[1] / 2);
  const tilesW = Math.ceil(g.outSize[2] / 2);
  const tiles = plan.tiles * tilesH * tilesW;
  if (tiles < t.minTiles) return null;
  if (g.n > 1 && ((g.cin * prod3(g.inSize)) % 64 !== 0 || (g.cout * prod3(g.outSize)) % 64 !== 0)) return null;
  const points = plan.points * 16;
  const [, h] = g.inSize;
  const [, oh, ow] = g.outSize;
  const largest = Math.max(
    points * g.cout * g.cin,
    points * Math.max(g.cin, g.cout) * tiles,
    // The first in-plane step's intermediates: [points_d][C][T][tilesH][W] × 4 (and the output side's).
    4 * plan.points * Math.max(g.cin * plan.tiles * tilesH * (g.inSize[2] + 2), g.cout * plan.tiles * tilesH * ow),
    plan.points * Math.max(g.cin * plan.tiles * h * g.inSize[2], g.cout * plan.tiles * oh * ow),
    g.n * points * g.cout * g.cin, // weight-gradient partials, one per batch entry
  );
  if (4 * largest > bindingLimit(gpu)) return null;
  return { tilesH, tilesW };
}

const prod3 = (t: readonly number[]) => t[0]! * t[1]! * t[2]!;

/** The transform matrices live in small constant buffers, one per (device, matrix), never released. */
const matrixBuffers = new WeakMap<Gpu, Map<string, GPUBuffer>>();

function matrixBuffer(gpu: Gpu, key: string, rows: readonly (readonly number[])[]): GPUBuffer {
  let perGpu = matrixBuffers.get(gpu);
  if (!perGpu) matrixBuffers.set(gpu, (perGpu = new Map()));
  let buf = perGpu.get(key);
  if (!buf) {
    const flat = new Float32Array(rows.flat());
    buf = gpu.device.createBuffer({ label: `winograd ${key}`, size: Math.max(16, flat.byteLength), usage: BufferUsage.STORAGE, mappedAtCreation: true });
    new Float32Array(buf.getMappedRange()).set(flat);
    buf.unmap();
    perGpu.set(key, buf);
  }
  return buf;
}

const transposed = (a: readonly (readonly number[])[]): number[][] => a[0]!.map((_, j) => a.map((row) => row[j]!));

type MatrixName = 'BT' | 'G' | 'A' | 'AT' | 'B' | 'GT';

/** Window transforms use points × taps matrices (BT, G, A = ATᵀ); gathers taps × points (AT, B = BTᵀ, GT). */
function matrix(gpu: Gpu, m: number, name: MatrixName): { buffer: GPUBuffer; rows: number; cols: number } {
  const f = winogradMatrices(m, 3);
  const rows = { BT: f.BT, G: f.G, A: transposed(f.AT), AT: f.AT, B: transposed(f.BT), GT: transposed(f.G) }[name];
  return { buffer: matrixBuffer(gpu, `F(${m},3) ${name}`, rows), rows: rows.length, cols: rows[0]!.length };
}

/** Index layout of a depth transform (see conv/wino-window.wgsl and conv/wino-gather.wgsl). */
export interface DepthLayout {
  outer: number;
  /** Depth of the depth-major side (the source of a window, the destination of a gather). */
  depth: number;
  inner: number;
  tiles: number;
  /** Depth distance between consecutive tiles' windows (a gather writes this many slices per invocation). */
  step: number;
  /** The first tile's window starts `off` slices before depth 0. */
  off: number;
  /** Elements between consecutive points of the transformed side (a multiple of 64 floats). */
  pStride: number;
}

/**
 * Windowed depth transform: dst[p][o, t, i] = Σ_j mat[p·taps + j] · src[o, step·t − off + j, i] for
 * p < points (zero outside the depth). `mat` is points × taps, row-major, in a device buffer. With
 * `vec4`, src and dst are read as vec4 elements and inner and pStride count vec4s.
 */
export function depthWindow(src: GpuTensor, dst: GpuTensor, mat: GpuTensor | GPUBuffer, points: number, taps: number, l: DepthLayout, vec4 = false): void {
  const gpu = src.gpu;
  if (points > 8 || taps > 8) throw new GpuError('usage', `depthWindow: at most 8 points and 8 taps, got ${points} and ${taps}`);
  const [gx, gy] = elementGrid(gpu, l.outer * l.tiles * l.inner, elementWg(gpu));
  gpu.dispatch(vec4 ? convWinogradWindow4Kernel : convWinogradWindowKernel, {
    bind: { mat, src, dst },
    uniforms: { params: { outer: l.outer, din: l.depth, inner: l.inner, tiles: l.tiles, step: l.step, off: l.off, pStride: l.pStride } },
    overrides: { WG: elementWg(gpu), POINTS: points, TAPS: taps },
    workgroups: [gx, gy, 1],
  });
}

/**
 * Overlap-add depth gather: dst[o, z, i] = Σ_t Σ_p mat[j·points + p] · src[p][o, t, i] with
 * j = z + off − step·t in [0, taps). `mat` is taps × points, row-major. With `vec4`, as depthWindow.
 */
export function depthGather(src: GpuTensor, dst: GpuTensor, mat: GpuTensor | GPUBuffer, points: number, taps: number, l: DepthLayout, vec4 = false): void {
  const gpu = src.gpu;
  if (points > 8 || taps > 8 || l.step > 8 || l.step < 1)
    throw new GpuError('usage', `depthGather: at most 8 points, 8 taps and a step of 1..8, got ${points}, ${taps}, ${l.step}`);
  const blocks = Math.ceil((l.depth + l.off) / l.step);
  const [gx, gy] = elementGrid(gpu, l.outer * blocks * l.inner, elementWg(gpu));
  gpu.dispatch(vec4 ? convWinogradGather4Kernel : convWinogradGatherKernel, {
    bind: { mat, src, dst },
    uniforms: { params: { outer: l.outer, dout: l.depth, inner: l.inner, tiles: l.tiles, blocks, off: l.off, pStride: l.pStride } },
    overrides: { WG: elementWg(gpu), POINTS: points, TAPS: taps, STEP: l.step },
    workgroups: [gx, gy, 1],
  });
}

function window(src: GpuTensor, dst: GpuTensor, m: number, name: 'BT' | 'G' | 'A', l: DepthLayout, vec4: boolean): void {
  const mat = matrix(src.gpu, m, name);
  depthWindow(src, dst, mat.buffer, mat.rows, mat.cols, l, vec4);
}

function gather(src: GpuTensor, dst: GpuTensor, m: number, name: 'AT' | 'B' | 'GT', l: DepthLayout, vec4 = false): void {
  const mat = matrix(src.gpu, m, name);
  depthGather(src, dst, mat.buffer, mat.cols, mat.rows, l, vec4);
}

/**
 * A window or gather over [outer, depth, inner] elements, as vec4s when the inner axis and the point
 * stride allow it (a quarter of the loads and index arithmetic).
 */
function window4(src: GpuTensor, dst: GpuTensor, m: number, name: 'BT' | 'G' | 'A', l: DepthLayout): void {
  const v = l.inner % 4 === 0 && l.pStride % 4 === 0;
  window(src, dst, m, name, v ? { ...l, inner: l.inner / 4, pStride: l.pStride / 4 } : l, v);
}

function gather4(src: GpuTensor, dst: GpuTensor, m: number, name: 'AT' | 'B' | 'GT', l: DepthLayout): void {
  const v = l.inner % 4 === 0 && l.pStride % 4 === 0;
  gather(src, dst, m, name, v ? { ...l, inner: l.inner / 4, pStride: l.pStride / 4 } : l, v);
}

/**
 * Packs the weight for all 3·kH·kW taps once, then transforms the packed panels along kd into every
 * point's panels (the panel layout is depth-major: [panel][kd][kH·kW·⌈inner/4⌉ k-groups × 16 vec4s]).
 */
function winogradPanels(w: GpuTensor, src: PanelSource, plan: WinogradPlan): { all: GpuTensor; point: (p: number) => Panels } {
  const packed = packPanels(w, src);
  const kp = packed.kp / 3;
  const perPoint = packed.panels * kp * PANEL; // vec4s, a multiple of 16: every point starts 256-byte aligned
  const all = w.gpu.empty([plan.points * perPoint * 4]);
  window(packed.tensor, all, plan.m, 'G', { outer: packed.panels, depth: 3, inner: kp * PANEL, tiles: 1, step: 0, off: 0, pStride: perPoint }, true);
  packed.tensor.release();
  return {
    all,
    point: (p) => ({ tensor: all.viewAt(p * perPoint * 4, [perPoint * 4]), kp, innerPad: packed.innerPad, panels: packed.panels, perBatch: perPoint }),
  };
}

/** A tensor blocked in channel quads ([N·⌈C/4⌉, depth, plane] vec4s) transformed into every point, still blocked. */
function winogradBlocked(
  src: GpuTensor,
  blocks: BlockSource,
  depth: number,
  channels: number,
  plan: WinogradPlan,
  name: 'BT' | 'A',
  off: number,
  stride: number,
): GpuTensor {
  const blocked = blockK(src, blocks).tensor;
  const plane = blocks.rows / depth;
  const all = src.gpu.empty([plan.points * stride]);
  window(
    blocked,
    all,
    plan.m,
    name,
    { outer: plan.plane.n * Math.ceil(channels / 4), depth, inner: plane, tiles: plan.tiles, step: plan.m, off, pStride: stride / 4 },
    true,
  );
  blocked.release();
  return all;
}

/** x transformed into every point, plain NCDHW (the row-at-a-time weight gradient reads it so). */
function winogradPlainInput(x: GpuTensor, g: ConvGeometry, plan: WinogradPlan): GpuTensor {
  const v = x.gpu.empty([plan.points * plan.vStride]);
  window4(x, v, plan.m, 'BT', {
    outer: g.n * g.cin,
    depth: g.inSize[0],
    inner: g.inSize[1] * g.inSize[2],
    tiles: plan.tiles,
    step: plan.m,
    off: g.pad[0],
    pStride: plan.vStride,
  });
  return v;
}

export function winogradForward(x: GpuTensor, w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, y: GpuTensor): void {
  if (plan.full) {
    fullData(x, w, g, plan, y, false);
    return;
  }
  const gpu = x.gpu;
  const pg = plan.plane;
  const sizes = blockedSizes(g, plan.tiles);
  const u = winogradPanels(w, forwardPanels(g), plan);
  const vb = winogradBlocked(x, inputBlocks(g), g.inSize[0], g.cin, plan, 'BT', g.pad[0], sizes.v);
  const mm = gpu.empty([plan.points * plan.mStride]);
  const mShape = [pg.n, pg.cout, ...pg.outSize];
  for (let p = 0; p < plan.points; p++) {
    forwardGemm(vb.viewAt(p * sizes.v, [sizes.v]), pg, u.point(p), false, 0, 0, pg.n, mm.viewAt(p * plan.mStride, mShape));
  }
  u.all.release();
  vb.release();
  gather(mm, y, plan.m, 'AT', {
    outer: g.n * g.cout,
    depth: g.outSize[0],
    inner: g.outSize[1] * g.outSize[2],
    tiles: plan.tiles,
    step: plan.m,
    off: 0,
    pStride: plan.mStride,
  });
  mm.release();
}

export function winogradBackwardInput(dy: GpuTensor, w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dx: GpuTensor): void {
  if (plan.full) {
    fullData(dy, w, g, plan, dx, true);
    return;
  }
  const gpu = dy.gpu;
  const pg = plan.plane;
  const sizes = blockedSizes(g, plan.tiles);
  const u = winogradPanels(w, backwardInputPanels(g), plan);
  const dmb = winogradBlocked(dy, outputBlocks(g), g.outSize[0], g.cout, plan, 'A', 0, sizes.dm);
  const dv = gpu.empty([plan.points * plan.vStride]);
  const vShape = [pg.n, pg.cin, ...pg.inSize];
  for (let p = 0; p < plan.points; p++) {
    backwardInputGemm(dmb.viewAt(p * sizes.dm, [sizes.dm]), u.point(p), pg, dv.viewAt(p * plan.vStride, vShape));
  }
  u.all.release();
  dmb.release();
  gather(dv, dx, plan.m, 'B', {
    outer: g.n * g.cin,
    depth: g.inSize[0],
    inner: g.inSize[1] * g.inSize[2],
    tiles: plan.tiles,
    step: plan.m,
    off: g.pad[0],
    pStride: plan.vStride,
  });
  dv.release();
}

export function winogradBackwardWeight(dy: GpuTensor, x: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dw: GpuTensor): void {
  if (plan.full) {
    fullBackwardWeight(dy, x, g, plan, dw);
    return;
  }
  const gpu = dy.gpu;
  const pg = plan.plane;
  const sizes = blockedSizes(g, plan.tiles);
  // dy packed once as panels ([n][panel][zo][Ho·⌈Wo/4⌉ k-groups × 16 vec4s]), transformed along zo.
  const packed = packPanels(dy, outputPanels(g));
  const kp = (packed.kp / g.outSize[0]) * plan.tiles;
  const perBatch = packed.panels * kp * PANEL;
  const perPoint = g.n * perBatch;
  const dmp = gpu.empty([plan.points * perPoint * 4]);
  window(
    packed.tensor,
    dmp,
    plan.m,
    'A',
    { outer: g.n * packed.panels, depth: g.outSize[0], inner: (packed.kp / g.outSize[0]) * PANEL, tiles: plan.tiles, step: plan.m, off: 0, pStride: perPoint },
    true,
  );
  packed.tensor.release();
  const quads = weightQuads(gpu, pg);
  const v = quads ? null : winogradPlainInput(x, g, plan);
  const vb = quads ? winogradBlocked(x, inputBlocks(g), g.inSize[0], g.cin, plan, 'BT', g.pad[0], sizes.v) : null;
  const du = gpu.empty([plan.points * plan.uStride]);
  const vShape = [pg.n, pg.cin, ...pg.inSize];
  const uShape = [pg.cout, pg.cin, ...pg.kernel];
  for (let p = 0; p < plan.points; p++) {
    const dm: Panels = { tensor: dmp.viewAt(p * perPoint * 4, [perPoint * 4]), kp, innerPad: packed.innerPad, panels: packed.panels, perBatch };
    const xPlain = v ? v.viewAt(p * plan.vStride, vShape) : vb!.viewAt(p * sizes.v, [sizes.v]); // bound but unread with quads
    backwardWeightGemm(xPlain, vb ? vb.viewAt(p * sizes.v, [sizes.v]) : null, dm, pg, du.viewAt(p * plan.uStride, uShape));
  }
  v?.release();
  vb?.release();
  dmp.release();
  // One tile of all three taps: step 3 makes one invocation write the three taps of its (co, ci, kh, kw).
  gather(du, dw, plan.m, 'GT', { outer: g.cout * g.cin, depth: 3, inner: g.kernel[1] * g.kernel[2], tiles: 1, step: 3, off: 0, pStride: plan.uStride });
  du.release();
}

/**
 * A tensor [C, D, H, W] (one batch entry) transformed along depth (F(m, 3)), height and width (F(2, 3)):
 * windows of `m` (depth) and 2 (in-plane) starting `off` before 0, into
 * [4 (w)][4 (h)][m + 2 (d)][C][tiles][tilesH][tilesW] — the points' [C, tiles] matrices one after another.
 */
function transform3d(
  src: GpuTensor,
  c: number,
  size: readonly number[],
  plan: WinogradPlan,
  names: ['BT' | 'A', 'BT' | 'A'],
  off: readonly number[],
): GpuTensor {
  const gpu = src.gpu;
  const { m, points, tiles } = plan;
  const { tilesH, tilesW } = plan.full!;
  const [d, h, w] = size as [number, number, number];
  const a = gpu.empty([points * c * tiles * h * w]);
  window4(src, a, m, names[0], { outer: c, depth: d, inner: h * w, tiles, step: m, off: off[0]!, pStride: c * tiles * h * w });
  const outerH = points * c * tiles;
  const b = gpu.empty([4 * outerH * tilesH * w]);
  window4(a, b, 2, names[1], { outer: outerH, depth: h, inner: w, tiles: tilesH, step: 2, off: off[1]!, pStride: outerH * tilesH * w });
  a.release();
  const outerW = 4 * outerH * tilesH;
  const out = gpu.empty([4 * outerW * tilesW]);
  window(b, out, 2, names[1], { outer: outerW, depth: w, inner: 1, tiles: tilesW, step: 2, off: off[2]!, pStride: outerW * tilesW }, false);
  b.release();
  return out;
}

/** The inverse of transform3d's layout: the points' [C, tiles] matrices folded back into [C, D, H, W] (overlaps added). */
function gather3d(
  src: GpuTensor,
  c: number,
  size: readonly number[],
  plan: WinogradPlan,
  names: ['AT' | 'B', 'AT' | 'B'],
  off: readonly number[],
  dst: GpuTensor,
): void {
  const gpu = src.gpu;
  const { m, points, tiles } = plan;
  const { tilesH, tilesW } = plan.full!;
  const [d, h, w] = size as [number, number, number];
  const outerW = 4 * points * c * tiles * tilesH;
  const a = gpu.empty([outerW * w]);
  gather(src, a, 2, names[1], { outer: outerW, depth: w, inner: 1, tiles: tilesW, step: 2, off: off[2]!, pStride: outerW * tilesW });
  const outerH = points * c * tiles;
  const b = gpu.empty([outerH * h * w]);
  gather4(a, b, 2, names[1], { outer: outerH, depth: h, inner: w, tiles: tilesH, step: 2, off: off[1]!, pStride: outerH * tilesH * w });
  a.release();
  gather4(b, dst, m, names[0], { outer: c, depth: d, inner: h * w, tiles, step: m, off: off[0]!, pStride: c * tiles * h * w });
  b.release();
}

/**
 * The weight [Cout, Cin, 3, 3, 3] transformed on every axis straight into the matmul's blocked A layout
 * for every point: [4 (kw)][4 (kh)][m + 2 (kd)][⌈K/4⌉][M] vec4s with (M, K) = (Cout, Cin) for the forward
 * U and (Cin, Cout) for the input gradient's Uᵀ. The weight is blocked once (channel quads of K
 * innermost, the 27 taps next), and the three transforms then run on vec4s.
 */
function weights3d(w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, transpose: boolean): GpuTensor {
  const gpu = w.gpu;
  const [mDim, kDim] = transpose ? [g.cin, g.cout] : [g.cout, g.cin];
  // blockK: out[k4·(M·27) + mi·27 + tap] = vec4 of w at (k = 4k4..4k4+3, mi, tap). Uᵀ reads w as it is
  // (k = co at stride Cin·27); U needs ci at that stride, so w is first transposed to [Cin, Cout, 27].
  const src = transpose ? w : swapAxes(w.view([g.cout, g.cin, 27]) as GpuTensor<'f32'>, 0, 1);
  const blocked = blockK(src, { rows: mDim * 27, k: kDim, sRow: 1, sK: mDim * 27 }).tensor;
  if (src !== w) src.release();
  const rows = Math.ceil(kDim / 4) * mDim; // vec4 rows of 27 taps
  const pd = plan.points;
  const a = gpu.empty([pd * rows * 9 * 4]);
  window(blocked, a, plan.m, 'G', { outer: rows, depth: 3, inner: 9, tiles: 1, step: 0, off: 0, pStride: rows * 9 }, true);
  blocked.release();
  const b = gpu.empty([4 * pd * rows * 3 * 4]);
  window(a, b, 2, 'G', { outer: pd * rows, depth: 3, inner: 3, tiles: 1, step: 0, off: 0, pStride: pd * rows * 3 }, true);
  a.release();
  const u = gpu.empty([16 * pd * rows * 4]);
  window(b, u, 2, 'G', { outer: 4 * pd * rows, depth: 3, inner: 1, tiles: 1, step: 0, off: 0, pStride: 4 * pd * rows }, true);
  b.release();
  return u;
}

/** Batch entry n of an NCDHW tensor as [C, D, H, W] (fullPlan checked the alignment). */
const entry = (t: GpuTensor, n: number, c: number, size: readonly number[]) => t.viewAt(n * c * prod3(size), [c, ...size]);

/**
 * The forward (U·V into y) or the input gradient (Uᵀ·dM into dx): the data side transformed per batch
 * entry, one batched product with the transformed weight, gathered back. The two differ only in which
 * side is which and in the matrices.
 */
function fullData(src: GpuTensor, w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dst: GpuTensor, backward: boolean): void {
  const gpu = src.gpu;
  const pts = 16 * plan.points;
  const tiles = plan.tiles * plan.full!.tilesH * plan.full!.tilesW;
  const from = backward
    ? { c: g.cout, size: g.outSize, names: ['A', 'A'] as ['A', 'A'], off: [0, 0, 0] }
    : { c: g.cin, size: g.inSize, names: ['BT', 'BT'] as ['BT', 'BT'], off: g.pad };
  const to = backward
    ? { c: g.cin, size: g.inSize, names: ['B', 'B'] as ['B', 'B'], off: g.pad }
    : { c: g.cout, size: g.outSize, names: ['AT', 'AT'] as ['AT', 'AT'], off: [0, 0, 0] };
  const u = weights3d(w, g, plan, backward);
  for (let n = 0; n < g.n; n++) {
    const v = transform3d(entry(src, n, from.c, from.size), from.c, from.size, plan, from.names, from.off);
    const mm = gpu.empty([pts, to.c, tiles]);
    gemmBlockedA(
      u,
      { batch: pts, m: to.c, k: from.c },
      v.view([pts, from.c, tiles]),
      null,
      false,
      mm,
      backward ? 'conv3dBackwardInput (Winograd)' : 'conv3d (Winograd)',
    );
    v.release();
    gather3d(mm, to.c, to.size, plan, to.names, to.off, entry(dst, n, to.c, to.size));
    mm.release();
  }
  u.release();
}

function fullBackwardWeight(dy: GpuTensor, x: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dw: GpuTensor): void {
  const gpu = dy.gpu;
  const pts = 16 * plan.points;
  const tiles = plan.tiles * plan.full!.tilesH * plan.full!.tilesW;
  const size = pts * g.cout * g.cin;
  // One partial dU per batch entry, summed by the split-K reduction (matmul does not accumulate).
  const du = gpu.empty([g.n * size]);
  for (let n = 0; n < g.n; n++) {
    const v = transform3d(entry(x, n, g.cin, g.inSize), g.cin, g.inSize, plan, ['BT', 'BT'], g.pad);
    const dm = transform3d(entry(dy, n, g.cout, g.outSize), g.cout, g.outSize, plan, ['A', 'A'], [0, 0, 0]);
    matmul(dm.view([pts, g.cout, tiles]), v.view([pts, g.cin, tiles]), { transB: true }, g.n === 1 ? du : du.viewAt(n * size, [size]));
    v.release();
    dm.release();
  }
  let sum = du;
  if (g.n > 1) {
    sum = gpu.empty([size]);
    const [gx, gy] = elementGrid(gpu, size, elementWg(gpu));
    gpu.dispatch(convReduceSplitsKernel, {
      bind: { parts: du, out: sum },
      uniforms: { params: { n: size, parts: g.n } },
      overrides: { WG: elementWg(gpu) },
      workgroups: [gx, gy, 1],
    });
    du.release();
  }
  // dU [4 (kw)][4 (kh)][m + 2 (kd)][Cout][Cin] back to taps one axis at a time, Cin innermost (vec4s when
  // Cin is a multiple of four; step 3: one tile of all three taps), then [Cout, 27, Cin] → [Cout, Cin, 27].
  const cc = g.cout * g.cin;
  const pd = plan.points;
  const a = gpu.empty([4 * pd * cc * 3]);
  gather4(sum, a, 2, 'GT', { outer: 4 * pd * g.cout, depth: 3, inner: g.cin, tiles: 1, step: 3, off: 0, pStride: 4 * pd * cc });
  sum.release();
  const b = gpu.empty([pd * cc * 9]);
  gather4(a, b, 2, 'GT', { outer: pd * g.cout, depth: 3, inner: 3 * g.cin, tiles: 1, step: 3, off: 0, pStride: pd * cc * 3 });
  a.release();
  const c = gpu.empty([g.cout, 27, g.cin]);
  gather4(b, c, plan.m, 'GT', { outer: g.cout, depth: 3, inner: 9 * g.cin, tiles: 1, step: 3, off: 0, pStride: cc * 9 });
  b.release();
  swapAxes(c, 1, 2, dw.view([g.cout, g.cin, 27]) as GpuTensor<'f32'>);
  c.release();
}
