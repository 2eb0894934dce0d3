// One workgroup per row of a row-major [rows, cols] tensor, shared by softmax-forward and softmax-backward:
// workgroup r of a 2-D grid (linearised, elementGrid(rows, 1) on the TypeScript side) takes row r; its
// WG threads visit columns t, t + WG, … and combine their partials with common/workgroup-reduce
// (included here with WgValue = f32).
// Provides: WG (a power of two, chosen from cols by the TypeScript side), Params { rows, cols }, params
// (binding 0), workgroupSum / workgroupMax, and the entry point `main`, which calls the includer's
//   fn softmaxRow(li: u32, live: bool, o: u32)
// once in every invocation: li its local index, live whether its row exists (r < rows: a workgroup past
// the end still takes part in the reductions' barriers, so call those outside `if (live)`), o = r·cols
// the index of the row's first element. The includer declares its other bindings from binding 1 on.
override WG: u32 = 64;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  softmaxRow(li, r < params.rows, r * params.cols);
}
