// Batch-norm backward, pass 3 of 3: the input gradient dx = a·(g − b − (x − mean)·k), with
// coef[c] = (mean, a, b, k) from `backward-affine-reduce.wgsl` (training: the closed form of the batch
// statistics' Jacobian; eval: b = k = 0) and g = dy, masked by y > 0 when RELU = 1 (fused BN + ReLU).
// Layout: NCDHW (NCHW, NC) viewed as [N·C planes, S]. Bindings: params; coef [C, 4]; dy, x, y; dx.
// Without RELU, y is not read and the caller binds dy in its place. (`backward-input-vec4.wgsl`: vec4.)
// Threads: one element each; grid x = blocks along a plane, y = planes (both looped with the grid's
// stride), so the channel is uniform per workgroup.
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, planes: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var plane = gid.y; plane < params.planes; plane += nwg.y) {
    let k = coef[plane % params.C];
    for (var s = gid.x; s < params.S; s += nwg.x * WG) {
      let i = plane * params.S + s;
      var g = dy[i];
      if (RELU != 0u) {
        g = select(0.0, g, y[i] > 0.0);
      }
      dx[i] = k.y * (g - k.z - (x[i] - k.x) * k.w);
    }
  }
}
