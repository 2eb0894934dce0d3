// Batch-norm training statistics, pass 1 of 2: one partial (count, mean, M2) per workgroup.
// Layout: x is NCDHW (NCHW and NC alike) viewed as [N·C planes, S], S = D·H·W, contiguous; statistics are
// per channel over N and S. Bindings: params; x; partial [C, N·Q, 3] receives (count, mean of x − K, M2)
// with K = x[n=0, c, s=0], the channel's shift. (`stats-vec4.wgsl` is the same pass with vec4 loads.)
// Grid: x = segment q of a plane (`seg` elements each, Q per plane); y walks the N·C planes (looped with
// stride num_workgroups.y past the per-dimension limit). Threads stride through the segment so loads are
// coalesced; each runs Welford on its values, and the workgroup merges its threads pairwise with Chan's
// formula in a tree. Why shift by K: every accumulated quantity stays on the scale of the standard
// deviation, so a mean offset such as 1e4 + N(0, 1) costs no precision (no E[x²] − E[x]² anywhere).
override WG: u32 = 256;

struct Params { C: u32, S: u32, planes: u32, Q: u32, seg: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

var<workgroup> acc: array<vec3<f32>, WG>;

// Chan et al.'s pairwise update of (count, mean, M2); exact when either side is empty.
fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  let wb = select(0.0, b.x / n, n > 0.0);
  let delta = b.y - a.y;
  return vec3<f32>(n, a.y + delta * wb, a.z + b.z + delta * delta * a.x * wb);
}

fn finish(lid: u32, q: u32, plane: u32, mine: vec3<f32>) {
  acc[lid] = mine;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      acc[lid] = merge(acc[lid], acc[lid + h]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = plane / params.C;
    let c = plane - n * params.C;
    let o = (c * (params.planes / params.C * params.Q) + n * params.Q + q) * 3u;
    let r = acc[0];
    partial[o] = r.x;
    partial[o + 1u] = r.y;
    partial[o + 2u] = r.z;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var plane = wid.y; plane < params.planes; plane += nwg.y) {
    let c = plane % params.C;
    let k = x[c * params.S];
    let base = plane * params.S;
    let s1 = min((wid.x + 1u) * params.seg, params.S);
    var a = vec3<f32>(0.0);
    for (var s = wid.x * params.seg + lid; s < s1; s += WG) {
      // Welford: one value at a time.
      let d = x[base + s] - k;
      a.x += 1.0;
      let delta = d - a.y;
      a.y += delta / a.x;
      a.z += delta * (d - a.y);
    }
    finish(lid, wid.x, plane, a);
  }
}
