// Sums the split-K partial weight gradients: out[i] = Σ_s parts[s·n + i], parts [splits, n] (row-major).
// Threads: one per output element (elementwise/per-element.part.wgsl); the split count is small
// (bounded by the tuning).

struct Params { n: u32, parts: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
  var s = 0.0;
  for (var p = 0u; p < params.parts; p++) {
    s += parts[p * params.n + i];
  }
  out[i] = s;
}
