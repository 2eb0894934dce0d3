// Stable softmax over the last axis: x [rows, cols] row-major → y, y_r = exp(x_r − max x_r) / Σ exp(x_r − max x_r).
// Subtracting the row maximum keeps every exp argument ≤ 0, so logits of ±50 or ±1000 never overflow.
// Bindings: x input; y output (same shape).
// Mapping: one workgroup per row (2-D grid over rows, linearised); thread t visits columns t, t + WG, …;
// the max and the sum are tree reductions in workgroup memory (common/workgroup-reduce; WG a power of two).
override WG: u32 = 64;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  let live = r < params.rows;
  let o = r * params.cols;
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
