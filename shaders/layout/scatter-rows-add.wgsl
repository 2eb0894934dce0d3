// scatter-rows-add: the backward of gather-rows. dx[r, k] = Σ_{s : idx[s] = r} dy[s, k], for
// dx [R, K], dy [S, K], idx [S]. Written as a gather over s (each thread owns one dx element and loops
// over the S indices), so repeated indices need no atomics and the result is deterministic.
// S is small (a few representative slices per volume), so the loop is cheap.
// Threads: one per dx element (elementwise/per-element.part.wgsl).

struct Params { n: u32, k: u32, s: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(o: u32) {
  let r = o / params.k;
  let kk = o % params.k;
  var acc = 0.0;
  for (var s = 0u; s < params.s; s++) {
    if (idx[s] == r) {
      acc += dy[s * params.k + kk];
    }
  }
  dx[o] = acc;
}
