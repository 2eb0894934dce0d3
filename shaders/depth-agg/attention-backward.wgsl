// Backward of attention weighting (eq. 4–5). x feeds both the weights and the values, so
// ∂g/∂x_d = A_d·(1 + x_d − g): gx[n,c,d] = gy[n,c]·A[n,c,d]·(1 + x[n,c,d] − y[n,c]).
// x [N, C, D], gy [N, C] → gx [N, C, D]. Nothing is saved by the forward: each thread recomputes its
// row's stable softmax (max, Σ exp, g) from x — D is small, and it saves an [N, C, D] buffer.
// One thread per row r = n·C + c on a 2-D grid, writing the row's D gradients.
override WG: u32 = 256;

struct Params { rows: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= params.rows) {
    return;
  }
  let o = r * params.depth;
  var m = x[o];
  for (var d = 1u; d < params.depth; d++) {
    m = max(m, x[o + d]);
  }
  var s = 0.0;
  var g = 0.0;
  for (var d = 0u; d < params.depth; d++) {
    let v = x[o + d];
    let e = exp(v - m);
    s += e;
    g += e * v;
  }
  g = g / s;
  let k = gy[r] / s;
  for (var d = 0u; d < params.depth; d++) {
    let v = x[o + d];
    gx[o + d] = k * exp(v - m) * (1.0 + v - g);
  }
}
