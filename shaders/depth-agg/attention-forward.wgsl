// Attention weighting over depth, eq. (4)–(5): y[n,c] = Σ_d A[n,c,d]·x[n,c,d] with
// A[n,c,·] = softmax_d(x[n,c,·]) — the features are their own attention logits (no parameters).
// x [N, C, D] → y [N, C]. The row maximum is subtracted before exp, so large features cannot overflow.
// One thread per row r = n·C + c on a 2-D grid; three serial passes over the D slices.
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
  y[r] = g / s;
}
