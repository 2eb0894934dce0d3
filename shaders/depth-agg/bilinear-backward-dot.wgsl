// Bilinear backward, step 1 of 2: per-sample partial dot products Σ y·gy that the L2 normalisation's
// backward needs (gs = (gy − y (y·gy)) / norm).
// Bindings: y [N, M] the forward output (M = C·C), gy [N, M] upstream gradient, partial [N, Q] with
// Q = num_workgroups.x chunk sums.
// Mapping: workgroup (wx, n) reduces elements [wx·WG·ITEMS, (wx+1)·WG·ITEMS) of sample n; thread t loads
// base + t + WG·r (coalesced), then a tree reduction in workgroup memory (common/workgroup-reduce).
override WG: u32 = 256;
override ITEMS: u32 = 4;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { m: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = wid.y;
  let base = wid.x * WG * ITEMS;
  var s = 0.0;
  for (var r = 0u; r < ITEMS; r++) {
    let k = base + r * WG + li;
    if (k < params.m) {
      s += y[n * params.m + k] * gy[n * params.m + k];
    }
  }
  let total = workgroupSum(li, s);
  if (li == 0u) {
    partial[n * nwg.x + wid.x] = total;
  }
}
