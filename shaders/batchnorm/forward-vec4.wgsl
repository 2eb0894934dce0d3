// Batch-norm forward, vec4 loads and stores (used when S % 4 == 0): as `forward.wgsl`,
// y = (x − mean[c])·(gamma[c]·invStd[c]) + beta[c], then ReLU when RELU = 1.
// Layout: x4 and y4 are NCDHW (NCHW, NC) viewed as [N·C planes, S / 4] vec4s. Bindings: params; x4;
// gamma, beta, mean, invStd [C]; y4. Threads: one vec4 each; grid x = blocks of WG along a plane,
// y = planes (both looped with the grid's stride), so the channel is uniform per workgroup.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invStd: array<f32>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S4 = params.S / 4u;
  for (var plane = gid.y; plane < params.planes; plane += nwg.y) {
    let c = plane % params.C;
    let m = vec4<f32>(mean[c]);
    let a = gamma[c] * invStd[c];
    let b = vec4<f32>(beta[c]);
    for (var s = gid.x; s < S4; s += nwg.x * WG) {
      var v = (x4[plane * S4 + s] - m) * a + b;
      if (RELU != 0u) {
        v = max(v, vec4<f32>(0.0));
      }
      y4[plane * S4 + s] = v;
    }
  }
}
