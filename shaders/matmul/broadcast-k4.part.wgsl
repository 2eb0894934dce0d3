// One k-group (four reduction elements) of the broadcast GEMM kernels' register-blocked micro-kernel
// (matmul/matmul.wgsl, conv/forward.wgsl, conv/backward-input.wgsl, conv/backward-weight.wgsl; their
// launch shape is matmul/broadcast-tile.part.wgsl), included inside their k loops: the rows' values x0..x3
// (vec4: the k-group of rows 0..TM-1 of A) times the panel quads the invocation's lanes loaded (w, from
// panelQuads), fetched lane by lane with subgroupBroadcast — 8-lane groups (SG8: columns 4s..4s+3 from
// lanes 4s + e) or 4-lane groups — into the accumulators cRQ (row R, column quad Q). Needs, in scope:
// TM, SG8, w, x0..x3, c00..c33 (TM rows × 4 quads).
{
  var v0: vec4<f32>; var v1: vec4<f32>; var v2: vec4<f32>; var v3: vec4<f32>;
  if (SG8 != 0u) {
    v0 = subgroupBroadcast(w.w0, 0u); v1 = subgroupBroadcast(w.w0, 4u); v2 = subgroupBroadcast(w.w1, 0u); v3 = subgroupBroadcast(w.w1, 4u);
  } else {
    v0 = subgroupBroadcast(w.w0, 0u); v1 = subgroupBroadcast(w.w1, 0u); v2 = subgroupBroadcast(w.w2, 0u); v3 = subgroupBroadcast(w.w3, 0u);
  }
  c00 = fma(vec4<f32>(x0.x), v0, c00); c01 = fma(vec4<f32>(x0.x), v1, c01); c02 = fma(vec4<f32>(x0.x), v2, c02); c03 = fma(vec4<f32>(x0.x), v3, c03);
  if (TM > 1u) { c10 = fma(vec4<f32>(x1.x), v0, c10); c11 = fma(vec4<f32>(x1.x), v1, c11); c12 = fma(vec4<f32>(x1.x), v2, c12); c13 = fma(vec4<f32>(x1.x), v3, c13); }
  if (TM > 2u) {
    c20 = fma(vec4<f32>(x2.x), v0, c20); c21 = fma(vec4<f32>(x2.x), v1, c21); c22 = fma(vec4<f32>(x2.x), v2, c22); c23 = fma(vec4<f32>(x2.x), v3, c23);
    c30 = fma(vec4<f32>(x3.x), v0, c30); c31 = fma(vec4<f32>(x3.x), v1, c31); c32 = fma(vec4<f32>(x3.x), v2, c32); c33 = fma(vec4<f32>(x3.x), v3, c33);
  }
}
{
  var v0: vec4<f32>; var v1: vec4<f32>; var v2: vec4<f32>; var v3: vec4<f32>;
  if (SG8 != 0u) {
    v0 = subgroupBroadcast(w.w0, 1u); v1 = subgroupBroadcast(w.w0, 5u); v2 = subgroupBroadcast(w.w1, 1u); v3 = subgroupBroadcast(w.w1, 5u);
  } else {
    v0 = subgroupBroadcast(w.w0, 1u); v1 = subgroupBroadcast(w.w1, 1u); v2 = subgroupBroadcast(w.w2, 1u); v3 = subgroupBroadcast(w.w3, 1u);
  }
  c00 = fma(vec4<f32>(x0.y), v0, c00); c01 = fma(vec4<f32>(x0.y), v1, c01); c02 = fma(vec4<f32>(x0.y), v2, c02); c03 = fma(vec4<f32>(x0.y), v3, c03);
  if (TM > 1u) { c10 = fma(vec4<f32>(x1.y), v0, c10); c11 = fma(vec4<f32>(x1.y), v1, c11); c12 = fma(vec4<f32>(x1.y), v2, c12); c13 = fma(vec4<f32>(x1.y), v3, c13); }
  if (TM > 2u) {
    c20 = fma(vec4<f32>(x2.y), v0, c20); c21 = fma(vec4<f32>(x2.y), v1, c21); c22 = fma(vec4<f32>(x2.y), v2, c22); c23 = fma(vec4<f32>(x2.y), v3, c23);
    c30 = fma(vec4<f32>(x3.y), v0, c30); c31 = fma(vec4<f32>(x3.y), v1, c31); c32 = fma(vec4<f32>(x3.y), v2, c32); c33 = fma(vec4<f32>(x3.y), v3, c33);
  }
}
{
  var v0: vec4<f32>; var v1: vec4<f32>; var v2: vec4<f32>; var v3: vec4<f32>;
  if (SG8 != 0u) {
    v0 = subgroupBroadcast(w.w0, 2u); v1 = subgroupBroadcast(w.w0, 6u); v2 = subgroupBroadcast(w.w1, 2u); v3 = subgroupBroadcast(w.w1, 6u);
  } else {
    v0 = subgroupBroadcast(w.w0, 2u); v1 = subgroupBroadcast(w.w1, 2u); v2 = subgroupBroadcast(w.w2, 2u); v3 = subgroupBroadcast(w.w3, 2u);
  }
  c00 = fma(vec4<f32>(x0.z), v0, c00); c01 = fma(vec4<f32>(x0.z), v1, c01); c02 = fma(vec4<f32>(x0.z), v2, c02); c03 = fma(vec4<f32>(x0.z), v3, c03);
  if (TM > 1u) { c10 = fma(vec4<f32>(x1.z), v0, c10); c11 = fma(vec4<f32>(x1.z), v1, c11); c12 = fma(vec4<f32>(x1.z), v2, c12); c13 = fma(vec4<f32>(x1.z), v3, c13); }
  if (TM > 2u) {
    c20 = fma(vec4<f32>(x2.z), v0, c20); c21 = fma(vec4<f32>(x2.z), v1, c21); c22 = fma(vec4<f32>(x2.z), v2, c22); c23 = fma(vec4<f32>(x2.z), v3, c23);
    c30 = fma(vec4<f32>(x3.z), v0, c30); c31 = fma(vec4<f32>(x3.z), v1, c31); c32 = fma(vec4<f32>(x3.z), v2, c32); c33 = fma(vec4<f32>(x3.z), v3, c33);
  }
}
{
  var v0: vec4<f32>; var v1: vec4<f32>; var v2: vec4<f32>; var v3: vec4<f32>;
  if (SG8 != 0u) {
    v0 = subgroupBroadcast(w.w0, 3u); v1 = subgroupBroadcast(w.w0, 7u); v2 = subgroupBroadcast(w.w1, 3u); v3 = subgroupBroadcast(w.w1, 7u);
  } else {
    v0 = subgroupBroadcast(w.w0, 3u); v1 = subgroupBroadcast(w.w1, 3u); v2 = subgroupBroadcast(w.w2, 3u); v3 = subgroupBroadcast(w.w3, 3u);
  }
  c00 = fma(vec4<f32>(x0.w), v0, c00); c01 = fma(vec4<f32>(x0.w), v1, c01); c02 = fma(vec4<f32>(x0.w), v2, c02); c03 = fma(vec4<f32>(x0.w), v3, c03);
  if (TM > 1u) { c10 = fma(vec4<f32>(x1.w), v0, c10); c11 = fma(vec4<f32>(x1.w), v1, c11); c12 = fma(vec4<f32>(x1.w), v2, c12); c13 = fma(vec4<f32>(x1.w), v3, c13); }
  if (TM > 2u) {
    c20 = fma(vec4<f32>(x2.w), v0, c20); c21 = fma(vec4<f32>(x2.w), v1, c21); c22 = fma(vec4<f32>(x2.w), v2, c22); c23 = fma(vec4<f32>(x2.w), v3, c23);
    c30 = fma(vec4<f32>(x3.w), v0, c30); c31 = fma(vec4<f32>(x3.w), v1, c31); c32 = fma(vec4<f32>(x3.w), v2, c32); c33 = fma(vec4<f32>(x3.w), v3, c33);
  }
}
