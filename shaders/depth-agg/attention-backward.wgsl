// Backward of attention weighting (eq. 4–5). x feeds both the weights and the values, so
// ∂g/∂x_d = A_d·(1 + x_d − g): gx[n,c,d] = gy[n,c]·A[n,c,d]·(1 + x[n,c,d] − y[n,c]).
// x [N, C, D], gy [N, C] → gx [N, C, D]. Nothing is saved by the forward: each thread recomputes its
// row's stable softmax (max, Σ exp, g: depth-agg/attention-softmax) from x — D is small, and it saves an
// [N, C, D] buffer. Bindings: params, x (depth-agg/rows); gy; gx.
// One thread per row r = n·C + c on a 2-D grid (depth-agg/rows), writing the row's D gradients.
#include "depth-agg/rows.part.wgsl"
#include "depth-agg/attention-softmax.part.wgsl"

@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn poolRow(r: u32, o: u32) {
  let a = attentionSoftmax(o);
  let m = a.x;
  let g = a.z;
  let k = gy[r] / a.y;
  for (var d = 0u; d < params.depth; d++) {
    let v = x[o + d];
    gx[o + d] = k * exp(v - m) * (1.0 + v - g);
  }
}
