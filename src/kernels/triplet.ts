/**
 * Batch-hard triplet loss, eq. (3), with online hard mining entirely on the GPU, as triplet.ref.ts:
 * squared Euclidean distances, hardest positive (max, j ≠ a) and hardest negative (min) per anchor
 * with ties to the smallest index, hinge max(0, D_ap − D_an + m), mean over valid anchors (0 and a
 * zero gradient when there is none, never NaN), optional L2 normalisation first (ε on ‖x‖²).
 *
 * Built for long embeddings (bilinear features: E = 65,536, batch 32) — the distance matrix is a
 * 32×32 "Gram of differences" reduced in parallel over the long axis:
 *   [normalize] triplet-norms        one workgroup per row: ‖x_i‖², n_i
 *   triplet-dist                     G column workgroups × pair-block groups, rows staged in workgroup
 *                                    memory, 4×4 pair blocks in registers, partial D (and f_i·f_j)
 *   triplet-dist-reduce              one thread per pair: dist [N, N] (and gram)
 *   triplet-mine                     one workgroup: mining, loss [1], and the backward's N×N matrix
 *   triplet-backward-x (backward)    gx = upstream · coef · x, normalisation folded into coef
 * Forward 3 or 4 dispatches, backward 1; nothing is read back.
 */
import { GpuError } from '../gpu/errors.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { defineKernel, ELEMENT_WG as WG, grid1d } from './define.js';
import { L2_NORM_EPS } from './activations.js';
import { labelTensor, type Labels } from './center.js';

export const tripletNormsKernel = defineKernel({
  name: 'triplet-norms',
  shader: 'triplet/norms',
  bindings: { params: 'uniform', x: 'read', norms: 'read_write' },
});
export const tripletDistKernel = defineKernel({
  name: 'triplet-dist',
  shader: 'triplet/dist',
  bindings: { params: 'uniform', x: 'read', norms: 'read', partial: 'read_write' },
});
export const tripletDistReduceKernel = defineKernel({
  name: 'triplet-dist-reduce',
  shader: 'triplet/dist-reduce',
  bindings: { params: 'uniform', partial: 'read', norms: 'read', dist: 'read_write', gram: 'read_write' },
});
export const tripletMineKernel = defineKernel({
  name: 'triplet-mine',
  shader: 'triplet/mine',
  bindings: {
    params: 'uniform',
    labels: 'read',
    dist: 'read',
    gram: 'read',
    norms: 'read',
    loss: 'read_write',
    mined: 'read_write',
    perAnchor: 'read_write',
    coef: 'read_write',
  },
});
export const tripletBackwardKernel = defineKernel({
  name: 'triplet-backward-x',
  shader: 'triplet/backward',
  bindings: { params: 'uniform', x: 'read', coef: 'read', upstream: 'read', gx: 'read_write' },
});

/** Threads of triplet-dist, each owning a 4×4 block of pairs. */
const DIST_WG = 64;
/** Output rows per thread of the backward (the shader's ROWS). */
const ROWS = 8;
/** Floats of the shader's staged tile (TILE_FLOATS): N rows × (kc + 1). */
const TILE_FLOATS = 4096;
/** Column workgroups of triplet-dist: enough to fill a large GPU, few enough that the reduce is cheap. */
const MAX_COLUMN_GROUPS = 256;
/** Largest batch: kc ≥ 1 needs N·2 ≤ TILE_FLOATS. */
export const TRIPLET_MAX_BATCH = TILE_FLOATS / 2;

export interface TripletLossOptions {
  /** Margin m ≥ 0 (default 0.2). */
  margin?: number;
  /** L2-normalise each embedding first (default false). */
  normalize?: boolean;
  /** ε added to ‖x‖² in the normalisation (default L2_NORM_EPS = 1e−12). */
  normEps?: number;
}

export interface TripletLossResult {
  /** [1] loss. */
  loss: GpuTensor;
  /** [N, N] squared distances of the (normalised) embeddings the mining used. */
  dist: GpuTensor;
  /** [2, N] i32: hardest positive per anchor, then hardest negative; −1 for an invalid anchor. */
  mined: GpuTensor<'i32'>;
  /** [N] hinge l_a per anchor (0 for invalid anchors). */
  perAnchor: GpuTensor;
  /** ∂loss/∂x = coef · x, saved for tripletLossBackward; stored transposed and padded, [N, ⌈N/8⌉·8]. */
  coef: GpuTensor;
}

/** Batch-hard triplet loss of embeddings x [N, E] with integer labels [N] (host array or i32 tensor). */
export function tripletLoss(x: GpuTensor, labels: Labels, opts: TripletLossOptions = {}): TripletLossResult {
  const gpu = x.gpu;
  if (x.shape.length !== 2 || x.shape[0]! < 1 || x.shape[1]! < 1)
    throw new GpuError('usage', `tripletLoss: embeddings must be [N, E] with N, E >= 1, got ${x}`);
  const [n, e] = [x.shape[0]!, x.shape[1]!];
  if (n > TRIPLET_MAX_BATCH) throw new GpuError('usage', `tripletLoss: batch ${n} exceeds ${TRIPLET_MAX_BATCH}; split the batch`);
  if (Math.ceil(e / WG) > gpu.limits.maxComputeWorkgroupsPerDimension!)
    throw new GpuError('usage', `tripletLoss: embedding dimension ${e} is too large for one dispatch row`);
  const margin = opts.margin ?? 0.2;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new GpuError('usage', `tripletLoss margin must be a finite number >= 0, got ${margin}`);
  const normalize = opts.normalize ?? false;
  const normEps = opts.normEps ?? L2_NORM_EPS;
  if (normalize && (!(normEps >= 1.2e-38) || !Number.isFinite(normEps)))
    throw new GpuError('usage', `tripletLoss normEps must be a finite number >= 1.2e-38, got ${normEps}`);
  const lab = labelTensor(gpu, labels, n, null, 'tripletLoss');
  const NORMALIZE = normalize ? 1 : 0;
  const maxWg = gpu.limits.maxComputeWorkgroupsPerDimension!;

  // Always allocated so every binding has a real vec2 buffer; only filled (and read) when normalising.
  const norms = gpu.empty([n, 2]);
  if (normalize) {
    gpu.dispatch(tripletNormsKernel, { bind: { x, norms }, uniforms: { params: { n, e, normEps } }, overrides: { WG }, workgroups: grid1d(n, 1, maxWg) });
  }
  const dist = gpu.empty([n, n]);
  const gram = gpu.empty([n, n]);
  let partial: GpuTensor;
  let groups = 0;
  if (n === 1) {
    partial = gpu.empty([1, 2]); // a batch of one has no pairs; bound but never read
  } else {
    const kc = Math.min(Math.floor(TILE_FLOATS / n) - 1, e);
    const tiles = Math.ceil(e / kc);
    const nb = Math.ceil(n / 4);
    const blocks = (nb * (nb + 1)) / 2;
    groups = Math.min(tiles, MAX_COLUMN_GROUPS);
    partial = gpu.empty([groups, n, n, 2]);
    gpu.dispatch(tripletDistKernel, {
      bind: { x, norms, partial },
      uniforms: { params: { n, e, kc, tiles, blocks, nb } },
      overrides: { WG: DIST_WG, NORMALIZE },
      workgroups: [groups, Math.ceil(blocks / DIST_WG), 1],
    });
  }
  gpu.dispatch(tripletDistReduceKernel, {
    bind: { partial, norms, dist, gram },
    uniforms: { params: { n, groups } },
    overrides: { WG, NORMALIZE },
    workgroups: grid1d(n * n, WG, maxWg),
  });
  const loss = gpu.empty([1]);
  const mined = gpu.empty([2, n], 'i32');
  const perAnchor = gpu.empty([n]);
  const np = Math.ceil(n / ROWS) * ROWS;
  const coef = gpu.empty([n, np]);
  gpu.dispatch(tripletMineKernel, {
    bind: { labels: lab.t, dist, gram, norms, loss, mined, perAnchor, coef },
    uniforms: { params: { n, np, margin } },
    overrides: { WG, NORMALIZE },
    workgroups: [1],
  });
  partial.release();
  norms.release();
  gram.release();
  if (lab.owned) lab.t.release();
  return { loss, dist, mined, perAnchor, coef };
}

/** ∂loss/∂x [N, E] = upstream · coef · x, from the forward's `coef`; upstream is an optional [1] tensor. */
export function tripletLossBackward(x: GpuTensor, saved: { coef: GpuTensor }, upstream?: GpuTensor, out?: GpuTensor): GpuTensor {
  const gpu = x.gpu;
  if (x.shape.length !== 2) throw new GpuError('usage', `tripletLossBackward: embeddings must be [N, E], got ${x}`);
  const [n, e] = [x.shape[0]!, x.shape[1]!];
  const np = Math.ceil(n / ROWS) * ROWS;
  if (saved.coef.size !== n * np)
    throw new GpuError('usage', `tripletLossBackward: coef ${saved.coef} must be the coefficient matrix of tripletLoss on this x ([${n}, ${np}])`);
  if (upstream && upstream.size !== 1) throw new GpuError('usage', `tripletLossBackward: upstream ${upstream} must be a [1] tensor`);
  if (out && out.size !== n * e) throw new GpuError('usage', `tripletLossBackward: out ${out} must have ${n * e} elements`);
  const gx = out ?? gpu.empty([n, e]);
  gpu.dispatch(tripletBackwardKernel, {
    bind: { x, coef: saved.coef, upstream: upstream ?? x, gx },
    uniforms: { params: { n, np, e } },
    overrides: { WG, HAS_UPSTREAM: upstream ? 1 : 0 },
    workgroups: [Math.ceil(e / WG), Math.ceil(n / ROWS), 1],
  });
  return gx;
}
