/**
 * The convolution layers of f-rMC5 (the paper's best network: ResNet-18 with 32 stem filters, 2D
 * convolutions in stages 1–4 and 3D ones in stage 5, depth never strided) on one 256×256 volume of
 * 24 slices, batch 1, plus the 3×7×7 stem of the 3D-early models (f-R3D, f-MCx) and the two shapes of
 * the jax-js comparison. One list for the Node bench and the browser page. Widths 32/64/128/256 and Cin = 1 reproduce the paper's
 * parameter counts (f-R2D 2,796,001; f-rMC5 6,924,769).
 */
export type Triple = [number, number, number];

export interface ConvShape {
  /** Row label. */
  name: string;
  /** Input [N, Cin, D, H, W]. */
  x: [number, number, number, number, number];
  /** Weight [Cout, Cin, kD, kH, kW]. */
  w: [number, number, number, number, number];
  stride: Triple;
  pad: Triple;
  /** How many convolutions of f-rMC5 have this shape (0: not in f-rMC5). */
  count: number;
}

const D = 24;
const S = 256;

export const FRMC5_CONVS: ConvShape[] = [
  { name: 'stem 1×7×7 s(1,2,2)', x: [1, 1, D, S, S], w: [32, 1, 1, 7, 7], stride: [1, 2, 2], pad: [0, 3, 3], count: 1 },
  { name: 'stage2 1×3×3 32→32', x: [1, 32, D, 64, 64], w: [32, 32, 1, 3, 3], stride: [1, 1, 1], pad: [0, 1, 1], count: 4 },
  { name: 'stage3 1×3×3 32→64 s(1,2,2)', x: [1, 32, D, 64, 64], w: [64, 32, 1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1], count: 1 },
  { name: 'stage3 1×3×3 64→64', x: [1, 64, D, 32, 32], w: [64, 64, 1, 3, 3], stride: [1, 1, 1], pad: [0, 1, 1], count: 3 },
  { name: 'stage3 down 1×1×1 32→64 s(1,2,2)', x: [1, 32, D, 64, 64], w: [64, 32, 1, 1, 1], stride: [1, 2, 2], pad: [0, 0, 0], count: 1 },
  { name: 'stage4 1×3×3 64→128 s(1,2,2)', x: [1, 64, D, 32, 32], w: [128, 64, 1, 3, 3], stride: [1, 2, 2], pad: [0, 1, 1], count: 1 },
  { name: 'stage4 1×3×3 128→128', x: [1, 128, D, 16, 16], w: [128, 128, 1, 3, 3], stride: [1, 1, 1], pad: [0, 1, 1], count: 3 },
  { name: 'stage4 down 1×1×1 64→128 s(1,2,2)', x: [1, 64, D, 32, 32], w: [128, 64, 1, 1, 1], stride: [1, 2, 2], pad: [0, 0, 0], count: 1 },
  { name: 'stage5 3×3×3 128→256 s(1,2,2)', x: [1, 128, D, 16, 16], w: [256, 128, 3, 3, 3], stride: [1, 2, 2], pad: [1, 1, 1], count: 1 },
  { name: 'stage5 3×3×3 256→256', x: [1, 256, D, 8, 8], w: [256, 256, 3, 3, 3], stride: [1, 1, 1], pad: [1, 1, 1], count: 3 },
  { name: 'stage5 down 1×1×1 128→256 s(1,2,2)', x: [1, 128, D, 16, 16], w: [256, 128, 1, 1, 1], stride: [1, 2, 2], pad: [0, 0, 0], count: 1 },
];

/** The stem of the models with 3D early layers (f-R3D, f-MCx): same input, 3×7×7 kernel. */
export const STEM_3D: ConvShape = {
  name: 'stem 3×7×7 s(1,2,2) (f-R3D/f-MCx)',
  x: [1, 1, D, S, S],
  w: [32, 1, 3, 7, 7],
  stride: [1, 2, 2],
  pad: [1, 3, 3],
  count: 0,
};

/**
 * The two shapes of the side-by-side jax-js comparison in headless Chromium (SwiftShader):
 * conv2d 3×3 [16, 32, 64, 64] → 32 (16 images: batch 16 of depth 1) and conv3d 3×3×3
 * [1, 32, 16, 64, 64] → 32, both padding 1, forward + backward.
 */
export const PEER_CONVS: ConvShape[] = [
  { name: 'conv2d 3×3 [16,32,64,64]→32', x: [16, 32, 1, 64, 64], w: [32, 32, 1, 3, 3], stride: [1, 1, 1], pad: [0, 1, 1], count: 0 },
  { name: 'conv3d 3×3×3 [1,32,16,64,64]→32', x: [1, 32, 16, 64, 64], w: [32, 32, 3, 3, 3], stride: [1, 1, 1], pad: [1, 1, 1], count: 0 },
];

export function convMacs(s: ConvShape): number {
  const [n, , d, h, w] = s.x;
  const [cout, cin, kd, kh, kw] = s.w;
  const out = [d, h, w].map((e, i) => Math.floor((e + 2 * s.pad[i]! - [kd, kh, kw][i]!) / s.stride[i]!) + 1);
  return n * cout * out[0]! * out[1]! * out[2]! * cin * kd * kh * kw;
}

export function outShape(s: ConvShape): [number, number, number, number, number] {
  const [n, , d, h, w] = s.x;
  const [cout, , kd, kh, kw] = s.w;
  const k = [kd, kh, kw];
  const o = [d, h, w].map((e, i) => Math.floor((e + 2 * s.pad[i]! - k[i]!) / s.stride[i]!) + 1);
  return [n, cout, o[0]!, o[1]!, o[2]!];
}

/** The same layer on a thinner volume (depth `d`), for peers too slow for the full one. */
export function withDepth(s: ConvShape, d: number): ConvShape {
  return { ...s, x: [s.x[0], s.x[1], d, s.x[3], s.x[4]] };
}

/** The same layer on fewer batch entries (for the 2-D peer shape, whose depth is 1). */
export function withBatch(s: ConvShape, n: number): ConvShape {
  return { ...s, x: [n, s.x[1], s.x[2], s.x[3], s.x[4]] };
}

/**
 * The layers timed in --quick mode: the heaviest 3-D layer of f-rMC5 and the two peer shapes (the 2-D
 * one is the same kind of layer as f-rMC5's most frequent, stage 2's 3×3 32→32).
 */
export const QUICK_CONVS: ConvShape[] = [FRMC5_CONVS[9]!, ...PEER_CONVS];

/**
 * Activations of f-rMC5 at 256×256×24, batch 1 (what batch norm, pooling and ReLU see): the stem's
 * output, then stages 2–5 (stage 5 is the 3-D one).
 */
export const FRMC5_ACTIVATIONS: { layer: string; shape: [number, number, number, number, number] }[] = [
  { layer: 'stem', shape: [1, 32, D, 128, 128] },
  { layer: 'stage2', shape: [1, 32, D, 64, 64] },
  { layer: 'stage3', shape: [1, 64, D, 32, 32] },
  { layer: 'stage4', shape: [1, 128, D, 16, 16] },
  { layer: 'stage5', shape: [1, 256, D, 8, 8] },
];
