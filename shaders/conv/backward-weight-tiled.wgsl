// conv3d gradient w.r.t. the weight as an implicit GEMM with no optional feature (no subgroups):
// dw[co, ci, a, b, c] = Σ_{n, zo, yo, xo} x[n, ci, zo·sD − pD + a·dD, …] · dy[n, co, zo, yo, xo] — rows
// r = (ci, a, b, c), columns co, the reduction over (n, zo, yo) rows of xo taken four at a time, split
// over wid.z as conv/backward-weight.wgsl (conv/backward-weight-rows.part.wgsl: x, the packed dy, the
// gathers and stores; partial sums go to dw[wid.z] when there are several splits).
// Threads: a workgroup computes 16 output channels (panel wid.y) × RL·TM weight rows (wid.x from
// rowBase); its WG invocations form TN/(4·TNQ) column groups of RL (tilePlace), invocation (cg, lr) owning
// rows mb + i·RL (i < TM) × the TNQ channel quads cg·TNQ.. of the panel.
// Tiling (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): TM × 4·TNQ register
// accumulators; the dy panel, which every invocation needs, is staged KC k-groups (4·KC positions xo, KC
// a divisor of the groups per reduction row) at a time in double-buffered workgroup memory (KC > 0), or
// read straight from storage (KC = 0, the CPU drivers). x is gathered per row, four positions at a time.
#include "conv/backward-weight-rows.part.wgsl"
#include "conv/tiled-rows.part.wgsl"
#include "matmul/register-tile.part.wgsl"
#include "matmul/panel-stage.part.wgsl"

// The invocation's rows along reduction row dr, whose batch entry starts at nOff in x.
fn setRows(nOff: u32, dr: DyRow) {
  r0 = row(p0, nOff, dr.zo, dr.yo);
  if (TM > 1u) { r1 = row(p1, nOff, dr.zo, dr.yo); }
  if (TM > 2u) { r2 = row(p2, nOff, dr.zo, dr.yo); r3 = row(p3, nOff, dr.zo, dr.yo); }
  if (TM > 4u) { r4 = row(p4, nOff, dr.zo, dr.yo); r5 = row(p5, nOff, dr.zo, dr.yo); r6 = row(p6, nOff, dr.zo, dr.yo); r7 = row(p7, nOff, dr.zo, dr.yo); }
}

// Positions xo = 4g..4g+3 of the current rows times the panel's k-group at `at`.
fn kstep(at: u32, q0: u32, g: u32, inner: Inner) {
  let x0 = gather4(r0, g * 4u, inner);
  var x1 = vec4<f32>(); var x2 = vec4<f32>(); var x3 = vec4<f32>();
  var x4 = vec4<f32>(); var x5 = vec4<f32>(); var x6 = vec4<f32>(); var x7 = vec4<f32>();
  if (TM > 1u) { x1 = gather4(r1, g * 4u, inner); }
  if (TM > 2u) { x2 = gather4(r2, g * 4u, inner); x3 = gather4(r3, g * 4u, inner); }
  if (TM > 4u) { x4 = gather4(r4, g * 4u, inner); x5 = gather4(r5, g * 4u, inner); x6 = gather4(r6, g * 4u, inner); x7 = gather4(r7, g * 4u, inner); }
  kgroup(at, q0, x0, x1, x2, x3, x4, x5, x6, x7);
}

// Where the dy panel's k-group g of reduction row rr = (n, zo·Ho + yo) starts.
fn panelAt(panel: u32, rr: u32, g: u32) -> u32 {
  let per = params.outSize.x * params.outSize.y;
  let n = rr / per;
  return ((n * params.panelsPerBatch + panel) * params.kpPerBatch + (rr - n * per) * params.groups + g) * TN;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let place = tilePlace(li, wid, params.rowBase);
  let mb = place.mb;
  let rl = place.rl;
  p0 = weightRow(mb);
  if (TM > 1u) { p1 = weightRow(mb + rl); }
  if (TM > 2u) { p2 = weightRow(mb + 2u * rl); p3 = weightRow(mb + 3u * rl); }
  if (TM > 4u) { p4 = weightRow(mb + 4u * rl); p5 = weightRow(mb + 5u * rl); p6 = weightRow(mb + 6u * rl); p7 = weightRow(mb + 7u * rl); }
  let o = params.outSize;
  let s3 = params.inSize;
  let rows = params.n * o.x * o.y;
  let inner = Inner(i32(params.stride.z), i32(s3.z), o.z, 1);
  let first = wid.z * params.rowsPerSplit;
  let last = min(first + params.rowsPerSplit, rows);
  let groups = params.groups;
  let chunk = select(groups, KC, KC > 0u);
  let perRow = groups / max(KC, 1u);
  let steps = select(0u, (last - first) * perRow, last > first);
  var s = 0u;
  if (KC > 0u && steps > 0u) {
    let at = panelAt(wid.y, first, 0u);
    fillStage(0u, at, at + KC * TN, li);
    workgroupBarrier();
  }
  var dr = dyRow(first);
  for (var rr = first; rr < last; rr++) {
    setRows(dr.n * params.cin * s3.x * s3.y * s3.z, dr);
    let rowAt = panelAt(wid.y, rr, 0u);
    for (var g0 = 0u; g0 < groups; g0 += chunk) {
      if (KC > 0u) {
        let cur = s & 1u;
        if (s + 1u < steps) {
          let f = (s + 1u) / perRow;
          let at = panelAt(wid.y, first + f, (s + 1u - f * perRow) * KC);
          fillStage(1u - cur, at, at + KC * TN, li);
        }
        for (var kk = 0u; kk < KC; kk++) {
          kstep((cur * KC + kk) * TN, place.q0, g0 + kk, inner);
        }
        workgroupBarrier();
        s++;
      } else {
        for (var g = 0u; g < groups; g++) {
          kstep(rowAt + g * TN, place.q0, g, inner);
        }
      }
    }
    dr = nextDyRow(dr);
  }
  let base = wid.z * params.cout * params.m;
  for (var i = 0u; i < TM; i++) {
    for (var q = 0u; q < TNQ; q++) {
      store(mb + i * rl, place.n0 + 4u * q, tile(i, q), base);
    }
  }
}
