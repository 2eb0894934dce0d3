// Center loss reduction: loss[0] = alpha · Σ_p partial[p] (alpha = λ/2, or λ/(2N) for 'mean').
// Bindings: partial [P] from center-forward; loss [1].
// Mapping: ONE workgroup; thread t sums partials t, t + WG, … (fixed order, deterministic), then a tree
// reduction in workgroup memory (common/workgroup-reduce). P = N·E / (WG·ITEMS) is at most a few thousand.
override WG: u32 = 256;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { p: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < params.p; i += WG) {
    s += partial[i];
  }
  let total = workgroupSum(li, s);
  if (li == 0u) {
    loss[0] = params.alpha * total;
  }
}
