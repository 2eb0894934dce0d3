// Geometric augmentation, the ONE resampling pass: y[d, yo, xo] = bilinear(x[d], field(yo, xo)), the same
// H×W sampling field for every slice of the volume (reflect-101 borders, as src/data/image-ops.ts
// sampleBilinear). Layout: one volume [D, H, W] (NCDHW with the batch and channel folded into the bases:
// x starts at src_base, y at dst_base, elements). field [2, H, W]: [0] source row, [1] source column, in
// pixels with centres at integers (built by augment/field.wgsl).
// Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = slice.

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> field: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

#include "augment/bilinear.part.wgsl"
#include "augment/per-voxel.part.wgsl"

fn voxel(d: u32, h: u32, w: u32) -> f32 {
  let H = params.size.y;
  let W = params.size.z;
  let p = h * W + w;
  let t = bilinear_taps(field[p], field[H * W + p], H, W);
  let s = src_plane(d);
  return bilinear_blend(t, x[s + t.o00], x[s + t.o01], x[s + t.o10], x[s + t.o11]);
}
