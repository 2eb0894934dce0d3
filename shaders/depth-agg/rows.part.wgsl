// One thread per row of x, shared by the depth poolings avg-forward, max-forward, attention-forward and
// attention-backward: x [N, C, D] row-major, D contiguous (the extractor's [N, C, D, 1, 1] after spatial
// pooling); thread r = n·C + c of a 2-D grid of WG-thread workgroups (x fastest, as elementGrid) loops
// over its row's D slices serially — D is the number of slices (tens), so there is no tiling.
// Provides: WG, Params { rows, depth }, params (binding 0), x (binding 1) and the entry point `main`,
// which calls, once for each row r < rows, the includer's
//   fn poolRow(r: u32, o: u32)    r the row (n·C + c), o = r·D the index of its first slice in x.
// The includer declares its other bindings from binding 2 on.
override WG: u32 = 256;

struct Params { rows: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= params.rows) {
    return;
  }
  poolRow(r, r * params.depth);
}
