// Average pooling over depth (Section 2.4): x [N, C, D] row-major → y [N, C], y[r] = (1/D) Σ_d x[r·D + d]
// for row r = n·C + c (D contiguous: the extractor's [N, C, D, 1, 1] after spatial pooling).
// Bindings: params, x the slice features (depth-agg/rows); y the pooled features. One thread per row r
// on a 2-D grid (depth-agg/rows); D is the number of slices (tens), so each thread loops over it
// serially. No tiling.
#include "depth-agg/rows.part.wgsl"

@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn poolRow(r: u32, o: u32) {
  var s = 0.0;
  for (var d = 0u; d < params.depth; d++) {
    s += x[o + d];
  }
  y[r] = s / f32(params.depth);
}
