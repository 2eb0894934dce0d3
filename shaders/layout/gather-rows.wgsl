// gather-rows: out[s, k] = x[idx[s], k] for x [R, K], idx [S] (u32), out [S, K] (torch.index_select
// along dim 0). Threads: one per output element (elementwise/per-element.part.wgsl). Indices are
// validated on the host.

struct Params { n: u32, k: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(o: u32) {
  let s = o / params.k;
  let kk = o % params.k;
  out[o] = x[idx[s] * params.k + kk];
}
