// Average pooling over depth (Section 2.4): x [N, C, D] row-major → y [N, C], y[r] = (1/D) Σ_d x[r·D + d]
// for row r = n·C + c (D contiguous: the extractor's [N, C, D, 1, 1] after spatial pooling).
// Bindings: x the slice features, y the pooled features. One thread per row r on a 2-D grid; D is the
// number of slices (tens), so each thread loops over it serially. No tiling.
override WG: u32 = 256;

struct Params { rows: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= params.rows) {
    return;
  }
  let o = r * params.depth;
  var s = 0.0;
  for (var d = 0u; d < params.depth; d++) {
    s += x[o + d];
  }
  y[r] = s / f32(params.depth);
}
