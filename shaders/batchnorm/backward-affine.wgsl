// Batch-norm backward, pass 1 of 3: per-workgroup partial sums for the gamma/beta gradients,
// Σ g and Σ g·(x − mean[c]) over one channel segment, where g = dy (masked by y > 0 when RELU = 1: the
// fused BN + ReLU's output is the mask, so forward and backward agree bit for bit on it).
// Layout: dy, x, y are NCDHW (NCHW, NC) viewed as [N, C, S]. Bindings: params; dy, x, y; mean [C]
// (batch mean in training, running mean in eval); partial [C, Q, 2] output (Σ g, Σ g·(x − mean)).
// Without RELU, y is not read; the caller binds dy in its place.
// V is the load: f32 here; batchnorm.ts also builds this file as `batchnorm-backward-affine-vec4` with
// V = vec4<f32> (S % 4 == 0), LANES values a load (lanes.part.wgsl).
// Grid as `stats.wgsl`: y walks the channels, x = segment q of the channel's loads, threads striding
// through it (segment.part.wgsl), then a workgroup tree adds the per-thread sums.
alias V = f32;
#include "batchnorm/lanes.part.wgsl"

override WG: u32 = 64;
override RELU: u32 = 0;

#include "batchnorm/segment.part.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read> x: array<V>;
@group(0) @binding(3) var<storage, read> y: array<V>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

alias Acc = vec2<f32>;
fn combine(a: Acc, b: Acc) -> Acc {
  return a + b;
}
#include "batchnorm/tree.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let end = segmentEnd(wid.x);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let m = V(mean[c]);
    var a = vec2<f32>(0.0);
    var i: u32;
    var s: u32;
    for (var j = segmentStart(wid.x, c, lid, &i, &s); j < end; j += WG) {
      var g = dy[i];
      if (RELU != 0u) {
        g = select(V(0.0), g, y[i] > V(0.0));
      }
      a += vec2<f32>(hsum(g), hdot(g, x[i] - m));
      segmentNext(&i, &s);
    }
    let r = tree(lid, a);
    if (lid == 0u) {
      let o = (c * params.Q + params.Q0 + wid.x) * 2u;
      partial[o] = r.x;
      partial[o + 1u] = r.y;
    }
  }
}
