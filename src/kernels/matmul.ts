/**
 * f32 GEMM on the device: C = op(A)·op(B) (+ bias), batched over a leading axis. The B operand is
 * first packed into panels of 16 columns (`packPanels`, shared with the convolution kernels) and then
 * multiplied by one of two kernel families (tuning.ts picks per adapter): a register-blocked kernel that
 * broadcasts the panel across each subgroup (matmul.wgsl; needs `subgroups`), or register tiles fed
 * from a workgroup-memory stage of the panel (matmul-tiled.wgsl; needs no optional feature). It is the
 * device's f32 ceiling that the convolutions are measured against (bench/matmul.bench.ts).
 */
import type { Gpu } from '../gpu/gpu.js';
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';

type F32 = GpuTensor<'f32'>;
import { defineKernel, elementGrid } from './define.js';
import { type GemmTile, PANEL, type TiledTile, elementWg, fitTile, fitTiledTile, gemmPath, groupInvocations, tuningFor } from './tuning.js';

export const packKernel = defineKernel({
  name: 'gemm-pack',
  shader: 'matmul/pack',
  bindings: { params: 'uniform', src: 'read', out: 'read_write' },
  constants: { TN: PANEL },
});

export const blockKKernel = defineKernel({
  name: 'gemm-block-k',
  shader: 'matmul/block-k',
  bindings: { params: 'uniform', src: 'read', out: 'read_write' },
});

export const matmulKernel = defineKernel({
  name: 'matmul',
  shader: 'matmul/matmul',
  bindings: { params: 'uniform', ab: 'read', bp: 'read', bias: 'read', c: 'read_write' },
  constants: { TN: PANEL },
});

export const matmulTiledKernel = defineKernel({
  name: 'matmul-tiled',
  shader: 'matmul/matmul-tiled',
  bindings: { params: 'uniform', ab: 'read', bp: 'read', bias: 'read', c: 'read_write' },
  constants: { TN: PANEL },
});

/** Rows of the output one workgroup of a tiled kernel covers: its invocations per column group × TM. */
export function tiledRows(t: TiledTile): number {
  return groupInvocations(t) * t.tm;
}

/** The pipeline constants of a tiled kernel. */
export function tiledOverrides(t: TiledTile): Record<string, number> {
  return { WG: t.wg, TM: t.tm, TNQ: t.tnq, KC: t.kc };
}

/** The pipeline constants of a broadcast kernel (matmul/broadcast-tile.part.wgsl). */
export function broadcastOverrides(gpu: Gpu, t: GemmTile): Record<string, number> {
  return { WG: t.wg, TM: t.tm, SG8: tuningFor(gpu).sg8 ? 1 : 0 };
}

/** Checks that a tensor holds f32 data and returns it typed as such. */
export function asF32(t: GpuTensor, op: string, name: string): F32 {
  if (t.dtype !== 'f32') throw new GpuError('usage', `${op}: ${name} must be an f32 tensor, got ${t.dtype}`);
  return t as F32;
}

/**
 * How a packing reads its source: reduction index k = r·innerPad + i, element (col, r, i) at
 * src[base + batch·srcBatchStride + col·sCol + r·sRow + i·sInner], zero outside cols × rows × inner.
 */
export interface PanelSource {
  cols: number;
  rows: number;
  inner: number;
  sCol: number;
  sRow: number;
  sInner: number;
  batch?: number;
  srcBatchStride?: number;
  /** Element offset of the first source matrix. */
  base?: number;
}

/** A packed operand: `kp` groups of four reduction elements per panel; free it with `tensor.release()`. */
export interface Panels {
  tensor: F32;
  kp: number;
  /** Inner extent padded to a multiple of 4. */
  innerPad: number;
  panels: number;
  /** vec4 elements per batch entry. */
  perBatch: number;
}

/** Packs `src` into 16-column panels (see shaders/matmul/pack.wgsl for the layout). */
export function packPanels(src: GpuTensor, s: PanelSource): Panels {
  const gpu = src.gpu;
  const innerPad = Math.ceil(s.inner / 4) * 4;
  const kp = (s.rows * innerPad) / 4;
  const panels = Math.ceil(s.cols / PANEL);
  const perBatch = panels * kp * PANEL;
  const batch = s.batch ?? 1;
  if (batch > gpu.limits.maxComputeWorkgroupsPerDimension!) throw new GpuError('over-limit', `pack: batch ${batch} exceeds the dispatch limit`);
  const tensor = gpu.empty([batch * perBatch * 4]);
  const [gx, gy] = elementGrid(gpu, perBatch, elementWg(gpu));
  gpu.dispatch(packKernel, {
    bind: { src, out: tensor },
    uniforms: {
      params: {
        cols: s.cols,
        rows: s.rows,
        inner: s.inner,
        innerPad,
        sCol: s.sCol,
        sRow: s.sRow,
        sInner: s.sInner,
        kp,
        total: perBatch,
        srcBatchStride: s.srcBatchStride ?? 0,
        srcBase: s.base ?? 0,
      },
    },
    overrides: { WG: elementWg(gpu) },
    workgroups: [gx, gy, batch],
  });
  return { tensor, kp, innerPad, panels, perBatch };
}

/** How `blockK` reads its source: element (row r, reduction index k) of batch b at src[b·srcBatch + r·sRow + k·sK]. */
export interface BlockSource {
  rows: number;
  k: number;
  sRow: number;
  sK: number;
  batch?: number;
  srcBatch?: number;
  /** Element offset of batch entry 0 in src (for chunks of a batch). */
  srcBase?: number;
}

/**
 * Re-lays a GEMM's per-invocation operand out in k-blocks of four: vec4 element (b·K4 + k4)·rows + r holds
 * k = 4k4..4k4+3 of row r (zero past K). See shaders/matmul/block-k.wgsl. Free it with `release()`.
 */
export function blockK(src: GpuTensor, s: BlockSource): { tensor: F32; k4: number } {
  const gpu = src.gpu;
  const k4 = Math.ceil(s.k / 4);
  const batch = s.batch ?? 1;
  const total = k4 * s.rows;
  if (batch > gpu.limits.maxComputeWorkgroupsPerDimension!) throw new GpuError('over-limit', `blockK: batch ${batch} exceeds the dispatch limit`);
  const tensor = gpu.empty([batch * total * 4]);
  const [gx, gy] = elementGrid(gpu, total, elementWg(gpu));
  gpu.dispatch(blockKKernel, {
    bind: { src, out: tensor },
    uniforms: { params: { rows: s.rows, k: s.k, k4, sRow: s.sRow, sK: s.sK, srcBatch: s.srcBatch ?? 0, srcBase: s.srcBase ?? 0 } },
    overrides: { WG: elementWg(gpu) },
    workgroups: [gx, gy, batch],
  });
  return { tensor, k4 };
}

/** Splits a row-block count into dispatches of at most the per-dimension workgroup limit. */
export function rowChunks(gpu: Gpu, blocks: number): { first: number; count: number }[] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension!;
  const out: { first: number; count: number }[] = [];
  for (let first = 0; first < blocks; first += max) out.push({ first, count: Math.min(max, blocks - first) });
  return out;
}

export interface MatmulOptions {
  /** A is given as [K, M] (or [B, K, M]) and used transposed. */
  transA?: boolean;
  /** B is given as [N, K] (or [B, N, K]) and used transposed. */
  transB?: boolean;
}

interface Operand {
  batch: number;
  rows: number;
  cols: number;
}

function operand(t: GpuTensor, name: string): Operand {
  if (t.shape.length === 2) return { batch: 1, rows: t.shape[0]!, cols: t.shape[1]! };
  if (t.shape.length === 3) return { batch: t.shape[0]!, rows: t.shape[1]!, cols: t.shape[2]! };
  throw new GpuError('usage', `matmul: ${name} must be a matrix [rows, cols] or a batch of them [B, rows, cols], got [${t.shape.join(', ')}]`);
}

/**
 * C = op(A)·op(B): A [M, K] (transA: [K, M]), B [K, N] (transB: [N, K]); either may carry a leading
 * batch axis [B, …] (a 2-D operand is shared by every batch entry). Returns [M, N] or [B, M, N].
 */
export function matmul(a: GpuTensor, b: GpuTensor, opts: MatmulOptions = {}, out?: GpuTensor): F32 {
  return gemm(a, b, null, opts, out, 'matmul');
}

/** matmul plus a bias [N] added to every row (the linear layer's forward). */
export function gemm(a: GpuTensor, b: GpuTensor, bias: GpuTensor | null, opts: MatmulOptions, out: GpuTensor | undefined, op: string): F32 {
  const gpu = a.gpu;
  if (b.gpu !== gpu) throw new GpuError('usage', `${op}: operands belong to different devices`);
  const A = operand(a, 'A');
  const B = operand(b, 'B');
  const [m, k] = opts.transA ? [A.cols, A.rows] : [A.rows, A.cols];
  const [kb, n] = opts.transB ? [B.cols, B.rows] : [B.rows, B.cols];
  if (k !== kb) {
    throw new GpuError(
      'usage',
      `${op}: inner sizes differ: op(A) is [${m}, ${k}] and op(B) is [${kb}, ${n}] (A [${a.shape.join(', ')}]${opts.transA ? 'ᵀ' : ''}, B [${b.shape.join(', ')}]${opts.transB ? 'ᵀ' : ''})`,
    );
  }
  if (A.batch !== B.batch && A.batch !== 1 && B.batch !== 1) {
    throw new GpuError('usage', `${op}: batch sizes ${A.batch} and ${B.batch} differ (one of them may be 1 or absent to broadcast)`);
  }
  const batch = Math.max(A.batch, B.batch);
  const batched = a.shape.length === 3 || b.shape.length === 3;
  const outShape = batched ? [batch, m, n] : [m, n];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    throw new GpuError('usage', `${op}: bias must be [${n}], got [${bias.shape.join(', ')}]`);
  }
  asF32(a, op, 'A');
  asF32(b, op, 'B');
  if (bias) asF32(bias, op, 'bias');
  const c = out ? asF32(out, op, 'output') : gpu.empty(outShape);
  if (c.size !== batch * m * n) throw new GpuError('usage', `${op}: output has ${c.size} elements, expected [${outShape.join(', ')}]`);
  if (c === a || c === b || c === bias) throw new GpuError('usage', `${op}: the output must not alias an input`);
  if (m === 0 || n === 0) return c;
  if (k === 0) throw new GpuError('usage', `${op}: the inner size K is 0; the product would be all zeros — fill the output instead`);

  const ab = blockK(a, { rows: m, k, sRow: opts.transA ? 1 : k, sK: opts.transA ? m : 1, batch: A.batch, srcBatch: m * k });
  gemmBlockedA(ab.tensor, { batch: A.batch, m, k }, b, bias, opts.transB ?? false, c, op);
  ab.tensor.release();
  return c;
}

/**
 * The GEMM after gemm()'s checks, on an A already blocked into k-groups of four (blockK's layout:
 * ab[(b·⌈K/4⌉ + k4)·M + m] = A[b][m, 4k4..4k4+3]) — for callers that produce A in that layout directly
 * (the 3-D Winograd convolution transforms its weights into it). B is [K, N] ([N, K] with transB),
 * optionally batched; c receives [batch, M, N].
 */
export function gemmBlockedA(
  ab: GpuTensor,
  a: { batch: number; m: number; k: number },
  b: GpuTensor,
  bias: GpuTensor | null,
  transB: boolean,
  c: GpuTensor,
  op: string,
): void {
  const gpu = b.gpu;
  const B = operand(b, 'B');
  const { m, k } = a;
  const [kb, n] = transB ? [B.cols, B.rows] : [B.rows, B.cols];
  if (kb !== k) throw new GpuError('usage', `${op}: inner sizes differ: A has ${k} columns, op(B) has ${kb} rows`);
  const batch = Math.max(a.batch, B.batch);
  const k4 = Math.ceil(k / 4);
  if (ab.size < a.batch * k4 * m * 4) throw new GpuError('usage', `${op}: blocked A has ${ab.size} elements, expected ${a.batch * k4 * m * 4}`);
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension!;
  const bp = packPanels(b, {
    cols: n,
    rows: 1,
    inner: k,
    sCol: transB ? k : 1,
    sRow: 0,
    sInner: transB ? 1 : n,
    batch: B.batch,
    srcBatchStride: k * n,
  });
  if (bp.panels > maxDim || batch > maxDim)
    throw new GpuError('over-limit', `${op}: [${m}, ${n}] × batch ${batch} needs more workgroups than this adapter allows per dimension`);
  const shape = { m, n, kp: bp.kp, batchA: a.batch === 1 ? 0 : k4 * m, batchC: m * n, panelBatch: B.batch === 1 ? 0 : bp.panels * bp.kp };
  if (gemmPath(gpu, 'matmul', 'gemm') === 'tiled') {
    const tile = fitTiledTile(tuningFor(gpu).tiled.matmul, m);
    const rowsPerGroup = tiledRows(tile);
    for (const chunk of rowChunks(gpu, Math.ceil(m / rowsPerGroup))) {
      gpu.dispatch(matmulTiledKernel, {
        bind: { ab, bp: bp.tensor, bias: bias ?? ab, c },
        uniforms: { params: { ...shape, rowBase: chunk.first * rowsPerGroup } },
        overrides: { ...tiledOverrides(tile), HAS_BIAS: bias ? 1 : 0 },
        workgroups: [chunk.count, bp.panels, batch],
      });
    }
    bp.tensor.release();
    return;
  }
  const tile = fitTile(tuningFor(gpu).matmul, m);
  const rowsPerGroup = tile.wg * tile.tm;
  for (const chunk of rowChunks(gpu, Math.ceil(m / rowsPerGroup))) {
    gpu.dispatch(matmulKernel, {
      bind: { ab, bp: bp.tensor, bias: bias ?? ab, c },
      uniforms: {
        params: { ...shape, rowBase: chunk.first * rowsPerGroup },
      },
      overrides: { ...broadcastOverrides(gpu, tile), HAS_BIAS: bias ? 1 : 0 },
      workgroups: [chunk.count, bp.panels, batch],
    });
  }
  bp.tensor.release();
}
