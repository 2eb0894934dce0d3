// Batch-norm backward, pass 1 of 3: per-workgroup partial sums for the gamma/beta gradients,
// Σ g and Σ g·(x − mean[c]) over one plane segment, where g = dy (masked by y > 0 when RELU = 1: the
// fused BN + ReLU's output is the mask, so forward and backward agree bit for bit on it).
// Layout: dy, x, y are NCDHW (NCHW, NC) viewed as [N·C planes, S]. Bindings: params; dy, x, y; mean [C]
// (batch mean in training, running mean in eval); partial [C, N·Q, 2] output (Σ g, Σ g·(x − mean)).
// Without RELU, y is not read; the caller binds dy in its place. (`backward-affine-vec4.wgsl`: vec4 loads.)
// Grid as `stats.wgsl`: x = segment q of `seg` elements of a plane, y walks the planes; threads stride
// through the segment (coalesced), then a workgroup tree adds the per-thread sums.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32, Q: u32, seg: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
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
  for (var plane = wid.y; plane < params.planes; plane += nwg.y) {
    let m = mean[plane % params.C];
    let base = plane * params.S;
    let s1 = min((wid.x + 1u) * params.seg, params.S);
    var a = vec2<f32>(0.0);
    for (var s = wid.x * params.seg + lid; s < s1; s += WG) {
      var g = dy[base + s];
      if (RELU != 0u) {
        g = select(0.0, g, y[base + s] > 0.0);
      }
      a += vec2<f32>(g, g * (x[base + s] - m));
    }
    finish(lid, wid.x, plane, a);
  }
}
