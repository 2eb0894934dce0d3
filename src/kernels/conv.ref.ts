/**
 * Float64 CPU reference for the 3D convolution family (2D convs are kD = 1), in plain loops.
 * Input x [N, Cin, D, H, W], weight [Cout, Cin, kD, kH, kW], output [N, Cout, Do, Ho, Wo], no bias,
 * no groups. Cross-correlation with zero padding, as PyTorch's conv3d. The GPU kernels are tested
 * against these; the backward passes are the transposed loops of the forward, checked by finite
 * differences, so they share no code with any kernel.
 */
import { checkLength, checkShape, checkTriple, type NumArray, type Shape, type Triple } from './ref-util.js';

export interface Conv3dParams {
  /** Per-axis stride (depth, height, width); default [1, 1, 1]. */
  stride?: Triple;
  /** Symmetric zero padding per axis; default [0, 0, 0]. */
  pad?: Triple;
  /** Per-axis dilation; default [1, 1, 1]. */
  dilation?: Triple;
}

interface ConvGeom {
  n: number;
  ci: number;
  co: number;
  d: number;
  h: number;
  w: number;
  kd: number;
  kh: number;
  kw: number;
  od: number;
  oh: number;
  ow: number;
  s: [number, number, number];
  p: [number, number, number];
  dl: [number, number, number];
}

/** Output extent along one axis, PyTorch's formula floor((in + 2p − dil·(k − 1) − 1) / s) + 1. */
export function convOutSize(inSize: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((inSize + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

function geometry(xShape: Shape, wShape: Shape, params: Conv3dParams): ConvGeom {
  checkShape(xShape, 5, 'conv3d input [N, Cin, D, H, W]');
  checkShape(wShape, 5, 'conv3d weight [Cout, Cin, kD, kH, kW]');
  const s = checkTriple(params.stride, [1, 1, 1], 1, 'conv3d stride');
  const p = checkTriple(params.pad, [0, 0, 0], 0, 'conv3d pad');
  const dl = checkTriple(params.dilation, [1, 1, 1], 1, 'conv3d dilation');
  const [n, ci, d, h, w] = xShape as [number, number, number, number, number];
  const [co, wci, kd, kh, kw] = wShape as [number, number, number, number, number];
  if (wci !== ci) {
    throw new Error(`conv3d weight has ${wci} input channels but the input has ${ci}; weight must be [Cout, ${ci}, kD, kH, kW]`);
  }
  const od = convOutSize(d, kd, s[0], p[0], dl[0]);
  const oh = convOutSize(h, kh, s[1], p[1], dl[1]);
  const ow = convOutSize(w, kw, s[2], p[2], dl[2]);
  if (od < 1 || oh < 1 || ow < 1) {
    throw new Error(
      `conv3d output would be empty ([${od}, ${oh}, ${ow}]) for input [${d}, ${h}, ${w}], kernel [${kd}, ${kh}, ${kw}], ` +
        `stride [${s.join(', ')}], pad [${p.join(', ')}], dilation [${dl.join(', ')}]; enlarge the input or the padding`,
    );
  }
  return { n, ci, co, d, h, w, kd, kh, kw, od, oh, ow, s, p, dl };
}

/** Output shape [N, Cout, Do, Ho, Wo] of conv3d (validates shapes and parameters). */
export function conv3dOutputShape(xShape: Shape, wShape: Shape, params: Conv3dParams = {}): number[] {
  const g = geometry(xShape, wShape, params);
  return [g.n, g.co, g.od, g.oh, g.ow];
}

/**
 * Visits every (output position, kernel tap) pair whose input position is inside the volume, for
 * one output channel and one input channel: cb(outIndexInPlane, inIndexInPlane, tapIndex).
 * Shared traversal of forward and both backward passes so the three are exact transposes.
 */
function forEachTap(g: ConvGeom, cb: (o: number, i: number, t: number) => void): void {
  const { d, h, w, kd, kh, kw, od, oh, ow, s, p, dl } = g;
  for (let zo = 0; zo < od; zo++) {
    for (let yo = 0; yo < oh; yo++) {
      for (let xo = 0; xo < ow; xo++) {
        const o = (zo * oh + yo) * ow + xo;
        for (let a = 0; a < kd; a++) {
          const zi = zo * s[0] - p[0] + a * dl[0];
          if (zi < 0 || zi >= d) continue;
          for (let b = 0; b < kh; b++) {
            const yi = yo * s[1] - p[1] + b * dl[1];
            if (yi < 0 || yi >= h) continue;
            for (let c = 0; c < kw; c++) {
              const xi = xo * s[2] - p[2] + c * dl[2];
              if (xi < 0 || xi >= w) continue;
              cb(o, (zi * h + yi) * w + xi, (a * kh + b) * kw + c);
            }
          }
        }
      }
    }
  }
}

/** Forward: y[n,co,z,y,x] = Σ_{ci,a,b,c} w[co,ci,a,b,c] · x[n,ci, z·sD−pD+a·dD, y·sH−pH+b·dH, x·sW−pW+c·dW]. */
export function conv3dRef(x: NumArray, xShape: Shape, w: NumArray, wShape: Shape, params: Conv3dParams = {}): { y: Float64Array; yShape: number[] } {
  const g = geometry(xShape, wShape, params);
  checkLength(x, xShape, 'conv3d input');
  checkLength(w, wShape, 'conv3d weight');
  const inPlane = g.d * g.h * g.w;
  const outPlane = g.od * g.oh * g.ow;
  const taps = g.kd * g.kh * g.kw;
  const y = new Float64Array(g.n * g.co * outPlane);
  for (let n = 0; n < g.n; n++) {
    for (let co = 0; co < g.co; co++) {
      const yOff = (n * g.co + co) * outPlane;
      for (let ci = 0; ci < g.ci; ci++) {
        const xOff = (n * g.ci + ci) * inPlane;
        const wOff = (co * g.ci + ci) * taps;
        forEachTap(g, (o, i, t) => {
          y[yOff + o]! += w[wOff + t]! * x[xOff + i]!;
        });
      }
    }
  }
  return { y, yShape: [g.n, g.co, g.od, g.oh, g.ow] };
}

/** Gradient w.r.t. the input: dx = convᵀ(dy, w), shape xShape. dy has the forward's output shape. */
export function conv3dBackwardInputRef(dy: NumArray, w: NumArray, wShape: Shape, xShape: Shape, params: Conv3dParams = {}): Float64Array {
  const g = geometry(xShape, wShape, params);
  checkLength(dy, [g.n, g.co, g.od, g.oh, g.ow], 'conv3d output gradient dy');
  checkLength(w, wShape, 'conv3d weight');
  const inPlane = g.d * g.h * g.w;
  const outPlane = g.od * g.oh * g.ow;
  const taps = g.kd * g.kh * g.kw;
  const dx = new Float64Array(g.n * g.ci * inPlane);
  for (let n = 0; n < g.n; n++) {
    for (let co = 0; co < g.co; co++) {
      const yOff = (n * g.co + co) * outPlane;
      for (let ci = 0; ci < g.ci; ci++) {
        const xOff = (n * g.ci + ci) * inPlane;
        const wOff = (co * g.ci + ci) * taps;
        forEachTap(g, (o, i, t) => {
          dx[xOff + i]! += w[wOff + t]! * dy[yOff + o]!;
        });
      }
    }
  }
  return dx;
}

/** Gradient w.r.t. the weight: dw[co,ci,a,b,c] = Σ_{n, out pos} dy · x at the tap, shape wShape. */
export function conv3dBackwardWeightRef(dy: NumArray, x: NumArray, xShape: Shape, wShape: Shape, params: Conv3dParams = {}): Float64Array {
  const g = geometry(xShape, wShape, params);
  checkLength(dy, [g.n, g.co, g.od, g.oh, g.ow], 'conv3d output gradient dy');
  checkLength(x, xShape, 'conv3d input');
  const inPlane = g.d * g.h * g.w;
  const outPlane = g.od * g.oh * g.ow;
  const taps = g.kd * g.kh * g.kw;
  const dw = new Float64Array(g.co * g.ci * taps);
  for (let n = 0; n < g.n; n++) {
    for (let co = 0; co < g.co; co++) {
      const yOff = (n * g.co + co) * outPlane;
      for (let ci = 0; ci < g.ci; ci++) {
        const xOff = (n * g.ci + ci) * inPlane;
        const wOff = (co * g.ci + ci) * taps;
        forEachTap(g, (o, i, t) => {
          dw[wOff + t]! += dy[yOff + o]! * x[xOff + i]!;
        });
      }
    }
  }
  return dw;
}
