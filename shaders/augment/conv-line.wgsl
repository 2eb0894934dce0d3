// One pass of a separable convolution (correlation) along a slice axis, reflect-101 borders, as
// src/data/image-ops.ts convolveSeparable: AXIS 0 runs along W (rows), AXIS 1 along H (columns).
// Used for the Gaussian blur (a W pass, then an H pass) and to smooth the elastic noise.
// Layout: `size` = (D, H, W) planes of one volume; x starts at src_base, y at dst_base (elements).
// table holds the `taps` weights (odd count, centred) at w_off. Any tap count: offsets past twice the
// axis length still reflect correctly (the elastic kernel can be wider than a small image).
// Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = plane.
override AXIS: u32 = 0;

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32, taps: u32, w_off: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

#include "augment/reflect.part.wgsl"
#include "augment/per-voxel.part.wgsl"

fn voxel(d: u32, h: u32, w: u32) -> f32 {
  let H = params.size.y;
  let W = params.size.z;
  let plane = src_plane(d);
  let r = i32(params.taps - 1u) / 2;
  var s = 0.0;
  if (AXIS == 0u) {
    let row = plane + h * W;
    for (var k = 0; k < i32(params.taps); k++) {
      s += table[params.w_off + u32(k)] * x[row + u32(reflect_index(i32(w) + k - r, i32(W)))];
    }
  } else {
    for (var k = 0; k < i32(params.taps); k++) {
      s += table[params.w_off + u32(k)] * x[plane + u32(reflect_index(i32(h) + k - r, i32(H))) * W + w];
    }
  }
  return s;
}
