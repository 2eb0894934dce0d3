// Batch-norm backward, pass 2 of 3: adds one channel's partial sums and derives the closed form.
// dbeta[c] = Σ g, dgamma[c] = invStd·Σ g·(x − mean) = Σ g·x̂, and coef[c] = (mean, a, b, k) for the
// input gradient dx = a·(g − b − (x − mean)·k) with a = gamma·invStd and, in training (TRAIN = 1, batch
// statistics), b = Σg / M, k = invStd·dgamma / M (M = N·S values per channel); in eval (TRAIN = 0) the
// statistics are constants, so b = k = 0 and dx = a·g.
// Bindings: params; partial [C, P, 2] from `backward-affine.wgsl`; gamma, mean, invStd [C];
// dgamma, dbeta [C] and coef [C, 4] outputs. Threads: one workgroup per channel (looped), strided sums
// over the P partials, then a workgroup tree (tree.part.wgsl).
override WG: u32 = 64;
override TRAIN: u32 = 1;

struct Params { C: u32, P: u32, invCount: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> invStd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> coef: array<vec4<f32>>;

alias Acc = vec2<f32>;
fn combine(a: Acc, b: Acc) -> Acc {
  return a + b;
}
#include "batchnorm/tree.part.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var c = wid.x; c < params.C; c += nwg.x) {
    var a = vec2<f32>(0.0);
    for (var p = lid; p < params.P; p += WG) {
      let o = (c * params.P + p) * 2u;
      a += vec2<f32>(partial[o], partial[o + 1u]);
    }
    let r = tree(lid, a);
    if (lid == 0u) {
      let is = invStd[c];
      let sg = r.x;
      let dg = r.y * is;
      dgamma[c] = dg;
      dbeta[c] = sg;
      var b = 0.0;
      var k = 0.0;
      if (TRAIN != 0u) {
        b = sg * params.invCount;
        k = dg * is * params.invCount;
      }
      coef[c] = vec4<f32>(mean[c], gamma[c] * is, b, k);
    }
  }
}
