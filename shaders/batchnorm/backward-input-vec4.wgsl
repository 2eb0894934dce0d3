// Batch-norm backward, pass 3 of 3, vec4 loads and stores (used when S % 4 == 0): as
// `backward-input.wgsl`, dx = a·(g − b − (x − mean)·k) with coef[c] = (mean, a, b, k), g = dy masked by
// y > 0 when RELU = 1. Layout: NCDHW (NCHW, NC) viewed flat as vec4s, S / 4 per (n, c) plane. Bindings:
// params; coef [C, 4]; dy4, x4, y4 (unread without RELU: the caller binds dy there); dx4.
// Threads: one vec4 at a time over the flat index on a 2-D grid, grid-stride looped; the channel
// advances by the host's (stepC, stepS) as in `forward.wgsl`.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S4 = params.S / 4u;
  let i0 = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i0 / S4;
  var s = i0 - plane * S4;
  var c = plane % params.C;
  for (var i = i0; i < params.total; i += nwg.x * nwg.y * WG) {
    let k = coef[c];
    var g = dy4[i];
    if (RELU != 0u) {
      g = select(vec4<f32>(0.0), g, y4[i] > vec4<f32>(0.0));
    }
    dx4[i] = k.y * (g - vec4<f32>(k.z) - (x4[i] - vec4<f32>(k.x)) * k.w);
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
