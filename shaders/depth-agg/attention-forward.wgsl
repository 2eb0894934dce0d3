// Attention weighting over depth, eq. (4)–(5): y[n,c] = Σ_d A[n,c,d]·x[n,c,d] with
// A[n,c,·] = softmax_d(x[n,c,·]) — the features are their own attention logits (no parameters).
// x [N, C, D] → y [N, C]. The row maximum is subtracted before exp (depth-agg/attention-softmax), so large
// features cannot overflow. Bindings: params, x (depth-agg/rows); y.
// One thread per row r = n·C + c on a 2-D grid (depth-agg/rows); two serial passes over the D slices.
#include "depth-agg/rows.part.wgsl"
#include "depth-agg/attention-softmax.part.wgsl"

@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn poolRow(r: u32, o: u32) {
  y[r] = attentionSoftmax(o).z;
}
