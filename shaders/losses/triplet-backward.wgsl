// Triplet loss backward: gx = upstream · coef · x, coef [N, N] from triplet-mine (normalisation folded in).
// Bindings: x [N, E]; coef [N, N]; upstream [1] (HAS_UPSTREAM = 1; else any read tensor); gx [N, E].
// Mapping: thread k of workgroup (bx, by) owns column k = bx·WG + local (2-D grid over columns when
// E/WG > 65,535 is not needed: E ≤ 16.7 M) and output rows by·ROWS … by·ROWS + ROWS − 1: it reads
// x[j, k] once per j (coalesced) and updates ROWS register accumulators, so x is read N/ROWS times.
override WG: u32 = 256;
override HAS_UPSTREAM: u32 = 0u;
const ROWS: u32 = 8u;

struct Params { n: u32, e: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<f32>;
@group(0) @binding(3) var<storage, read> upstream: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let n = params.n;
  let e = params.e;
  if (k >= e) {
    return;
  }
  let i0 = gid.y * ROWS;
  var acc: array<f32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    acc[r] = 0.0;
  }
  for (var j = 0u; j < n; j++) {
    let v = x[j * e + k];
    for (var r = 0u; r < ROWS; r++) {
      let i = min(i0 + r, n - 1u);
      acc[r] += coef[i * n + j] * v;
    }
  }
  var up = 1.0;
  if (HAS_UPSTREAM != 0u) {
    up = upstream[0];
  }
  for (var r = 0u; r < ROWS; r++) {
    if (i0 + r < n) {
      gx[(i0 + r) * e + k] = up * acc[r];
    }
  }
}
