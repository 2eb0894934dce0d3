// Whole-volume statistics, first stage: each workgroup reduces its share of one volume's n elements
// (x starts at src_base) to (min, max, Σx, Σx²). The intensity augmentations need min/max/mean of the
// whole volume (CLAHE's range, brightness's range, contrast's mean), the elastic field its RMS.
// Threads: WG per workgroup, `groups` workgroups on x; thread t of group g reads elements
// g·WG + t, then every groups·WG further on (grid stride, coalesced), then a tree in workgroup memory.
// partial[g] = (min, max, sum, sum of squares); augment/stats-final.wgsl reduces the partials.
override WG: u32 = 256;

struct Params { n: u32, src_base: u32, groups: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<vec4<f32>>;

#include "augment/stats-reduce.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  var acc = STATS_EMPTY;
  for (var i = wid.x * WG + li; i < params.n; i += params.groups * WG) {
    let v = x[params.src_base + i];
    acc = combine(acc, vec4<f32>(v, v, v, v * v));
  }
  let r = workgroup_combine(li, acc);
  if (li == 0u) {
    partial[wid.x] = r;
  }
}
