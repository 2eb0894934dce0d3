// Batch-norm forward (training and eval): y = (x − mean[c])·(gamma[c]·invStd[c]) + beta[c], then ReLU
// when RELU = 1 (the fused BN + ReLU). Subtracting the mean before scaling keeps the precision a
// folded x·scale + shift would lose to cancellation when |mean| ≫ std.
// Layout: x and y are NCDHW (NCHW, NC), flat, S = D·H·W values per (n, c) plane. Bindings: params; x;
// gamma, beta, mean, invStd [C]; y.
// V is the load: f32 here; batchnorm.ts also builds this file as `batchnorm-forward-vec4` with
// V = vec4<f32> (S % 4 == 0), LANES values a load (lanes.part.wgsl).
// Threads: one load at a time over the flat index on a 2-D grid, grid-stride looped, the channel
// tracked without a division per load (stream.part.wgsl).
alias V = f32;
#include "batchnorm/lanes.part.wgsl"

override WG: u32 = 256;
override RELU: u32 = 0;

#include "batchnorm/stream.part.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invStd: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<V>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var s: u32;
  var c: u32;
  for (var i = streamStart(lid, wid, nwg, &s, &c); i < params.total; i += nwg.x * nwg.y * WG) {
    var v = (x[i] - V(mean[c])) * (gamma[c] * invStd[c]) + V(beta[c]);
    if (RELU != 0u) {
      v = max(v, V(0.0));
    }
    y[i] = v;
    streamNext(&s, &c);
  }
}
