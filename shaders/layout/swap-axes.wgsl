// swap-axes: out = x with two axes exchanged. The tensor is viewed as [A, B, M, C, I] (row-major) and
// written as [A, C, M, B, I]; any transpose of two axes of a contiguous N-d tensor has this form
// (A = product of dims before the first axis, M = between them, I = after the second).
// Threads: one per output element (elementwise/per-element.part.wgsl); each reads its source element.

struct Params { n: u32, a: u32, b: u32, m: u32, c: u32, i: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(o: u32) {
  // Decompose the output index over [A, C, M, B, I].
  var r = o;
  let ii = r % params.i; r = r / params.i;
  let bb = r % params.b; r = r / params.b;
  let mm = r % params.m; r = r / params.m;
  let cc = r % params.c; r = r / params.c;
  let aa = r;
  let src = (((aa * params.b + bb) * params.m + mm) * params.c + cc) * params.i + ii;
  out[o] = x[src];
}
