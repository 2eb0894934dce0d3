// conv3d forward as an implicit GEMM: y[n, co, zo, yo, xo] = Σ_k A[m, k] · W[k, co], NCDHW, no bias.
// Rows m = (n, zo, yo, xo) flattened (M = N·Do·Ho·Wo), columns co, reduction k over (ci, kd, kh, kw).
// Bindings: xb, the input x [N, Cin, D, H, W] re-laid for one vec4 load per row and group of four
// reduction elements; wp the weight [Cout, Cin, kD, kH, kW] packed by matmul/pack.wgsl into panels of 16
// output channels (vec4 = 4 channels at one k); y [N, Cout, Do, Ho, Wo].
// The reduction is walked as rows of an inner axis taken four at a time, chosen by INNER_KW:
//   0: inner = ci, rows = taps (kd, kh, kw); xb has channels in fours (matmul/block-k.wgsl:
//      xb[(n·⌈Cin/4⌉ + c4)·D·H·W + voxel] = x[n, 4c4..4c4+3, voxel]);
//   1: inner = kw (padded to 4), rows = (ci, kd, kh) — the stem (Cin = 1); xb holds sliding windows of four
//      along W, zero-padded (conv/window.wgsl: xb[row·winLen + i] = x[row, i − pW + e·dW], e = 0..3).
// Per row each invocation computes once where its output position reads (validity of the window in
// depth and height — and in width for INNER_KW = 0; the windows carry W's padding).
// Threads: an invocation owns TM output positions (mb + i·WG) × the 16 channels of panel wid.y; wid.x
// walks position blocks from rowBase. Tiling: TM×16 register accumulators; weights are loaded once per
// 4-lane quad (8-lane group with SG8) and shared with subgroupBroadcast (see matmul/matmul.wgsl: loads
// dominate on CPU Vulkan, barriers too, so there is no workgroup memory). Loop bounds are uniform, so the
// broadcasts are too.
enable subgroups;

#include "matmul/broadcast-tile.part.wgsl"
#include "conv/forward-rows.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  // The lane of the quad (or of the 8-lane group, SG8) whose panel entries this invocation loads.
  let q = sid & select(3u, 7u, SG8 != 0u);
  let mb = params.rowBase + wid.x * WG * TM + li;
  let p0 = position(mb);
  let p1 = position(mb + WG);
  let p2 = position(mb + 2u * WG);
  let p3 = position(mb + 3u * WG);
  var c00 = vec4<f32>(); var c01 = vec4<f32>(); var c02 = vec4<f32>(); var c03 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>(); var c12 = vec4<f32>(); var c13 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>(); var c22 = vec4<f32>(); var c23 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>(); var c32 = vec4<f32>(); var c33 = vec4<f32>();
  let outer = outerRows();
  let step = groupStep();
  var wi = wid.y * params.kp * TN + q;
  for (var o0 = 0u; o0 < outer.x; o0++) {
    for (var o1 = 0u; o1 < outer.y; o1++) {
      for (var o2 = 0u; o2 < outer.z; o2++) {
        let rr = reductionRow(o0, o1, o2);
        let r0 = row(p0, rr);
        var r1 = r0;
        var r2 = r0;
        var r3 = r0;
        if (TM > 1u) { r1 = row(p1, rr); }
        if (TM > 2u) { r2 = row(p2, rr); r3 = row(p3, rr); }
        for (var g = 0u; g < params.groups; g++) {
          let w = panelQuads(wi);
          wi += TN;
          let x0 = load4(r0, g, step);
          var x1 = vec4<f32>();
          var x2 = vec4<f32>();
          var x3 = vec4<f32>();
          if (TM > 1u) { x1 = load4(r1, g, step); }
          if (TM > 2u) { x2 = load4(r2, g, step); x3 = load4(r3, g, step); }
          // Reduction element 4g + e: the 16 channels come from lane e of the quad (4s + e of the 8-lane group).
          #include "matmul/broadcast-k4.part.wgsl"
        }
      }
    }
  }
  let n0 = wid.y * TN;
  store(mb, n0, c00); store(mb, n0 + 4u, c01); store(mb, n0 + 8u, c02); store(mb, n0 + 12u, c03);
  if (TM > 1u) { store(mb + WG, n0, c10); store(mb + WG, n0 + 4u, c11); store(mb + WG, n0 + 8u, c12); store(mb + WG, n0 + 12u, c13); }
  if (TM > 2u) {
    store(mb + 2u * WG, n0, c20); store(mb + 2u * WG, n0 + 4u, c21); store(mb + 2u * WG, n0 + 8u, c22); store(mb + 2u * WG, n0 + 12u, c23);
    store(mb + 3u * WG, n0, c30); store(mb + 3u * WG, n0 + 4u, c31); store(mb + 3u * WG, n0 + 8u, c32); store(mb + 3u * WG, n0 + 12u, c33);
  }
}
