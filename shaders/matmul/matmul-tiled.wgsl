// C[b] = A[b] · B[b] (+ bias) in f32, workgroup-memory tiled for hardware GPUs (no subgroups needed).
// Both operands come in k-blocks of four (matmul/block-k.wgsl): ab[(b·K4 + k4)·M + m] = A[m, 4k4..4k4+3]
// and bb[(b·K4 + k4)·N + n] = B[4k4..4k4+3, n], zero-padded; C row-major [M, N]; bias [N] when HAS_BIAS = 1.
// Threads: a 16×16 workgroup computes a 64×64 tile of C (wid.x: row tiles from rowBase, wid.y: column
// tiles, wid.z: batch); invocation (tx, ty) owns rows ty + 16i and columns tx + 16j, i, j < 4, so stores
// and workgroup-memory reads of neighbouring invocations are adjacent.
// Tiling: per step, the workgroup stages KG = 4 k-groups (16 k) of the A and B tiles in workgroup memory
// (one vec4 per invocation each), then every invocation does 16 vec4 dot products from registers. On
// CPU drivers the barriers make this slower than matmul/matmul.wgsl; on GPUs it is the usual winner.
override HAS_BIAS: u32 = 0;

const TS: u32 = 64u;
const KG: u32 = 4u;

struct Params {
  m: u32,
  n: u32,
  kp: u32,
  batchA: u32,
  batchB: u32,
  batchC: u32,
  rowBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ab: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bb: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<vec4<f32>, 256>;
var<workgroup> Bs: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let m0 = params.rowBase + wid.x * TS;
  let n0 = wid.y * TS;
  let aBase = wid.z * params.batchA;
  let bBase = wid.z * params.batchB;
  // Staging assignment: invocation li loads row (li % 64) of k-group (li / 64) of the tile.
  let sr = li % TS;
  let sk = li / TS;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  let steps = (params.kp + KG - 1u) / KG;
  for (var t = 0u; t < steps; t++) {
    let kg = t * KG + sk;
    let okK = kg < params.kp;
    let am = m0 + sr;
    let bn = n0 + sr;
    As[li] = select(vec4<f32>(), ab[aBase + min(kg, params.kp - 1u) * params.m + min(am, params.m - 1u)], okK & (am < params.m));
    Bs[li] = select(vec4<f32>(), bb[bBase + min(kg, params.kp - 1u) * params.n + min(bn, params.n - 1u)], okK & (bn < params.n));
    workgroupBarrier();
    for (var g = 0u; g < KG; g++) {
      let a0 = As[g * TS + lid.y];
      let a1 = As[g * TS + lid.y + 16u];
      let a2 = As[g * TS + lid.y + 32u];
      let a3 = As[g * TS + lid.y + 48u];
      let b = mat4x4<f32>(Bs[g * TS + lid.x], Bs[g * TS + lid.x + 16u], Bs[g * TS + lid.x + 32u], Bs[g * TS + lid.x + 48u]);
      // (a·B)[j] = dot(a, b_j): a vector-matrix product per row.
      acc0 += a0 * b;
      acc1 += a1 * b;
      acc2 += a2 * b;
      acc3 += a3 * b;
    }
    workgroupBarrier();
  }
  let cBase = wid.z * params.batchC;
  for (var i = 0u; i < 4u; i++) {
    let row = m0 + lid.y + 16u * i;
    var v = acc0;
    if (i == 1u) { v = acc1; }
    if (i == 2u) { v = acc2; }
    if (i == 3u) { v = acc3; }
    for (var j = 0u; j < 4u; j++) {
      let col = n0 + lid.x + 16u * j;
      if (row < params.m && col < params.n) {
        var r = v[j];
        if (HAS_BIAS != 0u) {
          r += bias[col];
        }
        c[cBase + row * params.n + col] = r;
      }
    }
  }
}
