// Correlation of every slice with a kernel from `table` (at w_off), reflect-101 borders, as
// src/data/image-ops.ts. AXIS 0 and 1: one pass of a separable convolution (convolveSeparable), `taps`
// weights (odd count, centred) along W (rows) or along H (columns) — the Gaussian blur (a W pass, then
// an H pass) and the smoothing of the elastic noise. AXIS 2: a dense taps × taps kernel, row-major
// (convolve2d) — the motion blur's anti-aliased line (src/kernels/augment.ts motionBlurKernel), whose
// zero taps are skipped (most of a line kernel is zero; the CPU reference skips them too). Any tap
// count: offsets past twice the axis length still reflect (the elastic kernel can be wider than a small
// image). Two kernels share this file: augment-conv-line (AXIS 0 or 1) and augment-conv2d (AXIS 2).
// Layout: `size` = (D, H, W) planes of one volume; x starts at src_base, y at dst_base (elements).
// Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = plane.
override AXIS: u32 = 2;

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
  let n = i32(params.taps);
  let r = (n - 1) / 2;
  var s = 0.0;
  if (AXIS == 0u) {
    let row = plane + h * W;
    for (var k = 0; k < n; k++) {
      s += table[params.w_off + u32(k)] * x[row + u32(reflect_index(i32(w) + k - r, i32(W)))];
    }
  } else if (AXIS == 1u) {
    for (var k = 0; k < n; k++) {
      s += table[params.w_off + u32(k)] * x[plane + u32(reflect_index(i32(h) + k - r, i32(H))) * W + w];
    }
  } else {
    for (var i = 0; i < n; i++) {
      let row = plane + u32(reflect_index(i32(h) + i - r, i32(H))) * W;
      for (var j = 0; j < n; j++) {
        let wt = table[params.w_off + u32(i * n + j)];
        if (wt != 0.0) {
          s += wt * x[row + u32(reflect_index(i32(w) + j - r, i32(W)))];
        }
      }
    }
  }
  return s;
}
