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
 * Winograd minimal filtering (conv-winograd.ts). Both run their products through the GEMM dispatchers of
 * conv-gemm.ts.
 */
import { GpuError } from '../gpu/errors.js';
import { add, copy } from './elementwise.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { type Triple, triple } from './axes.js';
import { batchChunks, entries } from './chunks.js';
import { defineKernel, elementGrid } from './define.js';
import { type Panels, asF32, blockK, packPanels } from './matmul.js';
import { PANEL, bindingLimit, tuningFor, elementWg } from './tuning.js';
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
  phases,
  prod,
  weightQuads,
} from './conv-gemm.js';
import { winogradBackwardInput, winogradBackwardWeight, winogradForward, winogradPlan } from './conv-winograd.js';

type F32 = GpuTensor<'f32'>;

export interface ConvOptions {
  /** Per-axis stride (depth, height, width); default [1, 1, 1]. */
  stride?: Triple;
  /** Symmetric zero padding per axis; default [0, 0, 0]. */
  pad?: Triple;
  /** Per-axis dilation; default [1, 1, 1]. */
  dilation?: Triple;
}

export const convWindowKernel = defineKernel({
  name: 'conv-forward-window',
  shader: 'conv/window',
  bindings: { params: 'uniform', x: 'read', xw: 'read_write' },
});

export const convCol2imKernel = defineKernel({
  name: 'conv-backward-input-col2im',
  shader: 'conv/col2im',
  bindings: { params: 'uniform', cols: 'read', dx: 'read_write' },
});

/** Output extent along one axis: floor((in + 2p − dil·(k − 1) − 1) / s) + 1 (PyTorch's formula). */
export function convOutSize(inSize: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((inSize + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** Checks shapes and parameters and returns the geometry (output size included). */
export function convGeometry(xShape: readonly number[], wShape: readonly number[], opts: ConvOptions = {}): ConvGeometry {
  if (xShape.length !== 5) throw new GpuError('usage', `conv3d input must be [N, Cin, D, H, W], got [${xShape.join(', ')}]; add size-1 axes for 2D data`);
  if (wShape.length !== 5) throw new GpuError('usage', `conv3d weight must be [Cout, Cin, kD, kH, kW], got [${wShape.join(', ')}]`);
  for (const [s, what] of [
    [xShape, 'input'],
    [wShape, 'weight'],
  ] as const) {
    if (!s.every((e) => Number.isInteger(e) && e >= 1)) throw new GpuError('usage', `conv3d ${what} shape [${s.join(', ')}] has an extent < 1`);
  }
  const stride = triple('conv3d', 'stride', opts.stride, 1, 1);
  const pad = triple('conv3d', 'pad', opts.pad, 0, 0);
  const dilation = triple('conv3d', 'dilation', opts.dilation, 1, 1);
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

function checkOut(op: string, out: GpuTensor | undefined, shape: readonly number[], inputs: GpuTensor[]): void {
  if (!out) return;
  if (out.shape.length !== shape.length || out.shape.some((s, i) => s !== shape[i])) {
    throw new GpuError('usage', `${op}: output is [${out.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if (inputs.includes(out)) throw new GpuError('usage', `${op}: the output must not alias an input`);
}

/**
 * y = conv3d(x, w): x [N, Cin, D, H, W], w [Cout, Cin, kD, kH, kW] → y [N, Cout, Do, Ho, Wo].
 * Cross-correlation with zero padding, no bias, as PyTorch's conv3d.
 */
export function conv3d(x: GpuTensor, w: GpuTensor, opts: ConvOptions = {}, out?: GpuTensor): F32 {
  const g = convGeometry(x.shape, w.shape, opts);
  const yShape = [g.n, g.cout, ...g.outSize];
  checkOut('conv3d', out, yShape, [x, w]);
  asF32(x, 'conv3d', 'x');
  asF32(w, 'conv3d', 'w');
  const y = out ? asF32(out, 'conv3d', 'output') : x.gpu.empty(yShape);
  const chunks = batchChunks(x.gpu, 'conv3d', g.n, [prod(x.shape.slice(1)), prod(yShape.slice(1))], 0);
  if (chunks.length > 1) {
    for (const [n0, n1] of chunks) conv3d(entries(x, n0, n1), w, opts, entries(y, n0, n1));
    return y;
  }
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
    throw new GpuError(
      'over-limit',
      `conv3d: one batch entry of [${g.cin}, ${g.inSize.join(', ')}] needs ${perEntry} bytes of re-laid input, more than this adapter's binding limit ${limit}; crop or resize the volume`,
    );
  }
  const perChunk = Math.max(1, Math.floor(limit / perEntry));
  for (let n0 = 0; n0 < g.n; n0 += perChunk) {
    const n1 = Math.min(g.n, n0 + perChunk);
    let xb: GpuTensor;
    if (innerKw) {
      const rowsPerEntry = g.cin * g.inSize[0] * g.inSize[1];
      const rows = (n1 - n0) * rowsPerEntry;
      xb = gpu.empty([rows * winLen * 4]);
      const [gx, gy] = elementGrid(gpu, rows * winLen, elementWg(gpu));
      gpu.dispatch(convWindowKernel, {
        bind: { x, xw: xb },
        uniforms: { params: { rows, w: g.inSize[2], winLen: winLen, padW: g.pad[2], dilW: g.dilation[2], rowBase: n0 * rowsPerEntry } },
        overrides: { WG: elementWg(gpu) },
        workgroups: [gx, gy, 1],
      });
    } else {
      xb = blockK(x, { ...inputBlocks(g), batch: n1 - n0, srcBase: n0 * g.cin * plane }).tensor;
    }
    forwardGemm(xb, g, wp, innerKw, winLen, n0, n1, y);
    xb.release();
  }
}

/**
 * dx = ∂(Σ y·dy)/∂x for y = conv3d(x, w, opts): dy [N, Cout, Do, Ho, Wo], w [Cout, Cin, kD, kH, kW],
 * xShape [N, Cin, D, H, W] → dx of xShape.
 */
export function conv3dBackwardInput(dy: GpuTensor, w: GpuTensor, xShape: readonly number[], opts: ConvOptions = {}, out?: GpuTensor): F32 {
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
  // dy re-laid in channel quads (the panel path) is the largest temporary per batch entry.
  const chunks = batchChunks(gpu, 'conv3dBackwardInput', g.n, [prod(yShape.slice(1)), prod(xShape.slice(1))], 16 * Math.ceil(g.cout / 4) * prod(g.outSize));
  if (chunks.length > 1) {
    for (const [n0, n1] of chunks) conv3dBackwardInput(entries(dy, n0, n1), w, [n1 - n0, ...xShape.slice(1)], opts, entries(dx, n0, n1));
    return dx;
  }
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
    const [gx, gy] = elementGrid(gpu, maxPhase, 64);
    for (let ci = 0; ci < g.cin; ci++) {
      for (let r0 = 0; r0 < tapRows; r0 += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, tapRows - r0);
        const cols = rows * kw;
        const colsGeom: ConvGeometry = {
          n: g.n,
          cin: g.cout,
          cout: cols,
          inSize: g.outSize,
          kernel: [1, 1, 1],
          outSize: g.outSize,
          stride: [1, 1, 1],
          pad: [0, 0, 0],
          dilation: [1, 1, 1],
        };
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

/**
 * dw = ∂(Σ y·dy)/∂w for y = conv3d(x, w, opts): dy [N, Cout, Do, Ho, Wo], x [N, Cin, D, H, W],
 * wShape [Cout, Cin, kD, kH, kW] → dw of wShape.
 */
export function conv3dBackwardWeight(dy: GpuTensor, x: GpuTensor, wShape: readonly number[], opts: ConvOptions = {}, out?: GpuTensor): F32 {
  const g = convGeometry(x.shape, wShape, opts);
  const gpu = dy.gpu;
  const yShape = [g.n, g.cout, ...g.outSize];
  if (dy.shape.length !== 5 || dy.shape.some((s, i) => s !== yShape[i])) {
    throw new GpuError('usage', `conv3dBackwardWeight: dy is [${dy.shape.join(', ')}] but the forward output is [${yShape.join(', ')}]`);
  }
  checkOut('conv3dBackwardWeight', out, wShape, [dy, x]);
  asF32(dy, 'conv3dBackwardWeight', 'dy');
  asF32(x, 'conv3dBackwardWeight', 'x');
  // dy packed into 16-channel panels with xo padded to 4, and x in channel quads, per batch entry.
  const [od, oh, ow] = g.outSize;
  const packedDy = 4 * Math.ceil(g.cout / PANEL) * PANEL * od * oh * Math.ceil(ow / 4) * 4;
  const chunks = batchChunks(
    gpu,
    'conv3dBackwardWeight',
    g.n,
    [prod(yShape.slice(1)), prod(x.shape.slice(1))],
    Math.max(packedDy, 16 * Math.ceil(g.cin / 4) * prod(g.inSize)),
  );
  if (chunks.length > 1) {
    // Σ over the chunks, in chunk order (deterministic); dw is small next to the activations.
    let acc: F32 | null = null;
    for (const [n0, n1] of chunks) {
      const part = conv3dBackwardWeight(entries(dy, n0, n1), entries(x, n0, n1), wShape, opts);
      if (!acc) {
        acc = part;
        continue;
      }
      const sum: F32 = add(acc, part);
      acc.release();
      part.release();
      acc = sum;
    }
    if (!out) return acc!;
    copy(acc!, out as F32);
    acc!.release();
    return out as F32;
  }
  const dw = out ? asF32(out, 'conv3dBackwardWeight', 'output') : gpu.empty(wShape);
  const wino = winogradPlan(gpu, g);
  if (wino) {
    winogradBackwardWeight(dy, x, g, wino, dw);
    return dw;
  }
  const dyp = packPanels(dy, outputPanels(g));
  const xb = weightQuads(gpu, g) ? blockK(x, inputBlocks(g)) : null;
  backwardWeightGemm(x, xb?.tensor ?? null, dyp, g, dw);
  xb?.tensor.release();
  dyp.tensor.release();
  return dw;
}

export { type ConvGeometry, layerClass, prod } from './conv-gemm.js';
