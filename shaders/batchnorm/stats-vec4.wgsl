// Batch-norm training statistics, pass 1 of 2, vec4 loads (used when S % 4 == 0, so every plane starts
// 16-byte aligned): one partial (count, mean, M2) per workgroup, as `stats.wgsl`.
// Layout: x4 is NCDHW (NCHW, NC) viewed as [N·C planes, S / 4] vec4s. Bindings: params; x4; partial
// [C, N·Q, 3] receives (count, mean of x − K, M2) with K = x[n=0, c, s=0], the channel's shift.
// Grid: x = segment q of a plane (`seg` elements each), y walks the N·C planes (looped). Threads stride
// through the segment one vec4 at a time (coalesced): the 4 values are reduced exactly, then merged
// into the thread's (count, mean, M2) with Chan's formula; the workgroup merges threads in a tree.
// Shifting by K keeps every quantity on the scale of the standard deviation (no E[x²] − E[x]²).
override WG: u32 = 256;

struct Params { C: u32, S: u32, planes: u32, Q: u32, seg: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
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
  let S4 = params.S / 4u;
  for (var plane = wid.y; plane < params.planes; plane += nwg.y) {
    let c = plane % params.C;
    let k = x4[c * S4].x;
    let base = plane * S4;
    let s1 = min((wid.x + 1u) * (params.seg / 4u), S4);
    var a = vec3<f32>(0.0);
    for (var s = wid.x * (params.seg / 4u) + lid; s < s1; s += WG) {
      let d = x4[base + s] - vec4<f32>(k);
      let m = (d.x + d.y + d.z + d.w) * 0.25;
      let e = d - vec4<f32>(m);
      a = merge(a, vec3<f32>(4.0, m, dot(e, e)));
    }
    finish(lid, wid.x, plane, a);
  }
}
