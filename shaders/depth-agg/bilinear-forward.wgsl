// Bilinear encoding, step 1 of 2 (Section 2.4, Lin et al.'s B-CNN with the same features twice):
//   B = (1/D) X Xᵀ per sample (X = x[n] as a C×D matrix, rows f_c over the slices),
//   s = signed sqrt of B = b / (sqrt(|b| + ε) + √ε)  (the shifted form: continuous and C¹ at 0),
// written to y [N, C·C] (row-major (i, j)), plus Σ s² of each tile in partial [N, tiles] for the
// L2 normalisation that bilinear-normalize applies next.
// Bindings: x [N, C, D] features; y [N, C·C] signed-sqrt output (normalised in place by the next kernel);
// partial [N, P] with P = tiles per sample = num_workgroups.x · num_workgroups.y.
// Mapping: workgroup (wx, wy, n) computes the 64×64 block rows i0 = wy·64, cols j0 = wx·64 of sample n;
// thread (ty, tx) of 16×16 owns the 4×4 outputs (i0 + ty + 16·u, j0 + tx + 16·v) in registers (register
// blocking: 8 loads per 16 FMAs; neighbouring tx write neighbouring j). X is staged 16 slices at a time:
// rows i0.. in `xa` (read along k, broadcast), rows j0.. transposed in `xbt` (read along tx, consecutive).
// B[i, j] and B[j, i] sum the same products in the same order, so B is exactly symmetric.
override TILE: u32 = 16u;
override BLOCK: u32 = 4u * TILE;
// Threads per workgroup (the reduction's WG), derived from TILE: the TypeScript side sets TILE only.
override WG: u32 = TILE * TILE;
alias WgValue = f32;
#include "common/workgroup-reduce.part.wgsl"

struct Params { channels: u32, depth: u32, sqrtEps: f32, rootSqrtEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> xa: array<f32, BLOCK * TILE>;
var<workgroup> xbt: array<f32, TILE * BLOCK>;

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = params.channels;
  let dd = params.depth;
  let n = wid.z;
  let i0 = wid.y * BLOCK;
  let j0 = wid.x * BLOCK;
  let xo = n * c * dd;
  var acc: array<vec4<f32>, 4>;
  for (var u = 0u; u < 4u; u++) {
    acc[u] = vec4<f32>(0.0);
  }
  for (var d0 = 0u; d0 < dd; d0 += TILE) {
    for (var r = 0u; r < 4u; r++) {
      let q = r * TILE * TILE + li;
      let row = q / TILE;
      let k = q % TILE;
      let d = d0 + k;
      var va = 0.0;
      var vb = 0.0;
      if (d < dd) {
        if (i0 + row < c) {
          va = x[xo + (i0 + row) * dd + d];
        }
        if (j0 + row < c) {
          vb = x[xo + (j0 + row) * dd + d];
        }
      }
      xa[row * TILE + k] = va;
      xbt[k * BLOCK + row] = vb;
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      let b = vec4<f32>(xbt[k * BLOCK + lid.x], xbt[k * BLOCK + lid.x + TILE], xbt[k * BLOCK + lid.x + 2u * TILE], xbt[k * BLOCK + lid.x + 3u * TILE]);
      for (var u = 0u; u < 4u; u++) {
        acc[u] += xa[(lid.y + TILE * u) * TILE + k] * b;
      }
    }
    workgroupBarrier();
  }
  var s2 = 0.0;
  for (var u = 0u; u < 4u; u++) {
    let i = i0 + lid.y + TILE * u;
    for (var v = 0u; v < 4u; v++) {
      let j = j0 + lid.x + TILE * v;
      if (i < c && j < c) {
        let b = acc[u][v] / f32(dd);
        let s = b / (sqrt(abs(b) + params.sqrtEps) + params.rootSqrtEps);
        y[n * c * c + i * c + j] = s;
        s2 += s * s;
      }
    }
  }
  let total = workgroupSum(li, s2);
  if (li == 0u) {
    partial[n * nwg.x * nwg.y + wid.y * nwg.x + wid.x] = total;
  }
}
