// broadcast: out[i] = scale · x[0] for every i < n (the backward of sum/mean: a scalar gradient
// spread over every input element). Threads: one per element (elementwise/per-element.part.wgsl).

struct Params { n: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(o: u32) {
  out[o] = x[0] * params.scale;
}
