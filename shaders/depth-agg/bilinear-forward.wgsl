// Bilinear encoding, step 1 of 2 (Section 2.4, Lin et al.'s B-CNN with the same features twice):
//   B = (1/D) X Xᵀ per sample (X = x[n] as a C×D matrix, rows f_c over the slices),
//   s = signed sqrt of B = b / (sqrt(|b| + ε) + √ε)  (the shifted form: continuous and C¹ at 0),
// written to y [N, C·C] (row-major (i, j)), plus Σ s² of each tile in partial [N, tiles] for the
// L2 normalisation that bilinear-normalize applies next.
// Bindings: x [N, C, D] features; y [N, C·C] signed-sqrt output (normalised in place by the next kernel);
// partial [N, P] with P = tiles per sample = num_workgroups.x · num_workgroups.y.
// Mapping: workgroup (wx, wy, n) computes the TILE×TILE block rows i0 = wy·TILE, cols j0 = wx·TILE of
// sample n; thread (ly, lx) owns B[i0+ly, j0+lx]. X is staged TILE slices at a time: rows i0.. in
// `xa` (read along k, broadcast), rows j0.. transposed in `xbt` (read along lx, consecutive).
// B[i, j] and B[j, i] sum the same products in the same order, so B is exactly symmetric.
override TILE: u32 = 16;

struct Params { channels: u32, depth: u32, sqrtEps: f32, rootSqrtEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> xa: array<f32, TILE * TILE>;
var<workgroup> xbt: array<f32, TILE * TILE>;
var<workgroup> red: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = params.channels;
  let dd = params.depth;
  let n = wid.z;
  let i0 = wid.y * TILE;
  let j0 = wid.x * TILE;
  let xo = n * c * dd;
  var acc = 0.0;
  for (var d0 = 0u; d0 < dd; d0 += TILE) {
    let d = d0 + lid.x;
    let ra = i0 + lid.y;
    let rb = j0 + lid.y;
    var va = 0.0;
    var vb = 0.0;
    if (d < dd) {
      if (ra < c) {
        va = x[xo + ra * dd + d];
      }
      if (rb < c) {
        vb = x[xo + rb * dd + d];
      }
    }
    xa[lid.y * TILE + lid.x] = va;
    xbt[lid.x * TILE + lid.y] = vb;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += xa[lid.y * TILE + k] * xbt[k * TILE + lid.x];
    }
    workgroupBarrier();
  }
  let i = i0 + lid.y;
  let j = j0 + lid.x;
  var s2 = 0.0;
  if (i < c && j < c) {
    let b = acc / f32(dd);
    let s = b / (sqrt(abs(b) + params.sqrtEps) + params.rootSqrtEps);
    y[n * c * c + i * c + j] = s;
    s2 = s * s;
  }
  red[li] = s2;
  workgroupBarrier();
  for (var h = TILE * TILE / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      red[li] += red[li + h];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    partial[n * nwg.x * nwg.y + wid.y * nwg.x + wid.x] = red[0];
  }
}
