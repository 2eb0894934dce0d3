// Bilinear backward, step 2 of 2: the whole chain back to x in one tiled product.
//   normalisation: gs = (gy − y·(y·gy)) / norm
//   signed sqrt:   gb = gs / (2·sqrt(|b| + ε)) = gs / (2·(|s| + √ε)), with |s| = |y|·norm — exact for the
//                  shifted signed sqrt, so B need not be saved; the slope stays ≤ 1/(2√ε) at b = 0
//   outer product: gx[n, i, d] = (1/D) Σ_j (gb[i, j] + gb[j, i]) · x[n, j, d]
// Bindings: x [N, C, D]; y [N, C·C] forward output; gy [N, C·C] upstream; norm [N] saved norms;
// partial [N, Q] dot partials from bilinear-backward-dot; gx [N, C, D] output.
// Mapping: workgroup (wx, wy, n) computes gx rows i0 = wy·64 …, slices d0 = wx·16 … of sample n; thread
// (ty, tx) of 16×16 owns the 4 outputs (i0 + ty + 16·u, d0 + tx) in registers. Per j-chunk of 16, the
// gradient block gb[i0.., j0..] is built in `ga` and the transpose block gb[j0.., i0..] in `gt` (both read
// from global memory along their rows), x rows j0.. in `xs`.
override TILE: u32 = 16u;
override BLOCK: u32 = 4u * TILE;
// Threads per workgroup (the reduction's WG), derived from TILE: the TypeScript side sets TILE only.
override WG: u32 = TILE * TILE;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { channels: u32, depth: u32, chunks: u32, rootSqrtEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read> partial: array<f32>;
@group(0) @binding(6) var<storage, read_write> gx: array<f32>;

var<workgroup> ga: array<f32, BLOCK * TILE>;
var<workgroup> gt: array<f32, TILE * BLOCK>;
var<workgroup> xs: array<f32, TILE * TILE>;

// gb at (r, col) of sample offset mo, or 0 outside the C×C matrix.
fn gradB(mo: u32, r: u32, col: u32, dot: f32, nrm: f32) -> f32 {
  let c = params.channels;
  if (r >= c || col >= c) {
    return 0.0;
  }
  let yv = y[mo + r * c + col];
  return (gy[mo + r * c + col] - yv * dot) / (2.0 * nrm * (abs(yv) * nrm + params.rootSqrtEps));
}

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let c = params.channels;
  let dd = params.depth;
  let n = wid.z;
  // Σ y·gy of this sample from its chunk partials (same order in every workgroup).
  var s = 0.0;
  for (var t = li; t < params.chunks; t += WG) {
    s += partial[n * params.chunks + t];
  }
  let dot = workgroupSum(li, s);
  let nrm = norm[n];
  let mo = n * c * c;
  let xo = n * c * dd;
  let i0 = wid.y * BLOCK;
  let d0 = wid.x * TILE;
  var acc = vec4<f32>(0.0);
  for (var j0 = 0u; j0 < c; j0 += TILE) {
    for (var r = 0u; r < 4u; r++) {
      // ga[ii][jj] = gb(i0 + ii, j0 + jj): consecutive li walk jj (along a row of gy)
      let q = r * TILE * TILE + li;
      let ii = q / TILE;
      let jj = q % TILE;
      ga[ii * TILE + jj] = gradB(mo, i0 + ii, j0 + jj, dot, nrm);
      // gt[jj][ii] = gb(j0 + jj, i0 + ii): consecutive li walk ii (along a row of gy)
      let jt = q / BLOCK;
      let it = q % BLOCK;
      gt[jt * BLOCK + it] = gradB(mo, j0 + jt, i0 + it, dot, nrm);
    }
    var vx = 0.0;
    if (j0 + lid.y < c && d0 + lid.x < dd) {
      vx = x[xo + (j0 + lid.y) * dd + d0 + lid.x];
    }
    xs[lid.y * TILE + lid.x] = vx;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      let xv = xs[k * TILE + lid.x];
      for (var u = 0u; u < 4u; u++) {
        let ii = lid.y + TILE * u;
        acc[u] += (ga[ii * TILE + k] + gt[k * BLOCK + ii]) * xv;
      }
    }
    workgroupBarrier();
  }
  let d = d0 + lid.x;
  for (var u = 0u; u < 4u; u++) {
    let i = i0 + lid.y + TILE * u;
    if (i < c && d < dd) {
      gx[xo + i * dd + d] = acc[u] / f32(dd);
    }
  }
}
