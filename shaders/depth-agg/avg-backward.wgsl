// Backward of depth average pooling: gy [N, C] → gx [N, C, D], gx[r·D + d] = gy[r] / D.
// Bindings: gy the upstream gradient, gx the input gradient (every element written).
// One thread per element of gx on a 2-D grid (x fastest).
override WG: u32 = 256;

struct Params { n: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  gx[i] = gy[i / params.depth] / f32(params.depth);
}
