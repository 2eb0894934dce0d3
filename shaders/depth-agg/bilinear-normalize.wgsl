// Bilinear encoding, step 2 of 2: row L2 normalisation z = s / sqrt(‖s‖² + ε_norm) per sample, in place.
// Bindings: partial [N, P] per-tile Σ s² from bilinear-forward; y [N, M] (M = C·C) holding s, overwritten
// with z; norm [N] receives sqrt(‖s‖² + ε_norm), saved for the backward.
// Mapping: workgroup (wx, n) scales elements [wx·WG·ITEMS, (wx+1)·WG·ITEMS) of sample n, thread t the
// elements base + t + WG·r (coalesced). Every workgroup first reduces the sample's P partials itself in
// the same fixed order (common/workgroup-reduce; no extra dispatch, P is small), so all of them see
// bit-identical norms.
override WG: u32 = 256;
override ITEMS: u32 = 4;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { m: u32, tiles: u32, normEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> norm: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = wid.y;
  var s = 0.0;
  for (var t = li; t < params.tiles; t += WG) {
    s += partial[n * params.tiles + t];
  }
  let nrm = sqrt(workgroupSum(li, s) + params.normEps);
  if (wid.x == 0u && li == 0u) {
    norm[n] = nrm;
  }
  let base = wid.x * WG * ITEMS;
  for (var r = 0u; r < ITEMS; r++) {
    let k = base + r * WG + li;
    if (k < params.m) {
      y[n * params.m + k] = y[n * params.m + k] / nrm;
    }
  }
}
