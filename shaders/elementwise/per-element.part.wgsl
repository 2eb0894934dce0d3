// The entry point of the one-thread-per-element kernels (elementwise/*, layout/broadcast, swap-axes,
// gather-rows, scatter-rows-add, conv/reduce-splits, augment/affine): `main` calls element(i) once for
// every i < params.n. The threads run on a 2-D grid of WG-thread workgroups, x fastest,
// i = gid.x + gid.y·num_workgroups.x·WG — the grid src/kernels/define.ts grid1d sizes, so more than
// 65,535·WG elements fit in one dispatch.
// Needs from the includer: a uniform `params` with `n: u32` and `fn element(i: u32)`.
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < params.n) {
    element(i);
  }
}
