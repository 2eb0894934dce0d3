// Backward of depth max pooling: the gradient goes to the argmax slice only.
// gy [N, C], argmax [N, C] (i32, from max-forward) → gx [N, C, D], gx[r·D + d] = gy[r] if d = argmax[r], else 0.
// One thread per element of gx on a 2-D grid, so every element (zeros included) is written.
override WG: u32 = 256;

struct Params { n: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let r = i / params.depth;
  let d = i32(i - r * params.depth);
  gx[i] = select(0.0, gy[r], argmax[r] == d);
}
