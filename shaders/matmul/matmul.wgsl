// C[b] = A[b] · B[b] (+ bias) in f32. A comes in k-blocks of four (matmul/block-k.wgsl: ab[(b·K4 + k4)·M + m]
// = A[m, 4k4..4k4+3], zero-padded), B pre-packed by matmul/pack.wgsl into panels of TN = 16 columns
// (vec4 = 4 columns at one k), C row-major [M, N] at c[b·batchC + m·N + n]; bias [N] added when HAS_BIAS = 1.
// Threads: each invocation owns TM rows (mb + i·WG, i < TM) × the 16 columns of its workgroup's panel
// (wid.y); wid.x walks row blocks of WG·TM rows (from rowBase), wid.z the batch.
// Tiling: register blocking, TM×16 accumulators as TM·4 vec4s. The packed B panel is shared by every
// invocation: per group of four k, lane e of each 4-lane quad loads slot s (4 columns) at k = 4kp + e
// (with SG8, lanes 0–7 of each 8-lane group share the 16 entries) and subgroupBroadcast hands it to the
// whole subgroup — on CPU Vulkan drivers a load costs ~10–30×
// an FMA (each is a per-lane loop), so each A load brings four k at once and feeds 64 FMAs, each B
// load serves four (or eight) lanes. Blocked A also keeps neighbouring invocations on neighbouring addresses
// (row-major A at a power-of-two stride thrashes one cache set). No workgroup memory and no barriers:
// both are slow on software Vulkan. Loop bounds are uniform so the broadcasts run in uniform control flow.
enable subgroups;

#include "matmul/broadcast-tile.part.wgsl"
#include "matmul/operands.part.wgsl"

fn store(row: u32, col0: u32, v: vec4<f32>, cBase: u32) {
  if (row >= params.m) {
    return;
  }
  var r = v;
  if (HAS_BIAS != 0u) {
    r += vec4<f32>(bias[min(col0, params.n - 1u)], bias[min(col0 + 1u, params.n - 1u)], bias[min(col0 + 2u, params.n - 1u)], bias[min(col0 + 3u, params.n - 1u)]);
  }
  let o = cBase + row * params.n + col0;
  for (var j = 0u; j < 4u; j++) {
    if (col0 + j < params.n) {
      c[o + j] = r[j];
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  // The lane of the quad (or of the 8-lane group, SG8) whose panel entries this invocation loads.
  let q = sid & select(3u, 7u, SG8 != 0u);
  let mb = params.rowBase + wid.x * WG * TM + li;
  let aBase = wid.z * params.batchA;
  // Rows past the end are clamped so every load stays in bounds; they are never stored.
  let last = params.m - 1u;
  let ra0 = aBase + min(mb, last);
  let ra1 = aBase + min(mb + WG, last);
  let ra2 = aBase + min(mb + 2u * WG, last);
  let ra3 = aBase + min(mb + 3u * WG, last);
  var c00 = vec4<f32>(); var c01 = vec4<f32>(); var c02 = vec4<f32>(); var c03 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>(); var c12 = vec4<f32>(); var c13 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>(); var c22 = vec4<f32>(); var c23 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>(); var c32 = vec4<f32>(); var c33 = vec4<f32>();
  let pBase = (wid.z * params.panelBatch + wid.y * params.kp) * TN + q;
  for (var kp = 0u; kp < params.kp; kp++) {
    let w = panelQuads(pBase + kp * TN);
    let ka = kp * params.m;
    let x0 = ab[ra0 + ka];
    var x1 = vec4<f32>();
    var x2 = vec4<f32>();
    var x3 = vec4<f32>();
    if (TM > 1u) { x1 = ab[ra1 + ka]; }
    if (TM > 2u) { x2 = ab[ra2 + ka]; x3 = ab[ra3 + ka]; }
    // k = k0 + e: columns 4s..4s+3 come from lane e of the quad (lane 4s + e of the 8-lane group).
    #include "matmul/broadcast-k4.part.wgsl"
  }
  let cBase = wid.z * params.batchC;
  let n0 = wid.y * TN;
  store(mb, n0, c00, cBase); store(mb, n0 + 4u, c01, cBase); store(mb, n0 + 8u, c02, cBase); store(mb, n0 + 12u, c03, cBase);
  if (TM > 1u) { store(mb + WG, n0, c10, cBase); store(mb + WG, n0 + 4u, c11, cBase); store(mb + WG, n0 + 8u, c12, cBase); store(mb + WG, n0 + 12u, c13, cBase); }
  if (TM > 2u) {
    store(mb + 2u * WG, n0, c20, cBase); store(mb + 2u * WG, n0 + 4u, c21, cBase); store(mb + 2u * WG, n0 + 8u, c22, cBase); store(mb + 2u * WG, n0 + 12u, c23, cBase);
    store(mb + 3u * WG, n0, c30, cBase); store(mb + 3u * WG, n0 + 4u, c31, cBase); store(mb + 3u * WG, n0 + 8u, c32, cBase); store(mb + 3u * WG, n0 + 12u, c33, cBase);
  }
}
