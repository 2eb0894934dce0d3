// Workgroup-memory staging of the packed panel operand (matmul/pack.wgsl: TN vec4 per k-group, lane e
// of quad s at 4s + e) for the GEMM kernels that need no optional feature. With KC > 0 the workgroup copies
// KC k-groups of its panel at a time into one half of `stage` (every invocation one vec4 per WG), while
// the other half — filled during the previous step — feeds the register tiles: double buffering with one
// barrier per step. KC = 0 reads the panel straight from storage instead (the CPU drivers, where workgroup
// memory costs as much as storage and the barriers are extra). Expects from the includer `panelLoad(i)`
// (vec4 i of its packed operand); WG, TN, TNQ and `rank1` come from matmul/register-tile.part.wgsl.
// `stage` takes 2·KC·TN·16 bytes, which the tuning keeps within maxComputeWorkgroupStorageSize.
#include "matmul/register-tile.part.wgsl"

override KC: u32 = 0;

var<workgroup> stage: array<vec4<f32>, 2u * max(KC, 1u) * TN>;

// Copies the KC k-groups whose vec4s start at `first` into half `buf` of the stage (clamped to the panel,
// which ends before `end`).
fn fillStage(buf: u32, first: u32, end: u32, li: u32) {
  for (var i = li; i < KC * TN; i += WG) {
    stage[buf * KC * TN + i] = panelLoad(min(first + i, end - 1u));
  }
}

// The four quads (quads q0 .. q0 + TNQ − 1 of the panel) at reduction element e of one k-group: `at` is the
// k-group's first vec4 in the stage (KC > 0) or in the packed buffer (KC = 0).
struct Quads {
  b0: vec4<f32>,
  b1: vec4<f32>,
  b2: vec4<f32>,
  b3: vec4<f32>,
}

fn quads(at: u32, q0: u32, e: u32) -> Quads {
  var r: Quads;
  let i = at + 4u * q0 + e;
  if (KC == 0u) {
    r.b0 = panelLoad(i);
    if (TNQ > 1u) { r.b1 = panelLoad(i + 4u); }
    if (TNQ > 2u) { r.b2 = panelLoad(i + 8u); r.b3 = panelLoad(i + 12u); }
  } else {
    r.b0 = stage[i];
    if (TNQ > 1u) { r.b1 = stage[i + 4u]; }
    if (TNQ > 2u) { r.b2 = stage[i + 8u]; r.b3 = stage[i + 12u]; }
  }
  return r;
}

// One k-group of four: A's vec4s x0..x7 (row i: reduction elements 4g..4g+3) times the panel's quads.
fn kgroup(at: u32, q0: u32, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) {
  let b0 = quads(at, q0, 0u);
  rank1(x0.x, x1.x, x2.x, x3.x, x4.x, x5.x, x6.x, x7.x, b0.b0, b0.b1, b0.b2, b0.b3);
  let b1 = quads(at, q0, 1u);
  rank1(x0.y, x1.y, x2.y, x3.y, x4.y, x5.y, x6.y, x7.y, b1.b0, b1.b1, b1.b2, b1.b3);
  let b2 = quads(at, q0, 2u);
  rank1(x0.z, x1.z, x2.z, x3.z, x4.z, x5.z, x6.z, x7.z, b2.b0, b2.b1, b2.b2, b2.b3);
  let b3 = quads(at, q0, 3u);
  rank1(x0.w, x1.w, x2.w, x3.w, x4.w, x5.w, x6.w, x7.w, b3.b0, b3.b1, b3.b2, b3.b3);
}
