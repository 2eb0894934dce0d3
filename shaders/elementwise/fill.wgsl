// fill: out[i] = value for every element. Any dtype's bits are written through an f32 view, so the
// caller passes f32 values for f32 tensors only (integer fills use the bit pattern of the value).
// Threads: one per element on a 2-D grid (x fastest) so more than 65,535·WG elements fit in one dispatch.
override WG: u32 = 256;

struct Params { n: u32, value: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < params.n) {
    out[i] = params.value;
  }
}
