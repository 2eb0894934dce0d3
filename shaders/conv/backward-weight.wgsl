// conv3d gradient w.r.t. the weight as an implicit GEMM, NCDHW:
// dw[co, ci, a, b, c] = Σ_{n, zo, yo, xo} x[n, ci, zo·sD − pD + a·dD, yo·sH − pH + b·dH, xo·sW − pW + c·dW] · dy[n, co, zo, yo, xo].
// Rows r = (ci, a, b, c) — exactly the flat index of dw within one output channel — columns co, and a
// long reduction over (n, zo, yo, xo) walked as rows (n, zo, yo) of xo taken four at a time.
// Split-K: wid.z takes `rowsPerSplit` of the N·Do·Ho reduction rows and writes its partial sums to
// dw[wid.z] (a [splits, Cout, Cin, kD, kH, kW] buffer, summed by conv/reduce-splits.wgsl) — or straight into
// dw when there is one split.
// Bindings: x [N, Cin, D, H, W] and xb, the same input with channels in fours (matmul/block-k.wgsl) —
// each path reads one of them, the caller binds any vec4 buffer to the other; dyp = dy packed per batch
// entry into panels of 16 output channels with xo innermost padded to 4 (matmul/pack.wgsl); dw as above.
// Threads: an invocation owns TM weight rows (mb + i·WG) × the 16 channels of panel wid.y — or, with
// ROWQUAD, the four rows (4c4..4c4+3, tap) of one channel quad, read from xb as one vec4 per position
// (fewer loads and far less index arithmetic, which is what SwiftShader pays for; TM is then 4).
// Tiling: as conv/forward.wgsl — TM×16 register accumulators, dy shared by subgroupBroadcast from the
// 4-lane quad (8-lane group, SG8) that loaded it, no workgroup memory.
enable subgroups;

#include "matmul/broadcast-tile.part.wgsl"
#include "conv/backward-weight-rows.part.wgsl"

override ROWQUAD: u32 = 0;

@group(0) @binding(2) var<storage, read> xb: array<vec4<f32>>;

// The channel quad c4 and tap of quad row rq = c4·taps + tap (ROWQUAD; rows past the end clamped):
// ciOff is then c4's offset in xb.
fn weightQuad(rq: u32) -> Pos {
  let k = params.kernel;
  let taps = k.x * k.y * k.z;
  let quads = (params.cin + 3u) / 4u * taps;
  let rr = min(rq, quads - 1u);
  let c4 = rr / taps;
  return tapPos(c4, rr - c4 * taps);
}

// Positions xo = t0..t0+3 of a row for the four channels of a quad (ROWQUAD), transposed so that
// column j holds channel 4c4 + j at the four positions — the rows of the FMA block below.
fn quad4(r: Row, t0: u32) -> mat4x4<f32> {
  let t = vec4<u32>(t0) + vec4<u32>(0u, 1u, 2u, 3u);
  let u = vec4<i32>(r.u0) + vec4<i32>(t) * i32(params.stride.z);
  let valid = (t < vec4<u32>(params.outSize.z)) & (u >= vec4<i32>(0)) & (u < vec4<i32>(i32(params.inSize.z)));
  let idx = vec4<u32>(select(vec4<i32>(0), vec4<i32>(r.base) + u, valid));
  let m = mat4x4<f32>(select(vec4<f32>(), xb[idx.x], valid.x), select(vec4<f32>(), xb[idx.y], valid.y), select(vec4<f32>(), xb[idx.z], valid.z), select(vec4<f32>(), xb[idx.w], valid.w));
  return transpose(m);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  // The lane of the quad (or of the 8-lane group, SG8) whose panel entries this invocation loads.
  let q = sid & select(3u, 7u, SG8 != 0u);
  let mb = params.rowBase + wid.x * WG * TM + li;
  // ROWQUAD: one quad row per invocation (rowBase counts quads then).
  let mq = params.rowBase + wid.x * WG + li;
  var p0: Pos;
  var p1: Pos;
  var p2: Pos;
  var p3: Pos;
  if (ROWQUAD != 0u) {
    p0 = weightQuad(mq);
  } else {
    p0 = weightRow(mb);
    p1 = weightRow(mb + WG);
    p2 = weightRow(mb + 2u * WG);
    p3 = weightRow(mb + 3u * WG);
  }
  var c00 = vec4<f32>(); var c01 = vec4<f32>(); var c02 = vec4<f32>(); var c03 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>(); var c12 = vec4<f32>(); var c13 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>(); var c22 = vec4<f32>(); var c23 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>(); var c32 = vec4<f32>(); var c33 = vec4<f32>();
  let o = params.outSize;
  let s = params.inSize;
  let rows = params.n * o.x * o.y;
  let inner = Inner(i32(params.stride.z), i32(s.z), o.z, 1);
  let first = wid.z * params.rowsPerSplit;
  let last = min(first + params.rowsPerSplit, rows);
  var dr = dyRow(first);
  let chans = select(params.cin, (params.cin + 3u) / 4u, ROWQUAD != 0u);
  for (var rr = first; rr < last; rr++) {
    let nOff = dr.n * chans * s.x * s.y * s.z;
    let r0 = row(p0, nOff, dr.zo, dr.yo);
    var r1 = r0;
    var r2 = r0;
    var r3 = r0;
    if (ROWQUAD == 0u) {
      if (TM > 1u) { r1 = row(p1, nOff, dr.zo, dr.yo); }
      if (TM > 2u) { r2 = row(p2, nOff, dr.zo, dr.yo); r3 = row(p3, nOff, dr.zo, dr.yo); }
    }
    var wi = ((dr.n * params.panelsPerBatch + wid.y) * params.kpPerBatch + (dr.zo * o.y + dr.yo) * params.groups) * TN + q;
    for (var g = 0u; g < params.groups; g++) {
      let w = panelQuads(wi);
      wi += TN;
      var x0: vec4<f32>;
      var x1 = vec4<f32>();
      var x2 = vec4<f32>();
      var x3 = vec4<f32>();
      if (ROWQUAD != 0u) {
        let m = quad4(r0, g * 4u);
        x0 = m[0];
        x1 = m[1];
        x2 = m[2];
        x3 = m[3];
      } else {
        x0 = gather4(r0, g * 4u, inner);
        if (TM > 1u) { x1 = gather4(r1, g * 4u, inner); }
        if (TM > 2u) { x2 = gather4(r2, g * 4u, inner); x3 = gather4(r3, g * 4u, inner); }
      }
      // Reduction element 4g + e: the 16 channels come from lane e of the quad (4s + e of the 8-lane group).
      #include "matmul/broadcast-k4.part.wgsl"
    }
    dr = nextDyRow(dr);
  }
  let base = wid.z * params.cout * params.m;
  let n0 = wid.y * TN;
  if (ROWQUAD != 0u) {
    // Quad row mq = (c4, tap) holds rows (4c4 + j)·taps + tap.
    let taps = params.kernel.x * params.kernel.y * params.kernel.z;
    let quads = (params.cin + 3u) / 4u * taps;
    if (mq < quads) {
      let c4 = mq / taps;
      let tap = mq - c4 * taps;
      for (var j = 0u; j < 4u; j++) {
        let ci = 4u * c4 + j;
        if (ci < params.cin) {
          let r = ci * taps + tap;
          var a0 = c00; var a1 = c01; var a2 = c02; var a3 = c03;
          if (j == 1u) { a0 = c10; a1 = c11; a2 = c12; a3 = c13; }
          if (j == 2u) { a0 = c20; a1 = c21; a2 = c22; a3 = c23; }
          if (j == 3u) { a0 = c30; a1 = c31; a2 = c32; a3 = c33; }
          store(r, n0, a0, base); store(r, n0 + 4u, a1, base); store(r, n0 + 8u, a2, base); store(r, n0 + 12u, a3, base);
        }
      }
    }
    return;
  }
  store(mb, n0, c00, base); store(mb, n0 + 4u, c01, base); store(mb, n0 + 8u, c02, base); store(mb, n0 + 12u, c03, base);
  if (TM > 1u) { store(mb + WG, n0, c10, base); store(mb + WG, n0 + 4u, c11, base); store(mb + WG, n0 + 8u, c12, base); store(mb + WG, n0 + 12u, c13, base); }
  if (TM > 2u) {
    store(mb + 2u * WG, n0, c20, base); store(mb + 2u * WG, n0 + 4u, c21, base); store(mb + 2u * WG, n0 + 8u, c22, base); store(mb + 2u * WG, n0 + 12u, c23, base);
    store(mb + 3u * WG, n0, c30, base); store(mb + 3u * WG, n0 + 4u, c31, base); store(mb + 3u * WG, n0 + 8u, c32, base); store(mb + 3u * WG, n0 + 12u, c33, base);
  }
}
