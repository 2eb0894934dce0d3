// Sliding windows of four along W for the thin-input forward (the stem), NCDHW:
//   xw[row·winLen + i] = vec4(x[rowBase + row, i − pW + e·dW], e = 0..3), zero outside 0 ≤ · < W,
// with row = ((n·Cin + ci)·D + z)·H + y counted from the chunk's first row rowBase. A group of four kernel columns kw = 4g..4g+3 at output column xo
// then reads x at xw[row·winLen + xo·sW + 4g·dW] — one vec4 load, no per-element bounds arithmetic.
// One thread per output vec4 on a 2-D grid.
override WG: u32 = 256;

struct Params {
  rows: u32,
  w: u32,
  winLen: u32,
  padW: u32,
  dilW: u32,
  rowBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xw: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.rows * params.winLen) {
    return;
  }
  let r = idx / params.winLen;
  let i = idx - r * params.winLen;
  var v = vec4<f32>();
  for (var e = 0u; e < 4u; e++) {
    let xi = i32(i) - i32(params.padW) + i32(e * params.dilW);
    if (xi >= 0 && xi < i32(params.w)) {
      v[e] = x[(params.rowBase + r) * params.w + u32(xi)];
    }
  }
  xw[idx] = v;
}
