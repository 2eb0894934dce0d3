// Stable softmax over the last axis: x [rows, cols] row-major → y, y_r = exp(x_r − max x_r) / Σ exp(x_r − max x_r).
// Subtracting the row maximum keeps every exp argument ≤ 0, so logits of ±50 or ±1000 never overflow.
// Bindings: params (activations/softmax-rows); x input; y output (same shape).
// Mapping: one workgroup per row (activations/softmax-rows); thread t visits columns t, t + WG, …;
// the max and the sum are tree reductions in workgroup memory (common/workgroup-reduce).
#include "activations/softmax-rows.part.wgsl"

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn softmaxRow(li: u32, live: bool, o: u32) {
  var m = -3.402823e38;
  if (live) {
    for (var c = li; c < params.cols; c += WG) {
      m = max(m, x[o + c]);
    }
  }
  m = workgroupMax(li, m);
  var s = 0.0;
  if (live) {
    for (var c = li; c < params.cols; c += WG) {
      s += exp(x[o + c] - m);
    }
  }
  let inv = 1.0 / workgroupSum(li, s);
  if (live) {
    for (var c = li; c < params.cols; c += WG) {
      y[o + c] = exp(x[o + c] - m) * inv;
    }
  }
}
