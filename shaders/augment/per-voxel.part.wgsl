// The entry point of the augmentation kernels that compute one output voxel of one volume from its
// slice (conv2d, median, clahe-apply, resample): a TX × TY workgroup tiles (w, h) of a slice, workgroup
// z is the slice; `main` skips threads outside params.size = (D, H, W) and stores voxel(d, h, w) at
// y[dst_base + (d·H + h)·W + w]. src_plane(d) is where slice d of the input starts.
// Needs from the includer: a uniform `params` with `size: vec3<u32>`, `src_base: u32` and
// `dst_base: u32` (element offsets of the volume in x and y), the output `y: array<f32>`, and
// `fn voxel(d: u32, h: u32, w: u32) -> f32`.
override TX: u32 = 16;
override TY: u32 = 16;

fn src_plane(d: u32) -> u32 {
  return params.src_base + d * params.size.y * params.size.z;
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let D = params.size.x;
  let H = params.size.y;
  let W = params.size.z;
  if (gid.x >= W || gid.y >= H || gid.z >= D) {
    return;
  }
  y[params.dst_base + (gid.z * H + gid.y) * W + gid.x] = voxel(gid.z, gid.y, gid.x);
}
