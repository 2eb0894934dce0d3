// Batch-norm backward, pass 1 of 3, vec4 loads (used when S % 4 == 0): as `backward-affine.wgsl`,
// per-workgroup partial sums Σ g and Σ g·(x − mean[c]), g = dy masked by y > 0 when RELU = 1.
// Layout: dy4, x4, y4 are NCDHW (NCHW, NC) viewed as [N·C planes, S / 4] vec4s. Bindings: params; dy4,
// x4, y4 (unread without RELU: the caller binds dy there); mean [C]; partial [C, N·Q, 2] output.
// Grid: x = segment q of `seg` elements of a plane, y walks the planes; threads stride through the
// segment one vec4 at a time (coalesced), then a workgroup tree adds the per-thread sums.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32, Q: u32, seg: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

var<workgroup> acc: array<vec2<f32>, WG>;

fn finish(lid: u32, q: u32, plane: u32, mine: vec2<f32>) {
  acc[lid] = mine;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      acc[lid] += acc[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = plane / params.C;
    let c = plane - n * params.C;
    let o = (c * (params.planes / params.C * params.Q) + n * params.Q + q) * 2u;
    partial[o] = acc[0].x;
    partial[o + 1u] = acc[0].y;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S4 = params.S / 4u;
  for (var plane = wid.y; plane < params.planes; plane += nwg.y) {
    let m = vec4<f32>(mean[plane % params.C]);
    let base = plane * S4;
    let s1 = min((wid.x + 1u) * (params.seg / 4u), S4);
    var a = vec2<f32>(0.0);
    for (var s = wid.x * (params.seg / 4u) + lid; s < s1; s += WG) {
      var g = dy4[base + s];
      if (RELU != 0u) {
        g = select(vec4<f32>(0.0), g, y4[base + s] > vec4<f32>(0.0));
      }
      let ones = vec4<f32>(1.0);
      a += vec2<f32>(dot(g, ones), dot(g, x4[base + s] - m));
    }
    finish(lid, wid.x, plane, a);
  }
}
