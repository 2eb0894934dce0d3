/**
 * Host-side layout conversions for the peers (outside every timed region): voxelgrad is NCDHW with
 * weights [Cout, Cin, kD, kH, kW]; TensorFlow.js is channels-last (NDHWC, filters [kD, kH, kW, Cin, Cout]).
 */

/** `out[i_perm] = data[i]`: axis j of the result is axis perm[j] of the input. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const n = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(n);
  inStrides[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  // Stride in the input of each output axis; walk the output in order.
  const s = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(n).fill(0);
  let src = 0;
  const last = n - 1;
  const lastLen = outShape[last]!;
  const lastStride = s[last]!;
  for (let o = 0; o < out.length; o += lastLen) {
    for (let j = 0, q = src; j < lastLen; j++, q += lastStride) out[o + j] = data[q]!;
    // Advance the multi-index over all but the innermost axis.
    for (let a = last - 1; a >= 0; a--) {
      idx[a]!++;
      src += s[a]!;
      if (idx[a]! < outShape[a]!) break;
      src -= s[a]! * outShape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** NCDHW → NDHWC. */
export const toChannelsLast = (x: Float32Array, s: readonly number[]) => permute(x, s, [0, 2, 3, 4, 1]);
/** NDHWC (given as its NCDHW shape) → NCDHW. */
export function fromChannelsLast(x: Float32Array, ncdhw: readonly number[]): Float32Array {
  const [n, c, d, h, w] = ncdhw;
  return permute(x, [n!, d!, h!, w!, c!], [0, 4, 1, 2, 3]);
}
/** [Cout, Cin, kD, kH, kW] → [kD, kH, kW, Cin, Cout]. */
export const filterToTf = (w: Float32Array, s: readonly number[]) => permute(w, s, [2, 3, 4, 1, 0]);
/** [kD, kH, kW, Cin, Cout] (given as its voxelgrad shape) → [Cout, Cin, kD, kH, kW]. */
export function filterFromTf(w: Float32Array, oidhw: readonly number[]): Float32Array {
  const [o, i, kd, kh, kw] = oidhw;
  return permute(w, [kd!, kh!, kw!, i!, o!], [4, 3, 0, 1, 2]);
}
/** NCDHW → [N·D, C, H, W] (the depth folded into the batch, channels first). */
export const foldDepth = (x: Float32Array, s: readonly number[]) => permute(x, s, [0, 2, 1, 3, 4]);
/** [N·D, C, H, W] (given as its NCDHW shape) → NCDHW. */
export function unfoldDepth(x: Float32Array, ncdhw: readonly number[]): Float32Array {
  const [n, c, d, h, w] = ncdhw;
  return permute(x, [n!, d!, c!, h!, w!], [0, 2, 1, 3, 4]);
}
