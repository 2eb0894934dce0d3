// Batch-norm training statistics, pass 1 of 2, vec4 loads (used when S % 4 == 0, so every plane starts
// 16-byte aligned): one partial (count, mean, M2) per workgroup, as `stats.wgsl`.
// Layout: x4 is NCDHW (NCHW, NC) viewed as [N, C, S / 4] vec4s. Bindings: params; x4; partial [C, Q, 3]
// receives (count, mean of x − K, M2) with K = x[n=0, c, s=0], the channel's shift.
// Grid as `stats.wgsl`, in vec4s: y walks the channels (looped), x = segment q of the channel's N·S/4
// vec4s taken n-major (`seg` vec4s each), so a workgroup covers several small planes of one channel or
// part of a big one; element indices advance as in `stats.wgsl`, in vec4s. Threads stride
// through the segment one vec4 at a time (coalesced): the 4 values are reduced exactly, then merged
// into the thread's (count, mean, M2) with Chan's formula; the workgroup merges threads in a tree.
// Shifting by K keeps every quantity on the scale of the standard deviation (no E[x²] − E[x]²).
override WG: u32 = 64;

struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32 }

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

fn finish(lid: u32, q: u32, c: u32, mine: vec3<f32>) {
  acc[lid] = mine;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      acc[lid] = merge(acc[lid], acc[lid + h]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let o = (c * params.Q + q) * 3u;
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
  let j0 = wid.x * params.seg + lid;
  let j1 = min((wid.x + 1u) * params.seg, params.N * S4);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let k = vec4<f32>(x4[c * S4].x);
    let n0 = j0 / S4;
    var s = j0 - n0 * S4;
    var i = (n0 * params.C + c) * S4 + s;
    var a = vec3<f32>(0.0);
    for (var j = j0; j < j1; j += WG) {
      let d = x4[i] - k;
      let m = (d.x + d.y + d.z + d.w) * 0.25;
      let e = d - vec4<f32>(m);
      a = merge(a, vec3<f32>(4.0, m, dot(e, e)));
      // WG values further along the channel; one more plane of the channel when s wraps.
      s += params.stepS;
      let wrap = s >= S4;
      s = select(s, s - S4, wrap);
      i += params.step + select(0u, params.planeStep, wrap);
    }
    finish(lid, wid.x, c, a);
  }
}
