// Copies one volume unchanged (a volume whose parameter set fires no augmentation):
// y[dst_base + i] = x[src_base + i] for i < n. Layout: n elements of one volume inside a batch.
// Threads: one per element, WG per workgroup on a 2-D grid (x fastest).
override WG: u32 = 256;

struct Params { n: u32, src_base: u32, dst_base: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < params.n) {
    y[params.dst_base + i] = x[params.src_base + i];
  }
}
