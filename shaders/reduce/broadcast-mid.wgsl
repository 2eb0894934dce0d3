// Broadcast along the middle axis, the adjoint of `sum-mid.wgsl`: out[o, m, i] = alpha · y[o, i] for a
// contiguous [outer, mid, inner] output (e.g. the backward of a mean over H·W: y [N·C·D], out
// [N·C·D, H·W, 1], alpha = 1 / (H·W)). Bindings: params; y [outer, inner]; out [outer, mid, inner].
// Threads: one output element each; grid x = blocks of WG over the mid·inner elements of one outer
// index, y = outer (both looped with the grid's stride past the per-dimension limit), so only the
// inner index needs a remainder.
override WG: u32 = 256;

struct Params { outer: u32, mid: u32, inner: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = params.mid * params.inner;
  for (var o = gid.y; o < params.outer; o += nwg.y) {
    for (var e = gid.x; e < row; e += nwg.x * WG) {
      out[o * row + e] = params.alpha * y[o * params.inner + e % params.inner];
    }
  }
}
