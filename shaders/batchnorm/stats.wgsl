// Batch-norm training statistics, pass 1 of 2: one partial (count, mean, M2) per workgroup.
// Layout: x is NCDHW (NCHW and NC alike) viewed as [N, C, S], S = D·H·W, contiguous; statistics are
// per channel over N and S. Bindings: params; x; partial [C, Q, 3] receives (count, mean of x − K, M2)
// with K = x[n=0, c, s=0], the channel's shift. (`stats-vec4.wgsl` is the same pass with vec4 loads.)
// Grid: y walks the channels (looped with stride num_workgroups.y past the per-dimension limit); x =
// segment q of the channel's N·S values taken n-major (`seg` each, Q per channel), so one workgroup
// covers many whole planes of one channel when planes are small (no lane idles on a plane of 8 values)
// and part of one plane when they are big. Threads stride through the segment (coalesced), moving their
// element index by the host's `step` (WG values further along the channel: divmod(WG, S) planes and
// stepS) and `planeStep` (to the channel's next plane) when s wraps, so no value needs a division;
// each runs Welford on its values, and the workgroup merges its threads pairwise (Chan) in a tree.
// Why shift by K: every accumulated quantity stays on the scale of the standard deviation, so a mean
// offset such as 1e4 + N(0, 1) costs no precision (no E[x²] − E[x]² anywhere).
override WG: u32 = 64;

struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32 }

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
  let S = params.S;
  let j0 = wid.x * params.seg + lid;
  let j1 = min((wid.x + 1u) * params.seg, params.N * S);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let k = x[c * S];
    let n0 = j0 / S;
    var s = j0 - n0 * S;
    var i = (n0 * params.C + c) * S + s;
    var a = vec3<f32>(0.0);
    for (var j = j0; j < j1; j += WG) {
      // Welford: one value at a time.
      let d = x[i] - k;
      a.x += 1.0;
      let delta = d - a.y;
      a.y += delta / a.x;
      a.z += delta * (d - a.y);
      // WG values further along the channel; one more plane of the channel when s wraps.
      s += params.stepS;
      let wrap = s >= S;
      s = select(s, s - S, wrap);
      i += params.step + select(0u, params.planeStep, wrap);
    }
    finish(lid, wid.x, c, a);
  }
}
