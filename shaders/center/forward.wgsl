// Center loss, eq. (2) (Wen et al.): L = λ·½ Σ_i ‖x_i − c_{y_i}‖² ('sum'; ÷ N for 'mean'),
// ∂L/∂x_i = λ (x_i − c_{y_i}) (÷ N for 'mean'), times the upstream scalar when given.
// This kernel writes the gradient and per-chunk partial sums of ‖x − c‖²; center-sum reduces them.
// Bindings: x [N, E] features; labels [N] i32 class ids; centers [K, E]; upstream [1] (HAS_UPSTREAM = 1;
// else any read tensor); grad [N, E]; partial [P] one Σ (x − c)² per workgroup.
// A label outside [0, K) cannot be reported from the GPU, so it poisons its row's gradient and the
// loss with `invalid` (NaN) instead of reading out of bounds or passing silently.
// Mapping: workgroup g (2-D grid, linearised) covers elements [g·WG·ITEMS, (g+1)·WG·ITEMS) of x, thread t
// the elements base + t + WG·r (coalesced); tree reduction of its partial sum in workgroup memory
// (common/workgroup-reduce).
override WG: u32 = 256;
override ITEMS: u32 = 4;
override HAS_UPSTREAM: u32 = 0u;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { total: u32, e: u32, k: u32, scale: f32, invalid: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> centers: array<f32>;
@group(0) @binding(4) var<storage, read> upstream: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = wid.x + wid.y * nwg.x;
  let base = g * WG * ITEMS;
  var gs = params.scale;
  if (HAS_UPSTREAM != 0u) {
    gs *= upstream[0];
  }
  var s = 0.0;
  for (var r = 0u; r < ITEMS; r++) {
    let idx = base + r * WG + li;
    if (idx < params.total) {
      let i = idx / params.e;
      let f = idx - i * params.e;
      let y = labels[i];
      if (y >= 0 && u32(y) < params.k) {
        let diff = x[idx] - centers[u32(y) * params.e + f];
        grad[idx] = gs * diff;
        s += diff * diff;
      } else {
        grad[idx] = params.invalid;
        s += params.invalid;
      }
    }
  }
  let total = workgroupSum(li, s);
  if (li == 0u && base < params.total) {
    partial[g] = total;
  }
}
