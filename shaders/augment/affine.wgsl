// Brightness and contrast in one pass, from the statistics of the volume entering brightness
// (stats[slot] = (min, max, mean, …), whole volume): brightness adds beta·(max − min); contrast then
// scales about the mean of ITS input, which is mean + that shift (src/data/augment-params.ts
// applyAugmentCpu applies them one after the other; the shifted mean needs no second reduction).
// flags: 1 brightness, 2 contrast. Layout: n elements of one volume; x starts at src_base, y at dst_base.
// Threads: one per element (elementwise/per-element.part.wgsl).

struct Params { n: u32, src_base: u32, dst_base: u32, flags: u32, beta: f32, alpha: f32, slot: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
  let st = stats[params.slot];
  var v = x[params.src_base + i];
  var m = st.z;
  if ((params.flags & 1u) != 0u) {
    let add = params.beta * (st.y - st.x);
    v += add;
    m += add;
  }
  if ((params.flags & 2u) != 0u) {
    v = m + params.alpha * (v - m);
  }
  y[params.dst_base + i] = v;
}
