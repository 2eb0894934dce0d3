// conv3d gradient w.r.t. the input as an implicit GEMM with no optional feature (no subgroups), one stride
// phase per wid.z as conv/backward-input.wgsl: dx[n, ci, z, y, x] = Σ_{co, taps} w[co, ci, a, b, c] ·
// dy[n, co, (z + pD − a·dD)/sD, …] over the taps that reach the phase (conv/backward-input-rows.part.wgsl:
// rows, blocked dy, stores). wp is the weight packed into panels of 16 input channels with the reduction
// (tap, co), co innermost padded to 4 (matmul/pack.wgsl).
// Threads: a workgroup computes 16 input channels (panel wid.y) × RL·TM positions of the phase (wid.x from
// rowBase); its WG invocations form TN/(4·TNQ) column groups of RL (tilePlace), invocation (cg, lr) owning
// positions mb + i·RL (i < TM) × the TNQ channel quads cg·TNQ.. of the panel.
// Tiling (matmul/register-tile.part.wgsl, matmul/panel-stage.part.wgsl): TM × 4·TNQ register
// accumulators. The reaching taps are walked as one list (per axis, the taps whose numerator the stride
// divides), so the weight panel's steps are known ahead: with KC > 0 the next KC k-groups (KC divides the
// Cout/4 groups of a tap) are copied into double-buffered workgroup memory while the current ones are
// used; with KC = 0 the panel is read straight from storage (the CPU drivers).
#include "conv/backward-input-rows.part.wgsl"
#include "conv/tiled-rows.part.wgsl"
#include "matmul/register-tile.part.wgsl"
#include "matmul/panel-stage.part.wgsl"

// The phase's remainder, and how many taps reach it along each axis.
var<private> prem: vec3<u32>;
var<private> reach: vec3<u32>;

fn reachCount(rem: u32, pad: u32, dil: u32, s: u32, k: u32) -> u32 {
  var n = 0u;
  for (var a = 0u; a < k; a++) {
    if (reaches(rem, pad, a, dil, s)) {
      n++;
    }
  }
  return n;
}

// The i-th tap index along one axis that reaches the phase.
fn reachNth(rem: u32, pad: u32, dil: u32, s: u32, k: u32, i: u32) -> u32 {
  var n = 0u;
  var r = 0u;
  for (var a = 0u; a < k; a++) {
    if (reaches(rem, pad, a, dil, s)) {
      if (n == i) {
        r = a;
      }
      n++;
    }
  }
  return r;
}

// Tap t of the phase's list of reaching taps.
fn tapAt(t: u32) -> vec3<u32> {
  let k = params.kernel;
  let ia = t / (reach.y * reach.z);
  let ib = (t / reach.z) % reach.y;
  let ic = t % reach.z;
  return vec3<u32>(
    reachNth(prem.x, params.pad.x, params.dilation.x, params.stride.x, k.x, ia),
    reachNth(prem.y, params.pad.y, params.dilation.y, params.stride.y, k.y, ib),
    reachNth(prem.z, params.pad.z, params.dilation.z, params.stride.z, k.z, ic),
  );
}

// First k-group of a tap in the panel.
fn tapGroup(tap: vec3<u32>) -> u32 {
  let k = params.kernel;
  return ((tap.x * k.y + tap.y) * k.z + tap.z) * params.groups;
}

// Where workgroup-memory step s (k-groups s·KC.. of the list of reaching taps) starts in the panel.
fn stepStart(pBase: u32, s: u32) -> u32 {
  let f = s * KC;
  let t = f / params.groups;
  return pBase + (tapGroup(tapAt(t)) + f - t * params.groups) * TN;
}

fn setRows(tap: vec3<u32>) {
  r0 = row(p0, tap);
  if (TM > 1u) { r1 = row(p1, tap); }
  if (TM > 2u) { r2 = row(p2, tap); r3 = row(p3, tap); }
  if (TM > 4u) { r4 = row(p4, tap); r5 = row(p5, tap); r6 = row(p6, tap); r7 = row(p7, tap); }
}

// Output channels 4g..4g+3 of dy at the current rows times the panel's k-group at `at`.
fn kstep(at: u32, q0: u32, g: u32, plane: u32) {
  let x0 = load4(r0, g, plane);
  var x1 = vec4<f32>(); var x2 = vec4<f32>(); var x3 = vec4<f32>();
  var x4 = vec4<f32>(); var x5 = vec4<f32>(); var x6 = vec4<f32>(); var x7 = vec4<f32>();
  if (TM > 1u) { x1 = load4(r1, g, plane); }
  if (TM > 2u) { x2 = load4(r2, g, plane); x3 = load4(r3, g, plane); }
  if (TM > 4u) { x4 = load4(r4, g, plane); x5 = load4(r5, g, plane); x6 = load4(r6, g, plane); x7 = load4(r7, g, plane); }
  kgroup(at, q0, x0, x1, x2, x3, x4, x5, x6, x7);
}

fn posAt(i: u32) -> Pos {
  switch (i) {
    case 1u: { return p1; }
    case 2u: { return p2; }
    case 3u: { return p3; }
    case 4u: { return p4; }
    case 5u: { return p5; }
    case 6u: { return p6; }
    case 7u: { return p7; }
    default: { return p0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let st = params.stride;
  let rem = vec3<u32>(wid.z / (st.y * st.z), (wid.z / st.z) % st.y, wid.z % st.z);
  let s3 = params.inSize;
  let count = select(vec3<u32>(0u), (s3 - rem + st - vec3<u32>(1u)) / st, rem < s3);
  let mPhase = params.n * count.x * count.y * count.z;
  if (params.rowBase + wid.x * groupInvocations() * TM >= mPhase) {
    return;
  }
  let place = tilePlace(li, wid, params.rowBase);
  let mb = place.mb;
  let rl = place.rl;
  p0 = position(mb, mPhase, rem, count);
  if (TM > 1u) { p1 = position(mb + rl, mPhase, rem, count); }
  if (TM > 2u) { p2 = position(mb + 2u * rl, mPhase, rem, count); p3 = position(mb + 3u * rl, mPhase, rem, count); }
  if (TM > 4u) {
    p4 = position(mb + 4u * rl, mPhase, rem, count); p5 = position(mb + 5u * rl, mPhase, rem, count);
    p6 = position(mb + 6u * rl, mPhase, rem, count); p7 = position(mb + 7u * rl, mPhase, rem, count);
  }
  let k = params.kernel;
  prem = rem;
  // Counted here in a `let`: barriers below sit in loops over them, and only values the uniformity
  // analysis can follow (not private variables) may bound those.
  let counts = vec3<u32>(
    reachCount(rem.x, params.pad.x, params.dilation.x, st.x, k.x),
    reachCount(rem.y, params.pad.y, params.dilation.y, st.y, k.y),
    reachCount(rem.z, params.pad.z, params.dilation.z, st.z, k.z),
  );
  reach = counts;
  let taps = counts.x * counts.y * counts.z;
  let o3 = params.outSize;
  let plane = o3.x * o3.y * o3.z;
  let pBase = wid.y * params.kp * TN;
  let pEnd = pBase + params.kp * TN;
  let chunk = select(params.groups, KC, KC > 0u);
  let steps = taps * params.groups / max(KC, 1u);
  var s = 0u;
  if (KC > 0u && steps > 0u) {
    fillStage(0u, stepStart(pBase, 0u), pEnd, li);
    workgroupBarrier();
  }
  for (var t = 0u; t < taps; t++) {
    let tap = tapAt(t);
    setRows(tap);
    let kRow = tapGroup(tap);
    for (var g0 = 0u; g0 < params.groups; g0 += chunk) {
      if (KC > 0u) {
        let cur = s & 1u;
        if (s + 1u < steps) {
          fillStage(1u - cur, stepStart(pBase, s + 1u), pEnd, li);
        }
        for (var kk = 0u; kk < KC; kk++) {
          kstep((cur * KC + kk) * TN, place.q0, g0 + kk, plane);
        }
        workgroupBarrier();
        s++;
      } else {
        for (var g = 0u; g < params.groups; g++) {
          kstep(pBase + (kRow + g) * TN, place.q0, g, plane);
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    for (var q = 0u; q < TNQ; q++) {
      store(posAt(i), mb + i * rl, mPhase, place.n0 + 4u * q, tile(i, q));
    }
  }
}
