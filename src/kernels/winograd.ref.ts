/**
 * Float64 CPU reference for depth-Winograd convolution: the depth transforms in plain loops, and the
 * whole 3-tap-depth convolution (forward and both gradients) composed from them and the direct 1×kH×kW
 * reference — the same decomposition the GPU path in `conv.ts` runs, so the tests can check it equals the
 * direct convolution (`conv.ref.ts`) to float64 rounding, independently of any kernel.
 *
 * Layouts: a depth-major tensor [outer, depth, inner] (for NCDHW: outer = N·C, inner = H·W; for a weight
 * [Cout, Cin, kD, kH, kW]: outer = Cout·Cin, inner = kH·kW). A transformed tensor holds P points, each
 * [outer, tiles, inner], one after another.
 */
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dRef, convOutSize, type Conv3dParams } from './conv.ref.js';
import { checkTriple, numel, type NumArray, type Shape } from './ref-util.js';
import { winogradMatrices } from './winograd-matrices.js';

export interface DepthTransform {
  outer: number;
  inner: number;
  tiles: number;
  /** Depth index of tile t's first element is step·t − off. */
  step: number;
  off: number;
}

/** Windowed transform: out[p][o, t, i] = Σ_j mat[p][j] · src[o, step·t − off + j, i], zero outside [0, din). */
export function depthWindowRef(src: NumArray, din: number, mat: readonly (readonly number[])[], t: DepthTransform): Float64Array[] {
  return mat.map((row) => {
    const out = new Float64Array(t.outer * t.tiles * t.inner);
    for (let o = 0; o < t.outer; o++) {
      for (let tile = 0; tile < t.tiles; tile++) {
        for (let j = 0; j < row.length; j++) {
          const z = t.step * tile - t.off + j;
          if (z < 0 || z >= din) continue;
          for (let i = 0; i < t.inner; i++) out[(o * t.tiles + tile) * t.inner + i]! += row[j]! * src[(o * din + z) * t.inner + i]!;
        }
      }
    }
    return out;
  });
}

/**
 * Overlap-add gather, the transpose of a windowed transform's indexing:
 * out[o, z, i] = Σ_t Σ_p mat[j][p] · src[p][o, t, i] with j = z + off − step·t, for 0 ≤ j < mat.length.
 */
export function depthGatherRef(src: readonly NumArray[], dout: number, mat: readonly (readonly number[])[], t: DepthTransform): Float64Array {
  const out = new Float64Array(t.outer * dout * t.inner);
  for (let o = 0; o < t.outer; o++) {
    for (let z = 0; z < dout; z++) {
      for (let tile = 0; tile < t.tiles; tile++) {
        const j = z + t.off - t.step * tile;
        if (j < 0 || j >= mat.length) continue;
        for (let p = 0; p < src.length; p++) {
          const c = mat[j]![p]!;
          for (let i = 0; i < t.inner; i++) out[(o * dout + z) * t.inner + i]! += c * src[p]![(o * t.tiles + tile) * t.inner + i]!;
        }
      }
    }
  }
  return out;
}

const transpose = (a: readonly (readonly number[])[]): number[][] => a[0]!.map((_, j) => a.map((row) => row[j]!));

interface WinoGeom {
  n: number;
  ci: number;
  co: number;
  d: number;
  od: number;
  tiles: number;
  padD: number;
  hw: number;
  ohw: number;
  khw: number;
  plane: Conv3dParams;
  vShape: number[];
  mShape: number[];
  uShape: number[];
}

function winoGeometry(xShape: Shape, wShape: Shape, params: Conv3dParams, m: number): WinoGeom {
  const [n, ci, d, h, w] = xShape as [number, number, number, number, number];
  const [co, , kd, kh, kw] = wShape as [number, number, number, number, number];
  const s = checkTriple(params.stride, [1, 1, 1], 1, 'stride');
  const p = checkTriple(params.pad, [0, 0, 0], 0, 'pad');
  const dl = checkTriple(params.dilation, [1, 1, 1], 1, 'dilation');
  if (kd !== 3 || s[0] !== 1 || dl[0] !== 1) throw new Error('depth Winograd needs a 3-tap depth kernel with depth stride and dilation 1');
  const od = convOutSize(d, 3, 1, p[0], 1);
  const tiles = Math.ceil(od / m);
  const oh = convOutSize(h, kh, s[1], p[1], dl[1]);
  const ow = convOutSize(w, kw, s[2], p[2], dl[2]);
  return {
    n,
    ci,
    co,
    d,
    od,
    tiles,
    padD: p[0],
    hw: h * w,
    ohw: oh * ow,
    khw: kh * kw,
    plane: { stride: [1, s[1], s[2]], pad: [0, p[1], p[2]], dilation: [1, dl[1], dl[2]] },
    vShape: [n, ci, tiles, h, w],
    mShape: [n, co, tiles, oh, ow],
    uShape: [co, ci, 1, kh, kw],
  };
}

/** The depth transforms of a convolution with output tiles of m (the GPU path's, in float64). */
function transforms(g: WinoGeom, m: number) {
  const f = winogradMatrices(m, 3);
  return {
    f,
    input: (x: NumArray) => depthWindowRef(x, g.d, f.BT, { outer: g.n * g.ci, inner: g.hw, tiles: g.tiles, step: m, off: g.padD }),
    weight: (w: NumArray) => depthWindowRef(w, 3, f.G, { outer: g.co * g.ci, inner: g.khw, tiles: 1, step: 0, off: 0 }),
    outputGrad: (dy: NumArray) => depthWindowRef(dy, g.od, transpose(f.AT), { outer: g.n * g.co, inner: g.ohw, tiles: g.tiles, step: m, off: 0 }),
    output: (mm: Float64Array[]) => depthGatherRef(mm, g.od, f.AT, { outer: g.n * g.co, inner: g.ohw, tiles: g.tiles, step: m, off: 0 }),
    inputGrad: (dv: Float64Array[]) => depthGatherRef(dv, g.d, transpose(f.BT), { outer: g.n * g.ci, inner: g.hw, tiles: g.tiles, step: m, off: g.padD }),
    weightGrad: (du: Float64Array[]) => depthGatherRef(du, 3, transpose(f.G), { outer: g.co * g.ci, inner: g.khw, tiles: 1, step: 1, off: 0 }),
  };
}

/** conv3d for a 3-tap depth kernel (depth stride 1) through F(m, 3) along depth: y of [N, Cout, Do, Ho, Wo]. */
export function conv3dDepthWinogradRef(x: NumArray, xShape: Shape, w: NumArray, wShape: Shape, params: Conv3dParams, m: number): Float64Array {
  const g = winoGeometry(xShape, wShape, params, m);
  const tr = transforms(g, m);
  const v = tr.input(x);
  const u = tr.weight(w);
  return tr.output(v.map((vp, p) => conv3dRef(vp, g.vShape, u[p]!, g.uShape, g.plane).y));
}

/** Input gradient through the same decomposition: dx of xShape. */
export function conv3dDepthWinogradBackwardInputRef(dy: NumArray, w: NumArray, wShape: Shape, xShape: Shape, params: Conv3dParams, m: number): Float64Array {
  const g = winoGeometry(xShape, wShape, params, m);
  const tr = transforms(g, m);
  const u = tr.weight(w);
  const dm = tr.outputGrad(dy);
  return tr.inputGrad(dm.map((dmp, p) => conv3dBackwardInputRef(dmp, u[p]!, g.uShape, g.vShape, g.plane)));
}

/** Weight gradient through the same decomposition: dw of wShape. */
export function conv3dDepthWinogradBackwardWeightRef(dy: NumArray, x: NumArray, xShape: Shape, wShape: Shape, params: Conv3dParams, m: number): Float64Array {
  const g = winoGeometry(xShape, wShape, params, m);
  const tr = transforms(g, m);
  const v = tr.input(x);
  const dm = tr.outputGrad(dy);
  const dw = tr.weightGrad(dm.map((dmp, p) => conv3dBackwardWeightRef(dmp, v[p]!, g.vShape, g.uShape, g.plane)));
  if (dw.length !== numel(wShape)) throw new Error('depth Winograd reference: weight gradient size mismatch');
  return dw;
}
