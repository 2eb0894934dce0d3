/**
 * Float64 CPU reference for 3D max pooling on NCDHW (the ResNet stem's in-plane pool is
 * kernel [1, 3, 3], stride [1, 2, 2], pad [0, 1, 1]). Padding never wins (it acts as −∞), the window
 * is scanned in (d, h, w) order and the first maximum is kept, NaN propagates — as PyTorch's CPU kernel.
 */
import { checkLength, checkShape, checkTriple, type NumArray, type Shape, type Triple } from './ref-util.js';
import { convOutSize } from './conv.ref.js';

export interface MaxPool3dParams {
  /** Window extent (depth, height, width). */
  kernel: Triple;
  /** Per-axis stride; default = kernel (PyTorch's default). */
  stride?: Triple;
  /** Symmetric padding per axis, at most half the kernel extent; default [0, 0, 0]. */
  pad?: Triple;
  /** Per-axis dilation; default [1, 1, 1]. */
  dilation?: Triple;
}

export interface MaxPool3dResult {
  y: Float64Array;
  /** [N, C, Do, Ho, Wo] */
  yShape: number[];
  /**
   * Per output element, the flat index (d·H + h)·W + w of the chosen input element inside its own
   * (n, c) volume — PyTorch's `return_indices` convention. The global input index is
   * (n·C + c)·D·H·W + argmax.
   */
  argmax: Int32Array;
}

function geometry(xShape: Shape, params: MaxPool3dParams) {
  checkShape(xShape, 5, 'maxPool3d input [N, C, D, H, W]');
  const k = checkTriple(params.kernel, [1, 1, 1], 1, 'maxPool3d kernel');
  const s = checkTriple(params.stride, k, 1, 'maxPool3d stride');
  const p = checkTriple(params.pad, [0, 0, 0], 0, 'maxPool3d pad');
  const dl = checkTriple(params.dilation, [1, 1, 1], 1, 'maxPool3d dilation');
  for (let a = 0; a < 3; a++) {
    // Guarantees every window holds at least one real element (PyTorch enforces the same).
    if (2 * p[a]! > k[a]!) {
      throw new Error(`maxPool3d pad [${p.join(', ')}] exceeds half the kernel [${k.join(', ')}] on axis ${a}; use pad <= floor(kernel / 2)`);
    }
  }
  const [n, c, d, h, w] = xShape as [number, number, number, number, number];
  const od = convOutSize(d, k[0], s[0], p[0], dl[0]);
  const oh = convOutSize(h, k[1], s[1], p[1], dl[1]);
  const ow = convOutSize(w, k[2], s[2], p[2], dl[2]);
  if (od < 1 || oh < 1 || ow < 1) {
    throw new Error(
      `maxPool3d output would be empty ([${od}, ${oh}, ${ow}]) for input [${d}, ${h}, ${w}] and kernel [${k.join(', ')}]; enlarge the input or the padding`,
    );
  }
  return { n, c, d, h, w, k, s, p, dl, od, oh, ow };
}

/** Output shape [N, C, Do, Ho, Wo] of maxPool3d (floor mode, as PyTorch's default). */
export function maxPool3dOutputShape(xShape: Shape, params: MaxPool3dParams): number[] {
  const g = geometry(xShape, params);
  return [g.n, g.c, g.od, g.oh, g.ow];
}

/** Forward: maximum over each window, with the argmax of each output. */
export function maxPool3dRef(x: NumArray, xShape: Shape, params: MaxPool3dParams): MaxPool3dResult {
  const g = geometry(xShape, params);
  checkLength(x, xShape, 'maxPool3d input');
  const { d, h, w, k, s, p, dl, od, oh, ow } = g;
  const inVol = d * h * w;
  const outVol = od * oh * ow;
  const y = new Float64Array(g.n * g.c * outVol);
  const argmax = new Int32Array(y.length);
  for (let nc = 0; nc < g.n * g.c; nc++) {
    const xOff = nc * inVol;
    for (let zo = 0; zo < od; zo++) {
      for (let yo = 0; yo < oh; yo++) {
        for (let xo = 0; xo < ow; xo++) {
          let best = -Infinity;
          let bestIdx = -1;
          for (let a = 0; a < k[0]; a++) {
            const zi = zo * s[0] - p[0] + a * dl[0];
            if (zi < 0 || zi >= d) continue;
            for (let b = 0; b < k[1]; b++) {
              const yi = yo * s[1] - p[1] + b * dl[1];
              if (yi < 0 || yi >= h) continue;
              for (let c = 0; c < k[2]; c++) {
                const xi = xo * s[2] - p[2] + c * dl[2];
                if (xi < 0 || xi >= w) continue;
                const idx = (zi * h + yi) * w + xi;
                const v = x[xOff + idx]!;
                // Strictly greater keeps the first maximum on ties; the first in-bounds element
                // is taken even if it is −∞, so the index always points at a real input.
                if (bestIdx < 0 || v > best || Number.isNaN(v)) {
                  best = v;
                  bestIdx = idx;
                }
              }
            }
          }
          const o = nc * outVol + (zo * oh + yo) * ow + xo;
          y[o] = best;
          argmax[o] = bestIdx;
        }
      }
    }
  }
  return { y, yShape: [g.n, g.c, od, oh, ow], argmax };
}

/**
 * Backward: each output gradient is added to the input element its argmax names (several outputs can
 * route to one input when windows overlap). Returns dx of shape xShape.
 */
export function maxPool3dBackwardRef(dy: NumArray, argmax: ArrayLike<number>, yShape: Shape, xShape: Shape): Float64Array {
  checkShape(xShape, 5, 'maxPool3d input [N, C, D, H, W]');
  checkShape(yShape, 5, 'maxPool3d output [N, C, Do, Ho, Wo]');
  if (yShape[0] !== xShape[0] || yShape[1] !== xShape[1]) {
    throw new Error(`maxPool3d backward: output shape [${yShape.join(', ')}] and input shape [${xShape.join(', ')}] disagree on N or C`);
  }
  checkLength(dy, yShape, 'maxPool3d output gradient dy');
  checkLength(argmax, yShape, 'maxPool3d argmax');
  const inVol = xShape[2]! * xShape[3]! * xShape[4]!;
  const outVol = yShape[2]! * yShape[3]! * yShape[4]!;
  const dx = new Float64Array(xShape[0]! * xShape[1]! * inVol);
  for (let nc = 0; nc < xShape[0]! * xShape[1]!; nc++) {
    for (let o = 0; o < outVol; o++) {
      const idx = argmax[nc * outVol + o]!;
      if (!(Number.isInteger(idx) && idx >= 0 && idx < inVol)) {
        throw new Error(`maxPool3d backward: argmax ${idx} at output ${nc * outVol + o} is outside [0, ${inVol}); pass the argmax from the forward`);
      }
      dx[nc * inVol + idx] += dy[nc * outVol + o]!;
    }
  }
  return dx;
}
