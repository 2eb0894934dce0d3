// sum: out[0] = scale · Σ x[i] over n elements, in one workgroup (used for scalar losses and small
// reductions; large per-channel reductions live in shaders/batchnorm). Each of the WG threads
// accumulates a strided partial sum, then a tree reduction in workgroup memory combines them
// (common/workgroup-reduce).
override WG: u32 = 256;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { n: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < params.n; i += WG) {
    acc += x[i];
  }
  let total = workgroupSum(lid, acc);
  if (lid == 0u) {
    out[0] = total * params.scale;
  }
}
