// Backward of the row softmax from its output: gx_r = y_r ⊙ (gy_r − Σ_c gy_rc·y_rc).
// Bindings: y forward output [rows, cols]; gy upstream gradient; gx input gradient.
// Mapping: one workgroup per row (2-D grid, linearised); thread t visits columns t, t + WG, …; the dot
// product is a tree reduction in workgroup memory (common/workgroup-reduce).
override WG: u32 = 64;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  let live = r < params.rows;
  let o = r * params.cols;
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
