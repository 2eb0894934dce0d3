// C[b] = A[b] · B[b] (+ bias) in f32 with no optional feature (no subgroups): the GEMM for adapters
// without subgroups and for hardware GPUs. Operands as matmul/matmul.wgsl: A in k-blocks of four
// (matmul/block-k.wgsl: ab[(b·K4 + k4)·M + m] = A[m, 4k4..4k4+3]), B packed by matmul/pack.wgsl into
// panels of 16 columns (16 vec4 per k-group: columns 4s..4s+3 at k = 4kp + e in vec4 4s + e), C row-major
// [M, N] at c[b·batchC + m·N + n]; bias [N] added when HAS_BIAS = 1.
// Threads: a workgroup computes TN = 16 columns (panel wid.y) × RL·TM rows (wid.x from rowBase; wid.z the
// batch). Its WG invocations form CG = TN/(4·TNQ) column groups of RL = WG/CG: invocation (cg, lr) owns
// rows mb + i·RL (i < TM, mb = first row + lr) × the TNQ column quads cg·TNQ.. of the panel (tilePlace),
// so neighbouring invocations read neighbouring rows of A (one vec4 per row and k-group, coalesced).
// Tiling (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): TM × 4·TNQ register
// accumulators; the panel — the operand every invocation of the workgroup needs — is staged KC k-groups
// at a time in double-buffered workgroup memory (KC > 0, GPUs) or read straight from storage (KC = 0,
// CPU drivers). Tile shapes (WG, TM, TNQ, KC) are chosen per adapter in src/kernels/tuning.ts.
#include "matmul/operands.part.wgsl"
#include "matmul/register-tile.part.wgsl"
#include "matmul/panel-stage.part.wgsl"

fn store(row: u32, col0: u32, v: vec4<f32>, cBase: u32) {
  if (row >= params.m) {
    return;
  }
  let o = cBase + row * params.n + col0;
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + j;
    if (col < params.n) {
      var r = v[j];
      if (HAS_BIAS != 0u) {
        r += bias[col];
      }
      c[o + j] = r;
    }
  }
}

// A's vec4s of the invocation's rows at k-group kg (rows past M were clamped to the last one).
fn loadA(kg: u32, ra0: u32, ra1: u32, ra2: u32, ra3: u32, ra4: u32, ra5: u32, ra6: u32, ra7: u32) {
  let ka = kg * params.m;
  xa0 = ab[ra0 + ka];
  if (TM > 1u) { xa1 = ab[ra1 + ka]; }
  if (TM > 2u) { xa2 = ab[ra2 + ka]; xa3 = ab[ra3 + ka]; }
  if (TM > 4u) { xa4 = ab[ra4 + ka]; xa5 = ab[ra5 + ka]; xa6 = ab[ra6 + ka]; xa7 = ab[ra7 + ka]; }
}

var<private> xa0: vec4<f32>;
var<private> xa1: vec4<f32>;
var<private> xa2: vec4<f32>;
var<private> xa3: vec4<f32>;
var<private> xa4: vec4<f32>;
var<private> xa5: vec4<f32>;
var<private> xa6: vec4<f32>;
var<private> xa7: vec4<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let place = tilePlace(li, wid, params.rowBase);
  let mb = place.mb;
  let rl = place.rl;
  let aBase = wid.z * params.batchA;
  // Rows past the end are clamped so every load stays in bounds; they are never stored.
  let last = params.m - 1u;
  let ra0 = aBase + min(mb, last);
  let ra1 = aBase + min(mb + rl, last);
  let ra2 = aBase + min(mb + 2u * rl, last);
  let ra3 = aBase + min(mb + 3u * rl, last);
  let ra4 = aBase + min(mb + 4u * rl, last);
  let ra5 = aBase + min(mb + 5u * rl, last);
  let ra6 = aBase + min(mb + 6u * rl, last);
  let ra7 = aBase + min(mb + 7u * rl, last);
  let pBase = (wid.z * params.panelBatch + wid.y * params.kp) * TN;
  let pEnd = pBase + params.kp * TN;
  if (KC == 0u) {
    for (var kg = 0u; kg < params.kp; kg++) {
      loadA(kg, ra0, ra1, ra2, ra3, ra4, ra5, ra6, ra7);
      kgroup(pBase + kg * TN, place.q0, xa0, xa1, xa2, xa3, xa4, xa5, xa6, xa7);
    }
  } else {
    let steps = (params.kp + KC - 1u) / max(KC, 1u);
    fillStage(0u, pBase, pEnd, li);
    workgroupBarrier();
    for (var s = 0u; s < steps; s++) {
      let cur = s & 1u;
      if (s + 1u < steps) {
        fillStage(1u - cur, pBase + (s + 1u) * KC * TN, pEnd, li);
      }
      let k0 = s * KC;
      let kn = min(KC, params.kp - k0);
      for (var kk = 0u; kk < kn; kk++) {
        loadA(k0 + kk, ra0, ra1, ra2, ra3, ra4, ra5, ra6, ra7);
        kgroup((cur * KC + kk) * TN, place.q0, xa0, xa1, xa2, xa3, xa4, xa5, xa6, xa7);
      }
      workgroupBarrier();
    }
  }
  let cBase = wid.z * params.batchC;
  for (var i = 0u; i < TM; i++) {
    for (var q = 0u; q < TNQ; q++) {
      store(mb + i * rl, place.n0 + 4u * q, tile(i, q), cBase);
    }
  }
}
