// Batch-norm training statistics, pass 2 of 2: merges one channel's partials and updates running stats.
// Bindings: params; x (only x[n=0, c, s=0] is read: the shift K the partials are relative to; batch
// entry 0 alone is bound when the input is larger than one binding);
// partial [C, P, 3] (count, mean of x − K, M2) from `stats.wgsl`; mean, invStd [C] outputs;
// runningMean, runningVar [C], updated in place (PyTorch: running ← (1 − momentum)·running +
// momentum·batch, with the unbiased variance M2 / (count − 1) for runningVar; skipped when UPDATE = 0).
// Threads: one workgroup per channel (x, looped past the per-dimension limit); each thread merges a
// strided subset of the P partials with Chan's formula (moments.part.wgsl), then a workgroup tree
// merges the threads (tree.part.wgsl).
override WG: u32 = 64;
override UPDATE: u32 = 1;

struct Params { C: u32, S: u32, P: u32, count: f32, unbias: f32, eps: f32, momentum: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> partial: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> invStd: array<f32>;
@group(0) @binding(5) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(6) var<storage, read_write> runningVar: array<f32>;

#include "batchnorm/moments.part.wgsl"
#include "batchnorm/tree.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var c = wid.x; c < params.C; c += nwg.x) {
    var a = vec3<f32>(0.0);
    for (var p = lid; p < params.P; p += WG) {
      let o = (c * params.P + p) * 3u;
      a = combine(a, vec3<f32>(partial[o], partial[o + 1u], partial[o + 2u]));
    }
    let r = tree(lid, a);
    if (lid == 0u) {
      let m = x[c * params.S] + r.y;
      let v = max(r.z, 0.0) / params.count;
      mean[c] = m;
      invStd[c] = 1.0 / sqrt(v + params.eps);
      if (UPDATE != 0u) {
        runningMean[c] = (1.0 - params.momentum) * runningMean[c] + params.momentum * m;
        runningVar[c] = (1.0 - params.momentum) * runningVar[c] + params.momentum * (v * params.unbias);
      }
    }
  }
}
