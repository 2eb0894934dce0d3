// Max pooling over depth: x [N, C, D] → y [N, C] and argmax [N, C] (i32 index d of the maximum).
// Ties go to the first (smallest) d; a NaN counts as the maximum (as torch.max) and stops the scan,
// so it propagates (common/is-nan tests the bit pattern: compilers may fold `v != v` away).
// Bindings: params, x (depth-agg/rows); y the maxima; argmax their slice indices.
// One thread per row r = n·C + c on a 2-D grid (depth-agg/rows); serial loop over the D slices.
#include "depth-agg/rows.part.wgsl"
#include "common/is-nan.part.wgsl"

@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<i32>;

fn poolRow(r: u32, o: u32) {
  var best = x[o];
  var bi = 0u;
  for (var d = 1u; d < params.depth && !isNan(best); d++) {
    let v = x[o + d];
    if (v > best || isNan(v)) {
      best = v;
      bi = d;
    }
  }
  y[r] = best;
  argmax[r] = i32(bi);
}
