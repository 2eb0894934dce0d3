// Motion blur: a small 2-D correlation of every slice with one odd ksize × ksize kernel (the anti-aliased
// line of src/data/augment-params.ts motionBlurKernel), reflect-101 borders, as image-ops convolve2d.
// Layout: `size` = (D, H, W) of one volume; x starts at src_base, y at dst_base; table holds the kernel
// row-major at w_off. Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = slice.
// Zero taps are skipped (most of a line kernel is zero) — a saving, and the CPU reference does the same.

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32, ksize: u32, w_off: u32 }

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
  let n = i32(params.ksize);
  let r = (n - 1) / 2;
  var s = 0.0;
  for (var i = 0; i < n; i++) {
    let row = plane + u32(reflect_index(i32(h) + i - r, i32(H))) * W;
    for (var j = 0; j < n; j++) {
      let wt = table[params.w_off + u32(i * n + j)];
      if (wt != 0.0) {
        s += wt * x[row + u32(reflect_index(i32(w) + j - r, i32(W)))];
      }
    }
  }
  return s;
}
