// Batch-norm forward, vec4 loads and stores (used when S % 4 == 0): as `forward.wgsl`,
// y = (x − mean[c])·(gamma[c]·invStd[c]) + beta[c], then ReLU when RELU = 1.
// Layout: x4 and y4 are NCDHW (NCHW, NC) viewed flat as vec4s, S / 4 per (n, c) plane. Bindings: params;
// x4; gamma, beta, mean, invStd [C]; y4. Threads: one vec4 at a time over the flat index on a 2-D grid,
// grid-stride looped; the channel advances by the host's (stepC, stepS) (see `forward.wgsl`).
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invStd: array<f32>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S4 = params.S / 4u;
  let i0 = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i0 / S4;
  var s = i0 - plane * S4;
  var c = plane % params.C;
  for (var i = i0; i < params.total; i += nwg.x * nwg.y * WG) {
    var v = (x4[i] - vec4<f32>(mean[c])) * (gamma[c] * invStd[c]) + vec4<f32>(beta[c]);
    if (RELU != 0u) {
      v = max(v, vec4<f32>(0.0));
    }
    y4[i] = v;
    s += params.stepS;
    c += params.stepC;
    if (s >= S4) {
      s -= S4;
      c += 1u;
    }
    if (c >= params.C) {
      c -= params.C;
    }
  }
}
