// broadcast: out[i] = scale · x[0] for every i < n (the backward of sum/mean: a scalar gradient
// spread over every input element). One thread per element on a 2-D grid.
override WG: u32 = 256;

struct Params { n: u32, scale: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * WG;
  if (o < params.n) {
    out[o] = x[0] * params.scale;
  }
}
