// Median blur: the median of every pixel's K×K window (K odd, ≤ 11), reflect-101 borders, as
// src/data/image-ops.ts medianFilter. A selection, so the result is exactly one of the input values.
// Algorithm: forgetful selection — keep only (K²−1)/2 + 2 candidates in registers; the smallest and the
// largest of them can never be the median, so drop both and take in the next window value, until one
// is left. Needs ~K⁴/4 comparisons and (K²+3)/2 registers instead of sorting all K² values.
// Layout: `size` = (D, H, W) of one volume; x starts at src_base, y at dst_base. K is an override (one
// pipeline per window size) so the window walk has constant bounds.
// Threads: one per output voxel (augment/per-voxel.part.wgsl); workgroup z = slice.
override K: u32 = 3;

const MAX_KEEP: u32 = 64u; // (11² − 1)/2 + 2 = 62 candidates at K = 11

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

#include "augment/reflect.part.wgsl"
#include "augment/per-voxel.part.wgsl"

// Window value j (row-major in the K×K window) around (py, px) of the plane starting at `plane`.
fn window(plane: u32, py: i32, px: i32, j: u32) -> f32 {
  let r = i32(K - 1u) / 2;
  let H = i32(params.size.y);
  let W = i32(params.size.z);
  let yy = reflect_index(py + i32(j / K) - r, H);
  let xx = reflect_index(px + i32(j % K) - r, W);
  return x[plane + u32(yy * W + xx)];
}

fn voxel(d: u32, h: u32, w: u32) -> f32 {
  let plane = src_plane(d);
  let py = i32(h);
  let px = i32(w);
  let n = K * K;
  let keep = min((n - 1u) / 2u + 2u, n);
  var buf: array<f32, MAX_KEEP>;
  for (var j = 0u; j < keep; j++) {
    buf[j] = window(plane, py, px, j);
  }
  var cnt = keep;
  var next = keep;
  while (cnt > 1u) {
    var lo = 0u;
    var hi = 0u;
    for (var i = 1u; i < cnt; i++) {
      if (buf[i] < buf[lo]) {
        lo = i;
      }
      if (buf[i] > buf[hi]) {
        hi = i;
      }
    }
    if (lo == hi) {
      // All candidates equal: drop any two.
      hi = select(0u, 1u, lo == 0u);
    }
    cnt -= 1u;
    buf[lo] = buf[cnt];
    if (hi == cnt) {
      hi = lo;
    }
    cnt -= 1u;
    buf[hi] = buf[cnt];
    if (next < n) {
      buf[cnt] = window(plane, py, px, next);
      cnt += 1u;
      next += 1u;
    }
  }
  return buf[0];
}
