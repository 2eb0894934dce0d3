// Batch-norm backward, pass 3 of 3: the input gradient dx = a·(g − b − (x − mean)·k), with
// coef[c] = (mean, a, b, k) from `backward-affine-reduce.wgsl` (training: the closed form of the batch
// statistics' Jacobian; eval: b = k = 0) and g = dy, masked by y > 0 when RELU = 1 (fused BN + ReLU).
// Layout: NCDHW (NCHW, NC), flat, S values per (n, c) plane. Bindings: params; coef [C, 4]; dy, x, y; dx.
// Without RELU, y is not read and the caller binds dy in its place. (`backward-input-vec4.wgsl`: vec4.)
// Threads: one element at a time over the flat index on a 2-D grid, grid-stride looped; the channel
// advances by the host's (stepC, stepS) as in `forward.wgsl` (no division per element).
override WG: u32 = 256;
override RELU: u32 = 0;

struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i0 = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i0 / params.S;
  var s = i0 - plane * params.S;
  var c = plane % params.C;
  for (var i = i0; i < params.total; i += nwg.x * nwg.y * WG) {
    let k = coef[c];
    var g = dy[i];
    if (RELU != 0u) {
      g = select(0.0, g, y[i] > 0.0);
    }
    dx[i] = k.y * (g - k.z - (x[i] - k.x) * k.w);
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
