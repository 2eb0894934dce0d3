// fill: out[i] = value for every element. Any dtype's bits are written through an f32 view, so the
// caller passes f32 values for f32 tensors only (integer fills use the bit pattern of the value).
// Threads: one per element (elementwise/per-element.part.wgsl).

struct Params { n: u32, value: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
  out[i] = params.value;
}
