// conv3d gradient w.r.t. the input as an implicit GEMM over one stride phase at a time, NCDHW:
// dx[n, ci, z, y, x] = Σ_{co, taps} w[co, ci, a, b, c] · dy[n, co, (z + pD − a·dD)/sD, …] over the taps whose
// numerator is divisible by the stride and lands inside dy. Positions with the same remainder mod the
// stride (one phase, wid.z) share that tap set, so taps that cannot contribute are skipped uniformly —
// no masked work for stride 2 — and every position is still written (zeros where no tap reaches).
// Bindings: dyb = dy [N, Cout, Do, Ho, Wo] with channels in fours (matmul/block-k.wgsl: dyb[(n·⌈Cout/4⌉ +
// c4)·Do·Ho·Wo + voxel] = dy[n, 4c4..4c4+3, voxel]); wp the weight packed into panels of 16 input channels
// with the reduction (tap, co), co innermost padded to 4 (matmul/pack.wgsl); dx [N, Cin, D, H, W].
// Threads: an invocation owns TM positions of the phase (mb + i·WG) × the 16 channels of panel wid.y.
// Tiling: as conv/forward.wgsl — TM×16 register accumulators, weights shared by subgroupBroadcast from
// the 4-lane quad (8-lane group, SG8) that loaded them, one vec4 load of dyb per (position, tap, four co), no workgroup memory.
enable subgroups;

#include "matmul/broadcast-tile.part.wgsl"
#include "conv/backward-input-rows.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  let st = params.stride;
  let rem = vec3<u32>(wid.z / (st.y * st.z), (wid.z / st.z) % st.y, wid.z % st.z);
  let s = params.inSize;
  let count = select(vec3<u32>(0u), (s - rem + st - vec3<u32>(1u)) / st, rem < s);
  let mPhase = params.n * count.x * count.y * count.z;
  let mb = params.rowBase + wid.x * WG * TM + li;
  if (params.rowBase + wid.x * WG * TM >= mPhase) {
    return;
  }
  // The lane of the quad (or of the 8-lane group, SG8) whose panel entries this invocation loads.
  let q = sid & select(3u, 7u, SG8 != 0u);
  let p0 = position(mb, mPhase, rem, count);
  let p1 = position(mb + WG, mPhase, rem, count);
  let p2 = position(mb + 2u * WG, mPhase, rem, count);
  let p3 = position(mb + 3u * WG, mPhase, rem, count);
  var c00 = vec4<f32>(); var c01 = vec4<f32>(); var c02 = vec4<f32>(); var c03 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>(); var c12 = vec4<f32>(); var c13 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>(); var c22 = vec4<f32>(); var c23 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>(); var c32 = vec4<f32>(); var c33 = vec4<f32>();
  let k = params.kernel;
  let o3 = params.outSize;
  let plane = o3.x * o3.y * o3.z;
  for (var a = 0u; a < k.x; a++) {
    if (!reaches(rem.x, params.pad.x, a, params.dilation.x, st.x)) {
      continue;
    }
    for (var b = 0u; b < k.y; b++) {
      if (!reaches(rem.y, params.pad.y, b, params.dilation.y, st.y)) {
        continue;
      }
      for (var c = 0u; c < k.z; c++) {
        if (!reaches(rem.z, params.pad.z, c, params.dilation.z, st.z)) {
          continue;
        }
        let tap = vec3<u32>(a, b, c);
        let r0 = row(p0, tap);
        var r1 = r0;
        var r2 = r0;
        var r3 = r0;
        if (TM > 1u) { r1 = row(p1, tap); }
        if (TM > 2u) { r2 = row(p2, tap); r3 = row(p3, tap); }
        var wi = (wid.y * params.kp + ((a * k.y + b) * k.z + c) * params.groups) * TN + q;
        for (var g = 0u; g < params.groups; g++) {
          let w = panelQuads(wi);
          wi += TN;
          let x0 = load4(r0, g, plane);
          var x1 = vec4<f32>();
          var x2 = vec4<f32>();
          var x3 = vec4<f32>();
          if (TM > 1u) { x1 = load4(r1, g, plane); }
          if (TM > 2u) { x2 = load4(r2, g, plane); x3 = load4(r3, g, plane); }
          // Reduction element 4g + e: the 16 channels come from lane e of the quad (4s + e of the 8-lane group).
          #include "matmul/broadcast-k4.part.wgsl"
        }
      }
    }
  }
  let n0 = wid.y * TN;
  store(p0, mb, mPhase, n0, c00); store(p0, mb, mPhase, n0 + 4u, c01); store(p0, mb, mPhase, n0 + 8u, c02); store(p0, mb, mPhase, n0 + 12u, c03);
  if (TM > 1u) { store(p1, mb + WG, mPhase, n0, c10); store(p1, mb + WG, mPhase, n0 + 4u, c11); store(p1, mb + WG, mPhase, n0 + 8u, c12); store(p1, mb + WG, mPhase, n0 + 12u, c13); }
  if (TM > 2u) {
    store(p2, mb + 2u * WG, mPhase, n0, c20); store(p2, mb + 2u * WG, mPhase, n0 + 4u, c21); store(p2, mb + 2u * WG, mPhase, n0 + 8u, c22); store(p2, mb + 2u * WG, mPhase, n0 + 12u, c23);
    store(p3, mb + 3u * WG, mPhase, n0, c30); store(p3, mb + 3u * WG, mPhase, n0 + 4u, c31); store(p3, mb + 3u * WG, mPhase, n0 + 8u, c32); store(p3, mb + 3u * WG, mPhase, n0 + 12u, c33);
  }
}
