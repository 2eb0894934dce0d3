// Backward of the row softmax from its output: gx_r = y_r ⊙ (gy_r − Σ_c gy_rc·y_rc).
// Bindings: params (activations/softmax-rows); y forward output [rows, cols]; gy upstream gradient; gx
// input gradient.
// Mapping: one workgroup per row (activations/softmax-rows); thread t visits columns t, t + WG, …; the
// dot product is a tree reduction in workgroup memory (common/workgroup-reduce).
#include "activations/softmax-rows.part.wgsl"

@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

fn softmaxRow(li: u32, live: bool, o: u32) {
  var d = 0.0;
  if (live) {
    for (var c = li; c < params.cols; c += WG) {
      d += gy[o + c] * y[o + c];
    }
  }
  d = workgroupSum(li, d);
  if (live) {
    for (var c = li; c < params.cols; c += WG) {
      gx[o + c] = y[o + c] * (gy[o + c] - d);
    }
  }
}
