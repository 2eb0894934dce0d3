// swap-axes: out = x with two axes exchanged. The tensor is viewed as [A, B, M, C, I] (row-major) and
// written as [A, C, M, B, I]; any transpose of two axes of a contiguous N-d tensor has this form
// (A = product of dims before the first axis, M = between them, I = after the second).
// Threads: one per output element on a 2-D grid (x fastest); each reads its source element.
override WG: u32 = 256;

struct Params { n: u32, a: u32, b: u32, m: u32, c: u32, i: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * WG;
  if (o >= params.n) {
    return;
  }
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
