// Column sums of a row-major matrix: out[j] = Σ_i src[i·cols + j] (the bias gradient of the linear
// layer: db = Σ over rows of dy). One thread per column, walking the rows; columns of neighbouring
// threads are adjacent, so each step of the walk reads one contiguous run of the matrix.
override WG: u32 = 64;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= params.cols) {
    return;
  }
  var s = 0.0;
  for (var i = 0u; i < params.rows; i++) {
    s += src[i * params.cols + j];
  }
  out[j] = s;
}
