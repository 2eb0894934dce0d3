// Batch-norm forward (training and eval): y = (x − mean[c])·(gamma[c]·invStd[c]) + beta[c], then ReLU
// when RELU = 1 (the fused BN + ReLU). Subtracting the mean before scaling keeps the precision a
// folded x·scale + shift would lose to cancellation when |mean| ≫ std.
// Layout: x and y are NCDHW (NCHW, NC), flat, S = D·H·W values per (n, c) plane. Bindings: params; x;
// gamma, beta, mean, invStd [C]; y. (`forward-vec4.wgsl` is the same pass with vec4 loads.)
// Threads: one element at a time over the flat index on a 2-D grid (any plane size keeps every lane
// busy: planes of 8 values no longer get a workgroup each), grid-stride looped. The thread's channel
// comes from one division at its start, then advances by the host's (stepC, stepS) = the grid stride
// split into channels and plane offset, so no element needs a division.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invStd: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i0 = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i0 / params.S;
  var s = i0 - plane * params.S;
  var c = plane % params.C;
  for (var i = i0; i < params.total; i += nwg.x * nwg.y * WG) {
    var v = (x[i] - mean[c]) * (gamma[c] * invStd[c]) + beta[c];
    if (RELU != 0u) {
      v = max(v, 0.0);
    }
    y[i] = v;
    s += params.stepS;
    c += params.stepC;
    if (s >= params.S) {
      s -= params.S;
      c += 1u;
    }
    if (c >= params.C) {
      c -= params.C;
    }
  }
}
