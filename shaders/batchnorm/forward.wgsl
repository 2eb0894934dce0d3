// Batch-norm forward (training and eval): y = (x − mean[c])·(gamma[c]·invStd[c]) + beta[c], then ReLU
// when RELU = 1 (the fused BN + ReLU). Subtracting the mean before scaling keeps the precision a
// folded x·scale + shift would lose to cancellation when |mean| ≫ std.
// Layout: x and y are NCDHW (NCHW, NC) viewed as [N·C planes, S]. Bindings: params; x; gamma, beta,
// mean, invStd [C]; y. (`forward-vec4.wgsl` is the same pass with vec4 loads.)
// Threads: one element each; grid x = blocks of WG along a plane, y = planes (both looped with the
// grid's stride past the per-dimension limit), so the channel is uniform per workgroup and no element
// index needs a division.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invStd: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var plane = gid.y; plane < params.planes; plane += nwg.y) {
    let c = plane % params.C;
    let m = mean[c];
    let a = gamma[c] * invStd[c];
    let b = beta[c];
    for (var s = gid.x; s < params.S; s += nwg.x * WG) {
      var v = (x[plane * params.S + s] - m) * a + b;
      if (RELU != 0u) {
        v = max(v, 0.0);
      }
      y[plane * params.S + s] = v;
    }
  }
}
