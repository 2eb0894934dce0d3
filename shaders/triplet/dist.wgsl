// Triplet loss, pairwise squared distances over the long axis, in parallel: partial sums of
//   D_ij = Σ_k (f_ik − f_jk)²   (and, when NORMALIZE, the Gram entries Σ_k f_ik f_jk the normalisation's
//   backward needs), f = x, or x_i / n_i when NORMALIZE.
// Differences rather than ‖f_i‖² + ‖f_j‖² − 2 f_i·f_j: no cancellation, D is exactly 0 for duplicates.
// Bindings: x [N, E]; norms [N] vec2 (‖x‖², n) from triplet-norms (NORMALIZE = 1; else any read tensor);
// partial [G, N, N] vec2 (D, Gram) per column workgroup, written for i < j only.
// Mapping: workgroup (g, b) takes column tiles t = g, g + G, … of `kc` columns; per tile all N rows × kc
// columns are staged in workgroup memory (row stride kc + 1 to spread banks; N·(kc + 1) ≤ 4096). Thread l
// owns the 4×4 block of pairs (4I.., 4J..), I ≤ J, number b·WG + l in upper-triangle order: per column it
// loads 4 + 4 values and updates 16 pairs in registers (register blocking: 0.5 loads per pair-update).
override WG: u32 = 64;
override NORMALIZE: u32 = 0u;
const TILE_FLOATS: u32 = 4096u;

struct Params { n: u32, e: u32, kc: u32, tiles: u32, blocks: u32, nb: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> norms: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec2<f32>>;

var<workgroup> tile: array<f32, TILE_FLOATS>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = params.n;
  let kc = params.kc;
  let stride = kc + 1u;
  // Block number → (I, J), I ≤ J, row by row of the upper triangle of the nb × nb block grid.
  let blk = wid.y * WG + li;
  let live = blk < params.blocks;
  var bi = 0u;
  var rest = min(blk, params.blocks - 1u);
  while (rest >= params.nb - bi) {
    rest -= params.nb - bi;
    bi++;
  }
  let bj = bi + rest;
  // Row offsets in the tile, clamped to the last row (results for rows ≥ N are never written).
  var oi: array<u32, 4>;
  var oj: array<u32, 4>;
  for (var u = 0u; u < 4u; u++) {
    oi[u] = min(4u * bi + u, n - 1u) * stride;
    oj[u] = min(4u * bj + u, n - 1u) * stride;
  }
  var d: array<vec4<f32>, 4>;
  var g: array<vec4<f32>, 4>;
  for (var u = 0u; u < 4u; u++) {
    d[u] = vec4<f32>(0.0);
    g[u] = vec4<f32>(0.0);
  }
  for (var t = wid.x; t < params.tiles; t += nwg.x) {
    let c0 = t * kc;
    let cols = min(kc, params.e - c0);
    for (var q = li; q < n * cols; q += WG) {
      let row = q / cols;
      let col = q - row * cols;
      var v = x[row * params.e + c0 + col];
      if (NORMALIZE != 0u) {
        v = v / norms[row].y;
      }
      tile[row * stride + col] = v;
    }
    workgroupBarrier();
    if (live) {
      for (var k = 0u; k < cols; k++) {
        let b = vec4<f32>(tile[oj[0] + k], tile[oj[1] + k], tile[oj[2] + k], tile[oj[3] + k]);
        for (var u = 0u; u < 4u; u++) {
          let a = tile[oi[u] + k];
          let df = vec4<f32>(a) - b;
          d[u] += df * df;
          if (NORMALIZE != 0u) {
            g[u] += a * b;
          }
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let base = wid.x * n * n;
    for (var u = 0u; u < 4u; u++) {
      let i = 4u * bi + u;
      for (var v = 0u; v < 4u; v++) {
        let j = 4u * bj + v;
        if (i < j && j < n) {
          partial[base + i * n + j] = vec2<f32>(d[u][v], g[u][v]);
        }
      }
    }
  }
}
