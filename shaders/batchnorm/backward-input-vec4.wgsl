// Batch-norm backward, pass 3 of 3, vec4 loads and stores (used when S % 4 == 0): as
// `backward-input.wgsl`, dx = a·(g − b − (x − mean)·k) with coef[c] = (mean, a, b, k), g = dy masked by
// y > 0 when RELU = 1. Layout: NCDHW (NCHW, NC) viewed as [N·C planes, S / 4] vec4s. Bindings: params;
// coef [C, 4]; dy4, x4, y4 (unread without RELU: the caller binds dy there); dx4.
// Threads: one vec4 each; grid x = blocks along a plane, y = planes (both looped with the grid's stride).
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let S4 = params.S / 4u;
  for (var plane = gid.y; plane < params.planes; plane += nwg.y) {
    let k = coef[plane % params.C];
    for (var s = gid.x; s < S4; s += nwg.x * WG) {
      let i = plane * S4 + s;
      var g = dy4[i];
      if (RELU != 0u) {
        g = select(vec4<f32>(0.0), g, y4[i] > vec4<f32>(0.0));
      }
      dx4[i] = k.y * (g - vec4<f32>(k.z) - (x4[i] - vec4<f32>(k.x)) * k.w);
    }
  }
}
