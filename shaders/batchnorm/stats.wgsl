// Batch-norm training statistics, pass 1 of 2: one partial (count, mean, M2) per workgroup.
// Layout: x is NCDHW (NCHW and NC alike) viewed as [N, C, S], S = D·H·W, contiguous; statistics are
// per channel over N and S. Bindings: params; x; partial [C, Q, 3] receives (count, mean of x − K, M2)
// with K = shift[c, s=0], the channel's shift; shift is batch entry 0 of the whole input (x itself when
// x is not a chunk of the batch), so every chunk's partials share one K.
// V is the load: f32 here; batchnorm.ts also builds this file as `batchnorm-stats-vec4` with
// V = vec4<f32> (S % 4 == 0), LANES values a load (lanes.part.wgsl).
// Grid: y walks the channels (looped with stride num_workgroups.y past the per-dimension limit); x =
// segment q of the channel's loads, threads striding through it (segment.part.wgsl). Each thread
// keeps a (count, mean, M2) of its values — Welford's update per value, or per vec4 the 4 values' mean
// and M2 computed exactly and merged in with Chan's formula — and the workgroup merges its threads in a
// tree.
// Why shift by K: every accumulated quantity stays on the scale of the standard deviation, so a mean
// offset such as 1e4 + N(0, 1) costs no precision (no E[x²] − E[x]² anywhere).
alias V = f32;
#include "batchnorm/lanes.part.wgsl"

override WG: u32 = 64;

#include "batchnorm/segment.part.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<storage, read> shift: array<V>;

#include "batchnorm/moments.part.wgsl"
#include "batchnorm/tree.part.wgsl"

// Adds one load's LANES values d (shifted by K) to the thread's (count, mean, M2). The width is a
// constant, so each kernel compiles one branch.
fn accumulate(a: Acc, d: V) -> Acc {
  if (LANES == 1u) {
    // Welford: one value at a time (hsum(d) is d).
    let v = hsum(d);
    let n = a.x + 1.0;
    let delta = v - a.y;
    let mean = a.y + delta / n;
    return vec3<f32>(n, mean, a.z + delta * (v - mean));
  }
  // A vec4: its 4 values' mean and M2 exactly, merged in with Chan's formula.
  let m = hsum(d) * (1.0 / f32(LANES));
  let e = d - V(m);
  return combine(a, vec3<f32>(f32(LANES), m, hdot(e, e)));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let end = segmentEnd(wid.x);
  for (var c = wid.y; c < params.C; c += nwg.y) {
    let k = V(lane0(shift[c * (params.S / LANES)]));
    var a = vec3<f32>(0.0);
    var i: u32;
    var s: u32;
    for (var j = segmentStart(wid.x, c, lid, &i, &s); j < end; j += WG) {
      a = accumulate(a, x[i] - k);
      segmentNext(&i, &s);
    }
    let r = tree(lid, a);
    if (lid == 0u) {
      let o = (c * params.Q + params.Q0 + wid.x) * 3u;
      partial[o] = r.x;
      partial[o + 1u] = r.y;
      partial[o + 2u] = r.z;
    }
  }
}
