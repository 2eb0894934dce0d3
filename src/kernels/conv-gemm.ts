/**
 * The three implicit GEMMs of the convolution family (conv.ts), shared with its Winograd path
 * (conv-winograd.ts), which runs each transformed point through the same dispatchers:
 *  - forward:          rows (n, zo, yo, xo), columns co, reduction (ci, kd, kh, kw);
 *  - backward-input:   rows (n, z, y, x) of one stride phase, columns ci, reduction over the taps that
 *                      reach that phase × co;
 *  - backward-weight:  rows (ci, kd, kh, kw), columns co, reduction over (n, zo, yo, xo), split across
 *                      workgroups (split-K) and summed by conv/reduce-splits.wgsl when it is long.
 * Each on the register-blocked, subgroup-broadcast scheme of matmul.ts or its workgroup-tiled variant, as
 * the tuning chooses per layer class. The operand layouts (panels, channel-quad blocks) are described
 * here so the callers pack them the same way.
 */
import type { Gpu } from '../gpu/gpu.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, elementGrid } from './define.js';
import { type BlockSource, type PanelSource, type Panels, broadcastOverrides, rowChunks, tiledOverrides, tiledRows } from './matmul.js';
import { type LayerClass, PANEL, type TiledTile, fitTile, fitTiledTile, gemmPath, tuningFor, elementWg } from './tuning.js';

export const convForwardKernel = defineKernel({
  name: 'conv-forward',
  shader: 'conv/forward',
  bindings: { params: 'uniform', xb: 'read', wp: 'read', y: 'read_write' },
  constants: { TN: PANEL },
});

export const convForwardTiledKernel = defineKernel({
  name: 'conv-forward-tiled',
  shader: 'conv/forward-tiled',
  bindings: { params: 'uniform', xb: 'read', wp: 'read', y: 'read_write' },
  constants: { TN: PANEL },
});

export const convBackwardInputKernel = defineKernel({
  name: 'conv-backward-input',
  shader: 'conv/backward-input',
  bindings: { params: 'uniform', dyb: 'read', wp: 'read', dx: 'read_write' },
  constants: { TN: PANEL },
});

export const convBackwardInputTiledKernel = defineKernel({
  name: 'conv-backward-input-tiled',
  shader: 'conv/backward-input-tiled',
  bindings: { params: 'uniform', dyb: 'read', wp: 'read', dx: 'read_write' },
  constants: { TN: PANEL },
});

export const convBackwardWeightKernel = defineKernel({
  name: 'conv-backward-weight',
  shader: 'conv/backward-weight',
  bindings: { params: 'uniform', x: 'read', xb: 'read', dyp: 'read', dw: 'read_write' },
  constants: { TN: PANEL },
});

export const convBackwardWeightTiledKernel = defineKernel({
  name: 'conv-backward-weight-tiled',
  shader: 'conv/backward-weight-tiled',
  bindings: { params: 'uniform', x: 'read', dyp: 'read', dw: 'read_write' },
  constants: { TN: PANEL },
});

export const convReduceSplitsKernel = defineKernel({
  name: 'conv-backward-weight-reduce',
  shader: 'conv/reduce-splits',
  bindings: { params: 'uniform', parts: 'read', out: 'read_write' },
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

export const prod = (t: readonly number[]) => t.reduce((a, b) => a * b, 1);

function geometryUniforms(g: ConvGeometry) {
  return { inSize: g.inSize, outSize: g.outSize, kernel: g.kernel, stride: g.stride, pad: g.pad, dilation: g.dilation, cin: g.cin, cout: g.cout };
}

/** Forward weight panels: columns co, reduction (tap, ci) with ci innermost: w[co, ci, tap] at co·Cin·taps + ci·taps + tap. */
export function forwardPanels(g: ConvGeometry): PanelSource {
  const taps = prod(g.kernel);
  return { cols: g.cout, rows: taps, inner: g.cin, sCol: g.cin * taps, sRow: 1, sInner: taps };
}

/** The forward GEMM over batch entries n0..n1 − 1, whose re-laid input `xb` starts at entry n0. */
export function forwardGemm(xb: GpuTensor, g: ConvGeometry, wp: Panels, innerKw: boolean, winLen: number, n0: number, n1: number, y: GpuTensor): void {
  const gpu = xb.gpu;
  const outPlane = prod(g.outSize);
  const m = n1 * outPlane;
  const groups = wp.innerPad / 4;
  const params = { ...geometryUniforms(g), m, kp: wp.kp, groups, winLen, nBase: n0 };
  if (gemmPath(gpu, 'convForward', layerClass(g, innerKw)) === 'tiled') {
    const tile = stagedTile(fitTiledTile(tuningFor(gpu).tiled.convForward, g.n * outPlane), groups);
    const rowsPerGroup = tiledRows(tile);
    for (const chunk of rowChunks(gpu, Math.ceil((m - n0 * outPlane) / rowsPerGroup))) {
      gpu.dispatch(convForwardTiledKernel, {
        bind: { xb, wp: wp.tensor, y },
        uniforms: { params: { ...params, rowBase: n0 * outPlane + chunk.first * rowsPerGroup } },
        overrides: { ...tiledOverrides(tile), INNER_KW: innerKw ? 1 : 0 },
        workgroups: [chunk.count, wp.panels, 1],
      });
    }
    return;
  }
  const tile = fitTile(tuningFor(gpu).convForward, g.n * outPlane);
  const rowsPerGroup = tile.wg * tile.tm;
  for (const chunk of rowChunks(gpu, Math.ceil((m - n0 * outPlane) / rowsPerGroup))) {
    gpu.dispatch(convForwardKernel, {
      bind: { xb, wp: wp.tensor, y },
      uniforms: { params: { ...params, rowBase: n0 * outPlane + chunk.first * rowsPerGroup } },
      overrides: { ...broadcastOverrides(gpu, tile), INNER_KW: innerKw ? 1 : 0 },
      workgroups: [chunk.count, wp.panels, 1],
    });
  }
}

/**
 * The layer class the kernel-family choice is made for (tuning.ts): the thin stem (its forward walks
 * sliding windows), 1×1×1, in-plane 1×k×k (every depth-Winograd point too) or with a depth extent.
 */
export function layerClass(g: ConvGeometry, thin = false): LayerClass {
  if (thin) return 'thin';
  if (g.kernel.every((k) => k === 1)) return 'pointwise';
  return g.kernel[0] === 1 ? 'plane' : 'volume';
}

/**
 * A tiled tile whose workgroup-memory step (KC k-groups) divides the `groups` k-groups of one reduction
 * row, so a step never straddles two rows: the largest divisor of `groups` not above the tuned KC.
 */
export function stagedTile(t: TiledTile, groups: number): TiledTile {
  if (t.kc === 0) return t;
  let kc = Math.min(t.kc, groups);
  while (groups % kc !== 0) kc--;
  return { ...t, kc };
}

/** Stride phases of dx: positions with the same remainder mod the stride see the same set of taps. */
export function phases(g: ConvGeometry): { index: number; rem: [number, number, number]; count: [number, number, number] }[] {
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

/** Weight panels of the input gradient: columns ci, reduction (tap, co) with co innermost. */
export function backwardInputPanels(g: ConvGeometry): PanelSource {
  const taps = prod(g.kernel);
  return { cols: g.cin, rows: taps, inner: g.cout, sCol: taps, sRow: 1, sInner: g.cin * taps };
}

/** dy [N, Cout, Do, Ho, Wo] with channels in fours: one vec4 per (n, channel quad, output voxel). */
export function outputBlocks(g: ConvGeometry): BlockSource {
  const oplane = prod(g.outSize);
  return { rows: oplane, k: g.cout, sRow: 1, sK: oplane, batch: g.n, srcBatch: g.cout * oplane };
}

/** The input-gradient GEMM on blocked dy and packed weights, every stride phase of dx at once. */
export function backwardInputGemm(dyb: GpuTensor, wp: Panels, g: ConvGeometry, dx: GpuTensor): void {
  const gpu = dyb.gpu;
  const ph = phases(g);
  const maxM = Math.max(...ph.map((p) => g.n * prod(p.count)));
  const groups = wp.innerPad / 4;
  const params = { ...geometryUniforms(g), n: g.n, kp: wp.kp, groups };
  if (gemmPath(gpu, 'convBackwardInput', layerClass(g)) === 'tiled') {
    const tile = stagedTile(fitTiledTile(tuningFor(gpu).tiled.convBackwardInput, maxM), groups);
    const rowsPerGroup = tiledRows(tile);
    for (const chunk of rowChunks(gpu, Math.ceil(maxM / rowsPerGroup))) {
      gpu.dispatch(convBackwardInputTiledKernel, {
        bind: { dyb, wp: wp.tensor, dx },
        uniforms: { params: { ...params, rowBase: chunk.first * rowsPerGroup } },
        overrides: tiledOverrides(tile),
        workgroups: [chunk.count, wp.panels, ph.length],
      });
    }
    return;
  }
  const tile = fitTile(tuningFor(gpu).convBackwardInput, maxM);
  const rowsPerGroup = tile.wg * tile.tm;
  for (const chunk of rowChunks(gpu, Math.ceil(maxM / rowsPerGroup))) {
    gpu.dispatch(convBackwardInputKernel, {
      bind: { dyb, wp: wp.tensor, dx },
      uniforms: { params: { ...params, rowBase: chunk.first * rowsPerGroup } },
      overrides: broadcastOverrides(gpu, tile),
      workgroups: [chunk.count, wp.panels, ph.length],
    });
  }
}

/** dy as the weight gradient's panels: columns co, reduction over (n, zo, yo, xo) with xo innermost (padded to 4 per row). */
export function outputPanels(g: ConvGeometry): PanelSource {
  const [od, oh, ow] = g.outSize;
  return { cols: g.cout, rows: od * oh, inner: ow, sCol: od * oh * ow, sRow: ow, sInner: 1, batch: g.n, srcBatchStride: g.cout * od * oh * ow };
}

/** x [N, Cin, D, H, W] with channels in fours (the forward's and the channel-quad weight gradient's input). */
export function inputBlocks(g: ConvGeometry): BlockSource {
  const plane = prod(g.inSize);
  return { rows: plane, k: g.cin, sRow: 1, sK: plane, batch: g.n, srcBatch: g.cin * plane };
}

/**
 * The weight-gradient GEMM on packed dy and x (raw, or blocked in channel quads when the tuning says
 * so), split over the reduction when it is long and the grid small, the splits summed at the end.
 */
export function backwardWeightGemm(x: GpuTensor, xb: GpuTensor | null, dyp: Panels, g: ConvGeometry, dw: GpuTensor): void {
  const gpu = x.gpu;
  const taps = prod(g.kernel);
  const [od, oh] = g.outSize;
  const t = tuningFor(gpu);
  const m = g.cin * taps;
  const groups = dyp.innerPad / 4;
  const tiled = gemmPath(gpu, 'convBackwardWeight', layerClass(g)) === 'tiled';
  // Rows in channel quads (one vec4 of x per position, four rows per invocation) or one row at a time.
  const quads = weightQuads(gpu, g);
  if (quads !== (xb !== null)) throw new Error('conv3dBackwardWeight: channel-quad rows need the blocked input, and only they');
  const tiledTile = tiled ? stagedTile(fitTiledTile(t.tiled.convBackwardWeight, m), groups) : null;
  const tile = quads ? { wg: t.convBackwardWeight.wg, tm: 4 as const } : fitTile(t.convBackwardWeight, m);
  const rowsPerGroup = tiledTile ? tiledRows(tiledTile) : quads ? tile.wg : tile.wg * tile.tm;
  const rowUnits = quads ? Math.ceil(g.cin / 4) * taps : m;
  const blocks = Math.ceil(rowUnits / rowsPerGroup) * dyp.panels;
  const rows = g.n * od * oh;
  const maxSplits = Math.min(rows, Math.max(1, Math.floor(rows / t.minRowsPerSplit)), gpu.limits.maxComputeWorkgroupsPerDimension!);
  const splits = Math.max(1, Math.min(maxSplits, Math.ceil(t.minWorkgroups / blocks)));
  const rowsPerSplit = Math.ceil(rows / splits);
  const used = Math.ceil(rows / rowsPerSplit);
  const wShape = [g.cout, g.cin, ...g.kernel];
  const target = used === 1 ? dw : gpu.empty([used, ...wShape]);
  const params = { ...geometryUniforms(g), n: g.n, m, groups, kpPerBatch: dyp.kp, panelsPerBatch: dyp.panels, rowsPerSplit };
  for (const chunk of rowChunks(gpu, Math.ceil(rowUnits / rowsPerGroup))) {
    if (tiledTile) {
      gpu.dispatch(convBackwardWeightTiledKernel, {
        bind: { x, dyp: dyp.tensor, dw: target },
        uniforms: { params: { ...params, rowBase: chunk.first * rowsPerGroup } },
        overrides: tiledOverrides(tiledTile),
        workgroups: [chunk.count, dyp.panels, used],
      });
      continue;
    }
    gpu.dispatch(convBackwardWeightKernel, {
      bind: { x, xb: xb ?? dyp.tensor, dyp: dyp.tensor, dw: target },
      uniforms: { params: { ...params, rowBase: chunk.first * rowsPerGroup } },
      overrides: { ...broadcastOverrides(gpu, tile), ROWQUAD: quads ? 1 : 0 },
      workgroups: [chunk.count, dyp.panels, used],
    });
  }
  if (used > 1) {
    const total = dw.size;
    const [gx, gy] = elementGrid(gpu, total, elementWg(gpu));
    gpu.dispatch(convReduceSplitsKernel, {
      bind: { parts: target, out: dw },
      uniforms: { params: { n: total, parts: used } },
      overrides: { WG: elementWg(gpu) },
      workgroups: [gx, gy, 1],
    });
    target.release();
  }
}

/**
 * Whether the weight gradient of this convolution runs with channel-quad rows (the broadcast kernel
 * when the tuning asks for them), so its caller blocks the input into channel quads.
 */
export function weightQuads(gpu: Gpu, g: ConvGeometry): boolean {
  return tuningFor(gpu).convBackwardWeightQuads && gemmPath(gpu, 'convBackwardWeight', layerClass(g)) === 'broadcast';
}
