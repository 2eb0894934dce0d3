// Batch-norm backward, pass 1 of 3: per-workgroup partial sums for the gamma/beta gradients,
// Σ g and Σ g·(x − mean[c]) over one channel segment, where g = dy (masked by y > 0 when RELU = 1: the
// fused BN + ReLU's output is the mask, so forward and backward agree bit for bit on it).
// Layout: dy, x, y are NCDHW (NCHW, NC) viewed as [N, C, S]. Bindings: params; dy, x, y; mean [C]
// (batch mean in training, running mean in eval); partial [C, Q, 2] output (Σ g, Σ g·(x − mean)).
// Without RELU, y is not read; the caller binds dy in its place. (`backward-affine-vec4.wgsl`: vec4 loads.)
// Grid as `stats.wgsl`: y walks the channels, x = segment q of the channel's N·S values taken n-major
// (several small planes or part of a big one); threads stride through the segment (coalesced), indices
// advancing as in `stats.wgsl` (no division per value), then a workgroup tree adds the per-thread sums.
override WG: u32 = 64;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

var<workgroup> acc: array<vec2<f32>, WG>;

fn finish(lid: u32, q: u32, c: u32, mine: vec2<f32>) {
  acc[lid] = mine;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      acc[lid] += acc[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let o = (c * params.Q + q) * 2u;
    partial[o] = acc[0].x;
    partial[o + 1u] = acc[0].y;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S = params.S;
  let j0 = wid.x * params.seg + lid;
  let j1 = min((wid.x + 1u) * params.seg, params.N * S);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let m = mean[c];
    let n0 = j0 / S;
    var s = j0 - n0 * S;
    var i = (n0 * params.C + c) * S + s;
    var a = vec2<f32>(0.0);
    for (var j = j0; j < j1; j += WG) {
      var g = dy[i];
      if (RELU != 0u) {
        g = select(0.0, g, y[i] > 0.0);
      }
      a += vec2<f32>(g, g * (x[i] - m));
      // WG values further along the channel; one more plane of the channel when s wraps.
      s += params.stepS;
      let wrap = s >= S;
      s = select(s, s - S, wrap);
      i += params.step + select(0u, params.planeStep, wrap);
    }
    finish(lid, wid.x, c, a);
  }
}
