// Batch-norm backward, pass 1 of 3, vec4 loads (used when S % 4 == 0): as `backward-affine.wgsl`,
// per-workgroup partial sums Σ g and Σ g·(x − mean[c]), g = dy masked by y > 0 when RELU = 1.
// Layout: dy4, x4, y4 are NCDHW (NCHW, NC) viewed as [N, C, S / 4] vec4s. Bindings: params; dy4, x4, y4
// (unread without RELU: the caller binds dy there); mean [C]; partial [C, Q, 2] output.
// Grid as `stats-vec4.wgsl`: y walks the channels, x = segment q of the channel's N·S/4 vec4s taken
// n-major; threads stride through the segment one vec4 at a time (coalesced), indices advancing as in
// `stats.wgsl` (no division per vec4), then a workgroup tree adds the per-thread sums.
override WG: u32 = 64;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y4: array<vec4<f32>>;
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
  let S4 = params.S / 4u;
  let j0 = wid.x * params.seg + lid;
  let j1 = min((wid.x + 1u) * params.seg, params.N * S4);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let m = vec4<f32>(mean[c]);
    let n0 = j0 / S4;
    var s = j0 - n0 * S4;
    var i = (n0 * params.C + c) * S4 + s;
    var a = vec2<f32>(0.0);
    for (var j = j0; j < j1; j += WG) {
      var g = dy4[i];
      if (RELU != 0u) {
        g = select(vec4<f32>(0.0), g, y4[i] > vec4<f32>(0.0));
      }
      let ones = vec4<f32>(1.0);
      a += vec2<f32>(dot(g, ones), dot(g, x4[i] - m));
      // WG values further along the channel; one more plane of the channel when s wraps.
      s += params.stepS;
      let wrap = s >= S4;
      s = select(s, s - S4, wrap);
      i += params.step + select(0u, params.planeStep, wrap);
    }
    finish(lid, wid.x, c, a);
  }
}
