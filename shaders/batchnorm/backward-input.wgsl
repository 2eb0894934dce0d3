// Batch-norm backward, pass 3 of 3: the input gradient dx = a·(g − b − (x − mean)·k), with
// coef[c] = (mean, a, b, k) from `backward-affine-reduce.wgsl` (training: the closed form of the batch
// statistics' Jacobian; eval: b = k = 0) and g = dy, masked by y > 0 when RELU = 1 (fused BN + ReLU).
// Layout: NCDHW (NCHW, NC), flat, S values per (n, c) plane. Bindings: params; coef [C, 4]; dy, x, y; dx.
// Without RELU, y is not read and the caller binds dy in its place.
// V is the load: f32 here; batchnorm.ts also builds this file as `batchnorm-backward-input-vec4` with
// V = vec4<f32> (S % 4 == 0), LANES values a load (lanes.part.wgsl).
// Threads: one load at a time over the flat index on a 2-D grid, grid-stride looped, the channel
// tracked as in `forward.wgsl` (stream.part.wgsl).
alias V = f32;
#include "batchnorm/lanes.part.wgsl"

override WG: u32 = 256;
override RELU: u32 = 0;

#include "batchnorm/stream.part.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read> x: array<V>;
@group(0) @binding(3) var<storage, read> y: array<V>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<V>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var s: u32;
  var c: u32;
  for (var i = streamStart(lid, wid, nwg, &s, &c); i < params.total; i += nwg.x * nwg.y * WG) {
    let k = coef[c];
    var g = dy[i];
    if (RELU != 0u) {
      g = select(V(0.0), g, y[i] > V(0.0));
    }
    dx[i] = k.y * (g - V(k.z) - (x[i] - V(k.x)) * k.w);
    streamNext(&s, &c);
  }
}
