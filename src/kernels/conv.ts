/**
 * The convolution family on the device — 3D convolution on NCDHW tensors with per-axis stride,
 * padding and dilation (2D convs are kD = 1) — as three implicit GEMMs sharing the register-blocked,
 * subgroup-broadcast scheme of matmul.ts:
 *  - forward:          rows (n, zo, yo, xo), columns co, reduction (ci, kd, kh, kw);
 *  - backward-input:   rows (n, z, y, x) of one stride phase, columns ci, reduction over the taps that
 *                      reach that phase × co (taps that cannot contribute are skipped, not masked);
 *                      for thin inputs (the stem) a 1×1×1 product of dy with every tap's weights
 *                      followed by a gather (conv/col2im.wgsl);
 *  - backward-weight:  rows (ci, kd, kh, kw), columns co, reduction over (n, zo, yo, xo), split across
 *                      workgroups (split-K) and summed by a small reduction kernel when it is long.
 * The broadcast operand — the weight (forward, backward-input) or dy (backward-weight) — is packed into
 * 16-channel panels first, and the per-invocation operand re-laid for vec4 loads (channels in fours, or
 * sliding windows along W for the stem). All of these re-layouts are O(tensor size), small next to the
 * GEMM; their temporaries are released before the op returns.
 *
 * Convolutions with a 3-tap depth kernel and depth stride 1 (3×3×3, 3×1×1) can instead run through
 * Winograd's F(m, 3) along depth (`winograd-matrices.ts`): the input and weight are transformed along
 * depth into m + 2 points (conv/wino-window.wgsl), each point is an ordinary 1×kH×kW convolution through
 * the kernels above, and the points are folded back (conv/wino-gather.wgsl) — (m + 2)/(3m) of the direct
 * multiply-adds (1/2 for F(4, 3), 4/9 for F(6, 3)) for all three passes. The tuning chooses the tile
 * sizes per adapter (`depthWinograd`); the float64 reference of the same decomposition is in
 * `winograd.ref.ts`.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, grid1d } from './define.js';
import { PANEL, type BlockSource, type PanelSource, type Panels, asF32, blockK, packPanels, rowChunks } from './matmul.js';
import { bindingLimit, fitTile, tuningFor } from './tuning.js';
import { winogradMatrices } from './winograd-matrices.js';
import type { Gpu } from '../gpu/gpu.js';
import { BufferUsage } from '../gpu/flags.js';

type F32 = GpuTensor<'f32'>;
export type Triple = readonly [number, number, number];

export interface ConvOptions {
  /** Per-axis stride (depth, height, width); default [1, 1, 1]. */
  stride?: Triple;
  /** Symmetric zero padding per axis; default [0, 0, 0]. */
  pad?: Triple;
  /** Per-axis dilation; default [1, 1, 1]. */
  dilation?: Triple;
}

export const convForwardKernel = defineKernel({
  name: 'conv-forward',
  shader: 'conv/forward',
  bindings: { params: 'uniform', xb: 'read', wp: 'read', y: 'read_write' },
});

export const convWindowKernel = defineKernel({
  name: 'conv-forward-window',
  shader: 'conv/window',
  bindings: { params: 'uniform', x: 'read', xw: 'read_write' },
});

export const convBackwardInputKernel = defineKernel({
  name: 'conv-backward-input',
  shader: 'conv/backward-input',
  bindings: { params: 'uniform', dyb: 'read', wp: 'read', dx: 'read_write' },
});

export const convBackwardWeightKernel = defineKernel({
  name: 'conv-backward-weight',
  shader: 'conv/backward-weight',
  bindings: { params: 'uniform', x: 'read', xb: 'read', dyp: 'read', dw: 'read_write' },
});

export const convCol2imKernel = defineKernel({
  name: 'conv-backward-input-col2im',
  shader: 'conv/col2im',
  bindings: { params: 'uniform', cols: 'read', dx: 'read_write' },
});

export const convReduceSplitsKernel = defineKernel({
  name: 'conv-backward-weight-reduce',
  shader: 'conv/reduce-splits',
  bindings: { params: 'uniform', parts: 'read', out: 'read_write' },
});

export const convWinogradWindowKernel = defineKernel({
  name: 'conv-winograd-window',
  shader: 'conv/wino-window',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
});

export const convWinogradWindow4Kernel = defineKernel({
  name: 'conv-winograd-window-vec4',
  shader: 'conv/wino-window4',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
});

export const convWinogradGatherKernel = defineKernel({
  name: 'conv-winograd-gather',
  shader: 'conv/wino-gather',
  bindings: { params: 'uniform', mat: 'read', src: 'read', dst: 'read_write' },
});

/** Validated geometry of one convolution. */
export interface ConvGeometry {
  n: number;
  cin: number;
  cout: number;
  inSize: [number, number, number];
  kernel: [number, number, number];
  outSize: [number, number, number];
  stride: [number, number, number];
  pad: [number, number, number];
  dilation: [number, number, number];
}

function triple(v: Triple | undefined, fallback: number, min: number, what: string): [number, number, number] {
  const t = v ?? [fallback, fallback, fallback];
  if (t.length !== 3 || !t.every((e) => Number.isInteger(e) && e >= min)) {
    throw new GpuError('usage', `conv3d ${what} must be three integers >= ${min} in (depth, height, width) order, got [${Array.from(t).join(', ')}]`);
  }
  return [t[0], t[1], t[2]];
}

/** Output extent along one axis: floor((in + 2p − dil·(k − 1) − 1) / s) + 1 (PyTorch's formula). */
export function convOutSize(inSize: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((inSize + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** Checks shapes and parameters and returns the geometry (output size included). */
export function convGeometry(xShape: readonly number[], wShape: readonly number[], opts: ConvOptions = {}): ConvGeometry {
  if (xShape.length !== 5) throw new GpuError('usage', `conv3d input must be [N, Cin, D, H, W], got [${xShape.join(', ')}]; add size-1 axes for 2D data`);
  if (wShape.length !== 5) throw new GpuError('usage', `conv3d weight must be [Cout, Cin, kD, kH, kW], got [${wShape.join(', ')}]`);
  for (const [s, what] of [[xShape, 'input'], [wShape, 'weight']] as const) {
    if (!s.every((e) => Number.isInteger(e) && e >= 1)) throw new GpuError('usage', `conv3d ${what} shape [${s.join(', ')}] has an extent < 1`);
  }
  const stride = triple(opts.stride, 1, 1, 'stride');
  const pad = triple(opts.pad, 0, 0, 'pad');
  const dilation = triple(opts.dilation, 1, 1, 'dilation');
  const [n, cin, d, h, w] = xShape as [number, number, number, number, number];
  const [cout, wcin, kd, kh, kw] = wShape as [number, number, number, number, number];
  if (wcin !== cin) throw new GpuError('usage', `conv3d weight has ${wcin} input channels but the input has ${cin}; weight must be [Cout, ${cin}, kD, kH, kW]`);
  const inSize: [number, number, number] = [d, h, w];
  const kernel: [number, number, number] = [kd, kh, kw];
  const outSize = [0, 1, 2].map((i) => convOutSize(inSize[i]!, kernel[i]!, stride[i]!, pad[i]!, dilation[i]!)) as [number, number, number];
  if (outSize.some((o) => o < 1)) {
    throw new GpuError(
      'usage',
      `conv3d output would be empty ([${outSize.join(', ')}]) for input [${inSize.join(', ')}], kernel [${kernel.join(', ')}], ` +
        `stride [${stride.join(', ')}], pad [${pad.join(', ')}], dilation [${dilation.join(', ')}]; enlarge the input or the padding`,
    );
  }
  return { n, cin, cout, inSize, kernel, outSize, stride, pad, dilation };
}

export function convOutputShape(xShape: readonly number[], wShape: readonly number[], opts: ConvOptions = {}): number[] {
  const g = convGeometry(xShape, wShape, opts);
  return [g.n, g.cout, ...g.outSize];
}

const prod = (t: readonly number[]) => t.reduce((a, b) => a * b, 1);


function checkOut(op: string, out: GpuTensor | undefined, shape: readonly number[], inputs: GpuTensor[]): void {
  if (!out) return;
  if (out.shape.length !== shape.length || out.shape.some((s, i) => s !== shape[i])) {
    throw new GpuError('usage', `${op}: output is [${out.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if (inputs.includes(out)) throw new GpuError('usage', `${op}: the output must not alias an input`);
}

function needSubgroups(op: string, t: GpuTensor): void {
  if (!t.gpu.features.has('subgroups')) {
    throw new GpuError('usage', `${op}: this adapter (${t.gpu.adapter.description}) lacks the 'subgroups' feature the convolution kernels need`);
  }
}

function geometryUniforms(g: ConvGeometry) {
  return { inSize: g.inSize, outSize: g.outSize, kernel: g.kernel, stride: g.stride, pad: g.pad, dilation: g.dilation, cin: g.cin, cout: g.cout };
}

/**
 * y = conv3d(x, w): x [N, Cin, D, H, W], w [Cout, Cin, kD, kH, kW] → y [N, Cout, Do, Ho, Wo].
 * Cross-correlation with zero padding, no bias, as PyTorch's conv3d.
 */
export function conv3d(x: GpuTensor, w: GpuTensor, opts: ConvOptions = {}, out?: GpuTensor): F32 {
  needSubgroups('conv3d', x);
  const g = convGeometry(x.shape, w.shape, opts);
  const yShape = [g.n, g.cout, ...g.outSize];
  checkOut('conv3d', out, yShape, [x, w]);
  asF32(x, 'conv3d', 'x');
  asF32(w, 'conv3d', 'w');
  const y = out ? asF32(out, 'conv3d', 'output') : x.gpu.empty(yShape);
  const wino = winogradPlan(x.gpu, g);
  if (wino) {
    winogradForward(x, w, g, wino, y);
    return y;
  }
  const taps = prod(g.kernel);
  // Walk the reduction with the inner axis that wastes least padding: ci when Cin fills groups of four
  // (every layer but the stem), kw for a thin input (the stem's single channel).
  const wasteCi = Math.ceil(g.cin / 4) * 4 * g.kernel[2];
  const wasteKw = Math.ceil(g.kernel[2] / 4) * 4 * g.cin;
  const innerKw = wasteKw < wasteCi;
  const wp = innerKw
    ? packPanels(w, { cols: g.cout, rows: g.cin * g.kernel[0] * g.kernel[1], inner: g.kernel[2], sCol: g.cin * taps, sRow: g.kernel[2], sInner: 1 })
    : packPanels(w, forwardPanels(g));
  forwardPacked(x, g, wp, innerKw, y);
  wp.tensor.release();
  return y;
}

/** Forward weight panels: columns co, reduction (tap, ci) with ci innermost: w[co, ci, tap] at co·Cin·taps + ci·taps + tap. */
function forwardPanels(g: ConvGeometry): PanelSource {
  const taps = prod(g.kernel);
  return { cols: g.cout, rows: taps, inner: g.cin, sCol: g.cin * taps, sRow: 1, sInner: taps };
}

/** The forward GEMM on already packed weights (conv3d, and the thin-input input gradient). */
function forwardPacked(x: GpuTensor, g: ConvGeometry, wp: Panels, innerKw: boolean, y: GpuTensor): void {
  const gpu = x.gpu;
  const plane = prod(g.inSize);
  const groups = wp.innerPad / 4;
  // xb: channels in fours (blocked path) or sliding windows of four along W (thin path, the stem). A
  // batch whose xb would exceed one binding is convolved a few entries at a time.
  const winLen = innerKw ? Math.max(g.inSize[2] + 2 * g.pad[2], (g.outSize[2] - 1) * g.stride[2] + 4 * (groups - 1) * g.dilation[2] + 1) : 0;
  const perEntry = 16 * (innerKw ? g.cin * g.inSize[0] * g.inSize[1] * winLen : groups * plane);
  const limit = bindingLimit(gpu);
  if (perEntry > limit) {
    throw new GpuError('over-limit', `conv3d: one batch entry of [${g.cin}, ${g.inSize.join(', ')}] needs ${perEntry} bytes of re-laid input, more than this adapter's binding limit ${limit}; crop or resize the volume`);
  }
  const perChunk = Math.max(1, Math.floor(limit / perEntry));
  for (let n0 = 0; n0 < g.n; n0 += perChunk) {
    const n1 = Math.min(g.n, n0 + perChunk);
    let xb: GpuTensor;
    if (innerKw) {
      const rowsPerEntry = g.cin * g.inSize[0] * g.inSize[1];
      const rows = (n1 - n0) * rowsPerEntry;
      xb = gpu.empty([rows * winLen * 4]);
      const [gx, gy] = grid1d(rows * winLen, 256, gpu.limits.maxComputeWorkgroupsPerDimension);
      gpu.dispatch(convWindowKernel, {
        bind: { x, xw: xb },
        uniforms: { params: { rows, w: g.inSize[2], winLen: winLen, padW: g.pad[2], dilW: g.dilation[2], rowBase: n0 * rowsPerEntry } },
        overrides: { WG: 256 },
        workgroups: [gx, gy, 1],
      });
    } else {
      xb = blockK(x, { ...inputBlocks(g), batch: n1 - n0, srcBase: n0 * g.cin * plane }).tensor;
    }
    forwardGemm(xb, g, wp, innerKw, winLen, n0, n1, y);
    xb.release();
  }
}

/** The forward GEMM over batch entries n0..n1 − 1, whose re-laid input `xb` starts at entry n0. */
function forwardGemm(xb: GpuTensor, g: ConvGeometry, wp: Panels, innerKw: boolean, winLen: number, n0: number, n1: number, y: GpuTensor): void {
  const gpu = xb.gpu;
  const tile = fitTile(tuningFor(gpu).convForward, g.n * prod(g.outSize));
  const rowsPerGroup = tile.wg * tile.tm;
  const outPlane = prod(g.outSize);
  const m = n1 * outPlane;
  for (const chunk of rowChunks(gpu, Math.ceil((m - n0 * outPlane) / rowsPerGroup))) {
    gpu.dispatch(convForwardKernel, {
      bind: { xb, wp: wp.tensor, y },
      uniforms: { params: { ...geometryUniforms(g), m, kp: wp.kp, groups: wp.innerPad / 4, rowBase: n0 * outPlane + chunk.first * rowsPerGroup, winLen, nBase: n0 } },
      overrides: { WG: tile.wg, TM: tile.tm, SG8: tuningFor(gpu).sg8 ? 1 : 0, INNER_KW: innerKw ? 1 : 0 },
      workgroups: [chunk.count, wp.panels, 1],
    });
  }
}

/** Stride phases of dx: positions with the same remainder mod the stride see the same set of taps. */
function phases(g: ConvGeometry): { index: number; rem: [number, number, number]; count: [number, number, number] }[] {
  const out = [];
  const [sd, sh, sw] = g.stride;
  for (let a = 0; a < sd; a++) {
    for (let b = 0; b < sh; b++) {
      for (let c = 0; c < sw; c++) {
        const rem: [number, number, number] = [a, b, c];
        const count = [0, 1, 2].map((i) => Math.max(0, Math.ceil((g.inSize[i]! - rem[i]!) / g.stride[i]!))) as [number, number, number];
        out.push({ index: (a * sh + b) * sw + c, rem, count });
      }
    }
  }
  return out;
}

/**
 * dx = ∂(Σ y·dy)/∂x for y = conv3d(x, w, opts): dy [N, Cout, Do, Ho, Wo], w [Cout, Cin, kD, kH, kW],
 * xShape [N, Cin, D, H, W] → dx of xShape.
 */
export function conv3dBackwardInput(dy: GpuTensor, w: GpuTensor, xShape: readonly number[], opts: ConvOptions = {}, out?: GpuTensor): F32 {
  needSubgroups('conv3dBackwardInput', dy);
  const g = convGeometry(xShape, w.shape, opts);
  const gpu = dy.gpu;
  const yShape = [g.n, g.cout, ...g.outSize];
  if (dy.shape.length !== 5 || dy.shape.some((s, i) => s !== yShape[i])) {
    throw new GpuError('usage', `conv3dBackwardInput: dy is [${dy.shape.join(', ')}] but the forward output is [${yShape.join(', ')}]`);
  }
  checkOut('conv3dBackwardInput', out, xShape, [dy, w]);
  asF32(dy, 'conv3dBackwardInput', 'dy');
  asF32(w, 'conv3dBackwardInput', 'w');
  const dx = out ? asF32(out, 'conv3dBackwardInput', 'output') : gpu.empty(xShape);
  const wino = winogradPlan(gpu, g);
  if (wino) {
    winogradBackwardInput(dy, w, g, wino, dx);
    return dx;
  }
  const taps = prod(g.kernel);
  const [kd, kh, kw] = g.kernel;
  const tapRows = kd * kh;
  const rowBytes = 4 * g.n * kw * prod(g.outSize);
  const limit = bindingLimit(gpu);
  if (g.cin <= tuningFor(gpu).thinInputChannels && rowBytes <= limit) {
    // Thin input (the stem): 16-channel panels over Cin would be mostly padding. Multiply dy by every
    // tap's weights instead (a 1×1×1 convolution of dy into one channel per tap), then gather — one input
    // channel and as many rows of taps (kd, kh) at a time as fit one binding.
    const rowsPerChunk = Math.min(tapRows, Math.floor(limit / rowBytes));
    const ph = phases(g);
    const maxPhase = Math.max(...ph.map((p) => g.n * prod(p.count)));
    const [gx, gy] = grid1d(maxPhase, 64, gpu.limits.maxComputeWorkgroupsPerDimension);
    for (let ci = 0; ci < g.cin; ci++) {
      for (let r0 = 0; r0 < tapRows; r0 += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, tapRows - r0);
        const cols = rows * kw;
        const colsGeom: ConvGeometry = { n: g.n, cin: g.cout, cout: cols, inSize: g.outSize, kernel: [1, 1, 1], outSize: g.outSize, stride: [1, 1, 1], pad: [0, 0, 0], dilation: [1, 1, 1] };
        // Column c of the chunk is tap r0·kW + c of input channel ci: w[co, ci, tap] at co·Cin·taps + ci·taps + tap.
        const wp = packPanels(w, { cols, rows: 1, inner: g.cout, sCol: 1, sRow: 0, sInner: g.cin * taps, base: ci * taps + r0 * kw });
        const products = gpu.empty([g.n, cols, ...g.outSize]);
        forwardPacked(dy, colsGeom, wp, false, products);
        wp.tensor.release();
        gpu.dispatch(convCol2imKernel, {
          bind: { cols: products, dx },
          uniforms: {
            params: {
              inSize: g.inSize,
              outSize: g.outSize,
              kernel: g.kernel,
              stride: g.stride,
              pad: g.pad,
              dilation: g.dilation,
              n: g.n,
              cin: g.cin,
              ci,
              rowFirst: r0,
              rowCount: rows,
              accumulate: r0 > 0 ? 1 : 0,
            },
          },
          overrides: { WG: 64 },
          workgroups: [gx, gy, ph.length],
        });
        products.release();
      }
    }
    return dx;
  }
  // Columns ci; reduction (tap, co) with co innermost: w[co, ci, tap] at co·Cin·taps + ci·taps + tap.
  const wp = packPanels(w, backwardInputPanels(g));
  const dyb = blockK(dy, outputBlocks(g));
  backwardInputGemm(dyb.tensor, wp, g, dx);
  wp.tensor.release();
  dyb.tensor.release();
  return dx;
}

/** Weight panels of the input gradient: columns ci, reduction (tap, co) with co innermost. */
function backwardInputPanels(g: ConvGeometry): PanelSource {
  const taps = prod(g.kernel);
  return { cols: g.cin, rows: taps, inner: g.cout, sCol: taps, sRow: 1, sInner: g.cin * taps };
}

/** dy [N, Cout, Do, Ho, Wo] with channels in fours: one vec4 per (n, channel quad, output voxel). */
function outputBlocks(g: ConvGeometry): BlockSource {
  const oplane = prod(g.outSize);
  return { rows: oplane, k: g.cout, sRow: 1, sK: oplane, batch: g.n, srcBatch: g.cout * oplane };
}

/** The input-gradient GEMM on blocked dy and packed weights, every stride phase of dx at once. */
function backwardInputGemm(dyb: GpuTensor, wp: Panels, g: ConvGeometry, dx: GpuTensor): void {
  const gpu = dyb.gpu;
  const ph = phases(g);
  const maxM = Math.max(...ph.map((p) => g.n * prod(p.count)));
  const tile = fitTile(tuningFor(gpu).convBackwardInput, maxM);
  const rowsPerGroup = tile.wg * tile.tm;
  for (const chunk of rowChunks(gpu, Math.ceil(maxM / rowsPerGroup))) {
    gpu.dispatch(convBackwardInputKernel, {
      bind: { dyb, wp: wp.tensor, dx },
      uniforms: { params: { ...geometryUniforms(g), n: g.n, kp: wp.kp, groups: wp.innerPad / 4, rowBase: chunk.first * rowsPerGroup } },
      overrides: { WG: tile.wg, TM: tile.tm, SG8: tuningFor(gpu).sg8 ? 1 : 0 },
      workgroups: [chunk.count, wp.panels, ph.length],
    });
  }
}

/**
 * dw = ∂(Σ y·dy)/∂w for y = conv3d(x, w, opts): dy [N, Cout, Do, Ho, Wo], x [N, Cin, D, H, W],
 * wShape [Cout, Cin, kD, kH, kW] → dw of wShape.
 */
export function conv3dBackwardWeight(dy: GpuTensor, x: GpuTensor, wShape: readonly number[], opts: ConvOptions = {}, out?: GpuTensor): F32 {
  needSubgroups('conv3dBackwardWeight', dy);
  const g = convGeometry(x.shape, wShape, opts);
  const gpu = dy.gpu;
  const yShape = [g.n, g.cout, ...g.outSize];
  if (dy.shape.length !== 5 || dy.shape.some((s, i) => s !== yShape[i])) {
    throw new GpuError('usage', `conv3dBackwardWeight: dy is [${dy.shape.join(', ')}] but the forward output is [${yShape.join(', ')}]`);
  }
  checkOut('conv3dBackwardWeight', out, wShape, [dy, x]);
  asF32(dy, 'conv3dBackwardWeight', 'dy');
  asF32(x, 'conv3dBackwardWeight', 'x');
  const dw = out ? asF32(out, 'conv3dBackwardWeight', 'output') : gpu.empty(wShape);
  const wino = winogradPlan(gpu, g);
  if (wino) {
    winogradBackwardWeight(dy, x, g, wino, dw);
    return dw;
  }
  const dyp = packPanels(dy, outputPanels(g));
  const xb = tuningFor(gpu).convBackwardWeightQuads ? blockK(x, inputBlocks(g)) : null;
  backwardWeightGemm(x, xb?.tensor ?? null, dyp, g, dw);
  xb?.tensor.release();
  dyp.tensor.release();
  return dw;
}

/** dy as the weight gradient's panels: columns co, reduction over (n, zo, yo, xo) with xo innermost (padded to 4 per row). */
function outputPanels(g: ConvGeometry): PanelSource {
  const [od, oh, ow] = g.outSize;
  return { cols: g.cout, rows: od * oh, inner: ow, sCol: od * oh * ow, sRow: ow, sInner: 1, batch: g.n, srcBatchStride: g.cout * od * oh * ow };
}

/** x [N, Cin, D, H, W] with channels in fours (the forward's and the channel-quad weight gradient's input). */
function inputBlocks(g: ConvGeometry): BlockSource {
  const plane = prod(g.inSize);
  return { rows: plane, k: g.cin, sRow: 1, sK: plane, batch: g.n, srcBatch: g.cin * plane };
}

/**
 * The weight-gradient GEMM on packed dy and x (raw, or blocked in channel quads when the tuning says
 * so), split over the reduction when it is long and the grid small, the splits summed at the end.
 */
function backwardWeightGemm(x: GpuTensor, xb: GpuTensor | null, dyp: Panels, g: ConvGeometry, dw: GpuTensor): void {
  const gpu = x.gpu;
  const taps = prod(g.kernel);
  const [od, oh] = g.outSize;
  const t = tuningFor(gpu);
  const m = g.cin * taps;
  // Rows in channel quads (one vec4 of x per position, four rows per invocation) or one row at a time.
  const quads = t.convBackwardWeightQuads;
  if (quads !== (xb !== null)) throw new Error('conv3dBackwardWeight: channel-quad rows need the blocked input, and only they');
  const tile = quads ? { wg: t.convBackwardWeight.wg, tm: 4 as const } : fitTile(t.convBackwardWeight, m);
  const rowsPerGroup = quads ? tile.wg : tile.wg * tile.tm;
  const rowUnits = quads ? Math.ceil(g.cin / 4) * taps : m;
  const blocks = Math.ceil(rowUnits / rowsPerGroup) * dyp.panels;
  const rows = g.n * od * oh;
  const maxSplits = Math.min(rows, Math.max(1, Math.floor(rows / t.minRowsPerSplit)), gpu.limits.maxComputeWorkgroupsPerDimension!);
  const splits = Math.max(1, Math.min(maxSplits, Math.ceil(t.minWorkgroups / blocks)));
  const rowsPerSplit = Math.ceil(rows / splits);
  const used = Math.ceil(rows / rowsPerSplit);
  const wShape = [g.cout, g.cin, ...g.kernel];
  const target = used === 1 ? dw : gpu.empty([used, ...wShape]);
  for (const chunk of rowChunks(gpu, Math.ceil(rowUnits / rowsPerGroup))) {
    gpu.dispatch(convBackwardWeightKernel, {
      bind: { x, xb: xb ?? dyp.tensor, dyp: dyp.tensor, dw: target },
      uniforms: {
        params: {
          ...geometryUniforms(g),
          n: g.n,
          m,
          groups: dyp.innerPad / 4,
          kpPerBatch: dyp.kp,
          panelsPerBatch: dyp.panels,
          rowsPerSplit,
          rowBase: chunk.first * rowsPerGroup,
        },
      },
      overrides: { WG: tile.wg, TM: tile.tm, SG8: t.sg8 ? 1 : 0, ROWQUAD: quads ? 1 : 0 },
      workgroups: [chunk.count, dyp.panels, used],
    });
  }
  if (used > 1) {
    const total = dw.size;
    const [gx, gy] = grid1d(total, 256, gpu.limits.maxComputeWorkgroupsPerDimension);
    gpu.dispatch(convReduceSplitsKernel, {
      bind: { parts: target, out: dw },
      uniforms: { params: { n: total, parts: used } },
      overrides: { WG: 256 },
      workgroups: [gx, gy, 1],
    });
    target.release();
  }
}

/** How one convolution runs through depth Winograd: tile size, the points' geometry, their strides. */
export interface WinogradPlan {
  /** Output slices per depth tile (F(m, 3)). */
  m: number;
  /** Transformed points per tile (m + 2). */
  points: number;
  tiles: number;
  /** The in-plane convolution each point runs: depth kernel 1 over [N, C, tiles, H, W]. */
  plane: ConvGeometry;
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
 * depth kernel with depth stride and dilation 1, at least `minChannels` channels in and out, a tile size
 * from the tuning that needs at most `maxWork` of the direct path's depth work (3·Do in-plane
 * convolutions against (m + 2)·⌈Do/m⌉; ties go to the smaller, more accurate tile), and operands that
 * each fit one binding (larger ones take the direct path, which processes the batch in chunks).
 */
export function winogradPlan(gpu: Gpu, g: ConvGeometry): WinogradPlan | null {
  const t = tuningFor(gpu).depthWinograd;
  if (g.kernel[0] !== 3 || g.stride[0] !== 1 || g.dilation[0] !== 1) return null;
  if (Math.min(g.cin, g.cout) < t.minChannels) return null;
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
    vStride: align64(g.n * g.cin * tiles * h * w),
    mStride: align64(g.n * g.cout * tiles * oh * ow),
    uStride: align64(g.cout * g.cin * kh * kw),
  };
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
  if (4 * largest > bindingLimit(gpu)) return null;
  return plan;
}

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
  const [gx, gy] = grid1d(l.outer * l.tiles * l.inner, 256, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch(vec4 ? convWinogradWindow4Kernel : convWinogradWindowKernel, {
    bind: { mat, src, dst },
    uniforms: { params: { outer: l.outer, din: l.depth, inner: l.inner, tiles: l.tiles, step: l.step, off: l.off, pStride: l.pStride } },
    overrides: { WG: 256, POINTS: points, TAPS: taps },
    workgroups: [gx, gy, 1],
  });
}

/**
 * Overlap-add depth gather: dst[o, z, i] = Σ_t Σ_p mat[j·points + p] · src[p][o, t, i] with
 * j = z + off − step·t in [0, taps). `mat` is taps × points, row-major.
 */
export function depthGather(src: GpuTensor, dst: GpuTensor, mat: GpuTensor | GPUBuffer, points: number, taps: number, l: DepthLayout): void {
  const gpu = src.gpu;
  if (points > 8 || taps > 8 || l.step > 8 || l.step < 1) throw new GpuError('usage', `depthGather: at most 8 points, 8 taps and a step of 1..8, got ${points}, ${taps}, ${l.step}`);
  const blocks = Math.ceil((l.depth + l.off) / l.step);
  const [gx, gy] = grid1d(l.outer * blocks * l.inner, 256, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.dispatch(convWinogradGatherKernel, {
    bind: { mat, src, dst },
    uniforms: { params: { outer: l.outer, dout: l.depth, inner: l.inner, tiles: l.tiles, blocks, off: l.off, pStride: l.pStride } },
    overrides: { WG: 256, POINTS: points, TAPS: taps, STEP: l.step },
    workgroups: [gx, gy, 1],
  });
}

function window(src: GpuTensor, dst: GpuTensor, m: number, name: 'BT' | 'G' | 'A', l: DepthLayout, vec4: boolean): void {
  const mat = matrix(src.gpu, m, name);
  depthWindow(src, dst, mat.buffer, mat.rows, mat.cols, l, vec4);
}

function gather(src: GpuTensor, dst: GpuTensor, m: number, name: 'AT' | 'B' | 'GT', l: DepthLayout): void {
  const mat = matrix(src.gpu, m, name);
  depthGather(src, dst, mat.buffer, mat.cols, mat.rows, l);
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
function winogradBlocked(src: GpuTensor, blocks: BlockSource, depth: number, channels: number, plan: WinogradPlan, name: 'BT' | 'A', off: number, stride: number): GpuTensor {
  const blocked = blockK(src, blocks).tensor;
  const plane = blocks.rows / depth;
  const all = src.gpu.empty([plan.points * stride]);
  window(blocked, all, plan.m, name, { outer: plan.plane.n * Math.ceil(channels / 4), depth, inner: plane, tiles: plan.tiles, step: plan.m, off, pStride: stride / 4 }, true);
  blocked.release();
  return all;
}

/** x transformed into every point, plain NCDHW (the row-at-a-time weight gradient reads it so). */
function winogradPlainInput(x: GpuTensor, g: ConvGeometry, plan: WinogradPlan): GpuTensor {
  const v = x.gpu.empty([plan.points * plan.vStride]);
  const hw = g.inSize[1] * g.inSize[2];
  const vec4 = hw % 4 === 0;
  const q = vec4 ? 4 : 1;
  window(x, v, plan.m, 'BT', { outer: g.n * g.cin, depth: g.inSize[0], inner: hw / q, tiles: plan.tiles, step: plan.m, off: g.pad[0], pStride: plan.vStride / q }, vec4);
  return v;
}

function winogradForward(x: GpuTensor, w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, y: GpuTensor): void {
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
  gather(mm, y, plan.m, 'AT', { outer: g.n * g.cout, depth: g.outSize[0], inner: g.outSize[1] * g.outSize[2], tiles: plan.tiles, step: plan.m, off: 0, pStride: plan.mStride });
  mm.release();
}

function winogradBackwardInput(dy: GpuTensor, w: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dx: GpuTensor): void {
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
  gather(dv, dx, plan.m, 'B', { outer: g.n * g.cin, depth: g.inSize[0], inner: g.inSize[1] * g.inSize[2], tiles: plan.tiles, step: plan.m, off: g.pad[0], pStride: plan.vStride });
  dv.release();
}

function winogradBackwardWeight(dy: GpuTensor, x: GpuTensor, g: ConvGeometry, plan: WinogradPlan, dw: GpuTensor): void {
  const gpu = dy.gpu;
  const pg = plan.plane;
  const sizes = blockedSizes(g, plan.tiles);
  // dy packed once as panels ([n][panel][zo][Ho·⌈Wo/4⌉ k-groups × 16 vec4s]), transformed along zo.
  const packed = packPanels(dy, outputPanels(g));
  const kp = (packed.kp / g.outSize[0]) * plan.tiles;
  const perBatch = packed.panels * kp * PANEL;
  const perPoint = g.n * perBatch;
  const dmp = gpu.empty([plan.points * perPoint * 4]);
  window(packed.tensor, dmp, plan.m, 'A', { outer: g.n * packed.panels, depth: g.outSize[0], inner: (packed.kp / g.outSize[0]) * PANEL, tiles: plan.tiles, step: plan.m, off: 0, pStride: perPoint }, true);
  packed.tensor.release();
  const quads = tuningFor(gpu).convBackwardWeightQuads;
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

export { PANEL };
