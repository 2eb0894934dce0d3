// Triplet loss, optional first step: row L2 norms for normalised embeddings f_i = x_i / n_i,
// n_i = sqrt(‖x_i‖² + ε) (the smooth form of activations.ref's l2NormalizeRowsRef).
// Bindings: x [N, E] embeddings; norms [N] vec2 (‖x_i‖², n_i).
// Mapping: one workgroup per row i (2-D grid over rows); thread t sums x[i, t + WG·r]² (coalesced over the
// long axis, E = 65,536 for bilinear features), then a tree reduction in workgroup memory
// (common/workgroup-reduce).
override WG: u32 = 256;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { n: u32, e: u32, normEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> norms: array<vec2<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wid.x + wid.y * nwg.x;
  var s = 0.0;
  if (i < params.n) {
    for (var k = li; k < params.e; k += WG) {
      let v = x[i * params.e + k];
      s += v * v;
    }
  }
  let ss = workgroupSum(li, s);
  if (li == 0u && i < params.n) {
    norms[i] = vec2<f32>(ss, sqrt(ss + params.normEps));
  }
}
