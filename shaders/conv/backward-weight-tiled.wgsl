// conv3d gradient w.r.t. the weight as an implicit GEMM with no optional feature (no subgroups):
// dw[co, ci, a, b, c] = Σ_{n, zo, yo, xo} x[n, ci, zo·sD − pD + a·dD, …] · dy[n, co, zo, yo, xo] — rows
// r = (ci, a, b, c), columns co, the reduction over (n, zo, yo) rows of xo taken four at a time, split
// over wid.z as conv/backward-weight.wgsl (conv/backward-weight-rows.part.wgsl: x, the packed dy, the
// gathers and stores; partial sums go to dw[wid.z] when there are several splits).
// Threads: a workgroup computes 16 output channels (panel wid.y) × RL·TM weight rows (wid.x from
// rowBase); its WG invocations form 4/TNQ column groups of RL = WG·TNQ/4, invocation (cg, lr) owning
// rows mb + i·RL (i < TM) × the TNQ channel quads cg·TNQ.. of the panel.
// Tiling (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): TM × 4·TNQ register
// accumulators; the dy panel, which every invocation needs, is staged KC k-groups (4·KC positions xo, KC
// a divisor of the groups per reduction row) at a time in double-buffered workgroup memory (KC > 0), or
// read straight from storage (KC = 0, the CPU drivers). x is gathered per row, four positions at a time.
#include "conv/backward-weight-rows.part.wgsl"
#include "matmul/register-tile.part.wgsl"
#include "matmul/panel-stage.part.wgsl"

override WG: u32 = 64;

fn panelLoad(i: u32) -> vec4<f32> {
  return dyp[i];
}

var<private> l0: Lane;
var<private> l1: Lane;
var<private> l2: Lane;
var<private> l3: Lane;
var<private> l4: Lane;
var<private> l5: Lane;
var<private> l6: Lane;
var<private> l7: Lane;
var<private> r0: Row;
var<private> r1: Row;
var<private> r2: Row;
var<private> r3: Row;
var<private> r4: Row;
var<private> r5: Row;
var<private> r6: Row;
var<private> r7: Row;

fn setRows(nOff: u32, zo: u32, yo: u32) {
  r0 = row(l0, nOff, zo, yo);
  if (TM > 1u) { r1 = row(l1, nOff, zo, yo); }
  if (TM > 2u) { r2 = row(l2, nOff, zo, yo); r3 = row(l3, nOff, zo, yo); }
  if (TM > 4u) { r4 = row(l4, nOff, zo, yo); r5 = row(l5, nOff, zo, yo); r6 = row(l6, nOff, zo, yo); r7 = row(l7, nOff, zo, yo); }
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
  return ((n * params.panelsPerBatch + panel) * params.kpPerBatch + (rr - n * per) * params.groups + g) * 16u;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let rl = WG / (4u / TNQ);
  let cg = li / rl;
  let q0 = cg * TNQ;
  let mb = params.rowBase + wid.x * rl * TM + (li - cg * rl);
  l0 = lane(mb);
  if (TM > 1u) { l1 = lane(mb + rl); }
  if (TM > 2u) { l2 = lane(mb + 2u * rl); l3 = lane(mb + 3u * rl); }
  if (TM > 4u) { l4 = lane(mb + 4u * rl); l5 = lane(mb + 5u * rl); l6 = lane(mb + 6u * rl); l7 = lane(mb + 7u * rl); }
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
    fillStage(0u, at, at + KC * 16u, li);
    workgroupBarrier();
  }
  // (n, zo, yo) of the first reduction row, then advanced by counting (no division in the loop).
  var n = first / (o.x * o.y);
  var zo = (first / o.y) % o.x;
  var yo = first % o.y;
  for (var rr = first; rr < last; rr++) {
    setRows(n * params.cin * s3.x * s3.y * s3.z, zo, yo);
    let rowAt = panelAt(wid.y, rr, 0u);
    for (var g0 = 0u; g0 < groups; g0 += chunk) {
      if (KC > 0u) {
        let cur = s & 1u;
        if (s + 1u < steps) {
          let f = (s + 1u) / perRow;
          let at = panelAt(wid.y, first + f, (s + 1u - f * perRow) * KC);
          fillStage(1u - cur, at, at + KC * 16u, li);
        }
        for (var kk = 0u; kk < KC; kk++) {
          kstep((cur * KC + kk) * 16u, q0, g0 + kk, inner);
        }
        workgroupBarrier();
        s++;
      } else {
        for (var g = 0u; g < groups; g++) {
          kstep(rowAt + g * 16u, q0, g, inner);
        }
      }
    }
    yo += 1u;
    if (yo == o.y) {
      yo = 0u;
      zo += 1u;
      if (zo == o.x) {
        zo = 0u;
        n += 1u;
      }
    }
  }
  let base = wid.z * params.cout * params.m;
  let n0 = wid.y * 16u + q0 * 4u;
  for (var i = 0u; i < TM; i++) {
    for (var q = 0u; q < TNQ; q++) {
      store(mb + i * rl, n0 + 4u * q, tile(i, q), base);
    }
  }
}
