// CLAHE, second stage: every pixel maps through the tile maps of augment/clahe-lut.wgsl, bilinearly
// weighted between the four nearest tile centres (clamped at the borders, as OpenCV and
// src/data/image-ops.ts clahe). When the volume is constant (hi ≤ lo) the slice is copied unchanged.
// Layout: `size` = (D, H, W) of one volume; x starts at src_base, y at dst_base; luts [D, ty, tx, BINS];
// stats[slot] = (min, max, …) of the volume entering CLAHE.
// Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = slice.
override BINS: u32 = 256;

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32, tiles: vec2<u32>, slot: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> luts: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

#include "augment/per-voxel.part.wgsl"

fn voxel(d: u32, h: u32, w: u32) -> f32 {
  let H = params.size.y;
  let W = params.size.z;
  let v = x[src_plane(d) + h * W + w];
  let lo = stats[params.slot].x;
  let hi = stats[params.slot].y;
  if (!(hi > lo)) {
    return v;
  }
  let ty = params.tiles.x;
  let tx = params.tiles.y;
  let gy = (f32(h) + 0.5) / (f32(H) / f32(ty)) - 0.5;
  let a0 = u32(clamp(floor(gy), 0.0, f32(ty - 1u)));
  let a1 = min(ty - 1u, a0 + 1u);
  let wy = clamp(gy - f32(a0), 0.0, 1.0);
  let gx = (f32(w) + 0.5) / (f32(W) / f32(tx)) - 0.5;
  let b0 = u32(clamp(floor(gx), 0.0, f32(tx - 1u)));
  let b1 = min(tx - 1u, b0 + 1u);
  let wx = clamp(gx - f32(b0), 0.0, 1.0);
  let bin = u32(clamp(floor((v - lo) / (hi - lo) * f32(BINS)), 0.0, f32(BINS - 1u)));
  let base = d * ty * tx;
  let v00 = luts[((base + a0 * tx + b0) * BINS) + bin];
  let v01 = luts[((base + a0 * tx + b1) * BINS) + bin];
  let v10 = luts[((base + a1 * tx + b0) * BINS) + bin];
  let v11 = luts[((base + a1 * tx + b1) * BINS) + bin];
  return (v00 * (1.0 - wx) + v01 * wx) * (1.0 - wy) + (v10 * (1.0 - wx) + v11 * wx) * wy;
}
