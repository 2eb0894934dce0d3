// Whole-volume statistics, second stage: ONE workgroup reduces the `groups` partials of
// augment/stats-partial.wgsl and stores stats[slot] = (min, max, mean, mean of squares) with
// mean = Σx · inv_n. Later kernels read the slot directly, so nothing is read back to the host.
// Threads: WG; thread t folds partials t, t + WG, … in a fixed order, then a workgroup-memory tree.
override WG: u32 = 256;

struct Params { groups: u32, inv_n: f32, slot: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> stats: array<vec4<f32>>;

#include "augment/stats-reduce.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  var acc = STATS_EMPTY;
  for (var i = li; i < params.groups; i += WG) {
    acc = combine(acc, partial[i]);
  }
  let r = workgroup_combine(li, acc);
  if (li == 0u) {
    stats[params.slot] = vec4<f32>(r.x, r.y, r.z * params.inv_n, r.w * params.inv_n);
  }
}
