// conv3d forward as an implicit GEMM with no optional feature (no subgroups): y[n, co, zo, yo, xo] =
// Σ_k A[m, k]·W[k, co], NCDHW, no bias — the same rows m = (n, zo, yo, xo), columns co and reduction
// (ci, kd, kh, kw), and the same operands as conv/forward.wgsl (conv/forward-rows.part.wgsl: xb re-laid
// for one vec4 load per row and four reduction elements, INNER_KW choosing channels or the stem's
// sliding windows as the inner axis; wp the weight packed into 16-channel panels by matmul/pack.wgsl).
// Threads: a workgroup computes 16 output channels (panel wid.y) × RL·TM output positions (wid.x from
// rowBase); its WG invocations form TN/(4·TNQ) column groups of RL (tilePlace), invocation (cg, lr) owning
// positions mb + i·RL (i < TM) × the TNQ channel quads cg·TNQ.. of the panel. Neighbouring invocations
// own neighbouring positions, so their vec4 loads of xb are adjacent.
// Tiling (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): TM × 4·TNQ register
// accumulators; the weight panel, which every invocation needs, is staged KC k-groups at a time in
// double-buffered workgroup memory (KC > 0; the host picks a KC that divides the groups per reduction row,
// so a step never straddles two taps) or read straight from storage (KC = 0, the CPU drivers). The input
// rows are recomputed once per tap; per k-group each invocation makes TM vec4 loads of xb.
#include "conv/forward-rows.part.wgsl"
#include "conv/tiled-rows.part.wgsl"
#include "matmul/register-tile.part.wgsl"
#include "matmul/panel-stage.part.wgsl"

// The invocation's rows for reduction row rr.
fn setRows(rr: ReductionRow) {
  r0 = row(p0, rr);
  if (TM > 1u) { r1 = row(p1, rr); }
  if (TM > 2u) { r2 = row(p2, rr); r3 = row(p3, rr); }
  if (TM > 4u) { r4 = row(p4, rr); r5 = row(p5, rr); r6 = row(p6, rr); r7 = row(p7, rr); }
}

// Reduction elements 4g..4g+3 of the current rows times the panel's k-group at `at`.
fn kstep(at: u32, q0: u32, g: u32, st: u32) {
  let x0 = load4(r0, g, st);
  var x1 = vec4<f32>(); var x2 = vec4<f32>(); var x3 = vec4<f32>();
  var x4 = vec4<f32>(); var x5 = vec4<f32>(); var x6 = vec4<f32>(); var x7 = vec4<f32>();
  if (TM > 1u) { x1 = load4(r1, g, st); }
  if (TM > 2u) { x2 = load4(r2, g, st); x3 = load4(r3, g, st); }
  if (TM > 4u) { x4 = load4(r4, g, st); x5 = load4(r5, g, st); x6 = load4(r6, g, st); x7 = load4(r7, g, st); }
  kgroup(at, q0, x0, x1, x2, x3, x4, x5, x6, x7);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let place = tilePlace(li, wid, params.rowBase);
  let mb = place.mb;
  let rl = place.rl;
  p0 = position(mb);
  if (TM > 1u) { p1 = position(mb + rl); }
  if (TM > 2u) { p2 = position(mb + 2u * rl); p3 = position(mb + 3u * rl); }
  if (TM > 4u) { p4 = position(mb + 4u * rl); p5 = position(mb + 5u * rl); p6 = position(mb + 6u * rl); p7 = position(mb + 7u * rl); }
  let outer = outerRows();
  let st = groupStep();
  let pBase = wid.y * params.kp * TN;
  let pEnd = pBase + params.kp * TN;
  // k-groups per step: KC with a workgroup-memory stage (a divisor of params.groups), else a whole row.
  let chunk = select(params.groups, KC, KC > 0u);
  let steps = params.kp / max(KC, 1u);
  var s = 0u;
  if (KC > 0u) {
    fillStage(0u, pBase, pEnd, li);
    workgroupBarrier();
  }
  for (var o0 = 0u; o0 < outer.x; o0++) {
    for (var o1 = 0u; o1 < outer.y; o1++) {
      for (var o2 = 0u; o2 < outer.z; o2++) {
        setRows(reductionRow(o0, o1, o2));
        let kRow = ((o0 * outer.y + o1) * outer.z + o2) * params.groups;
        for (var g0 = 0u; g0 < params.groups; g0 += chunk) {
          if (KC > 0u) {
            let cur = s & 1u;
            if (s + 1u < steps) {
              fillStage(1u - cur, pBase + (s + 1u) * KC * TN, pEnd, li);
            }
            for (var kk = 0u; kk < KC; kk++) {
              kstep((cur * KC + kk) * TN, place.q0, g0 + kk, st);
            }
            workgroupBarrier();
            s++;
          } else {
            for (var g = 0u; g < params.groups; g++) {
              kstep(pBase + (kRow + g) * TN, place.q0, g, st);
            }
          }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    for (var q = 0u; q < TNQ; q++) {
      store(mb + i * rl, place.n0 + 4u * q, tile(i, q));
    }
  }
}
