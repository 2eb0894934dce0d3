// Triplet loss backward: gx = upstream · coef · x, coef from triplet-mine (normalisation folded in),
// stored transposed and padded: coef[j·NP + i] = coef_ij, NP = N rounded up to ROWS = 8, zero padding.
// Bindings: x [N, E]; coef [N, NP] as vec4; upstream [1] (HAS_UPSTREAM = 1; else any read tensor); gx [N, E].
// Mapping: thread k of workgroup (bx, by) owns column k = bx·WG + local and output rows by·8 … by·8 + 7:
// per j it reads x[j, k] once (coalesced) and the 8 coefficients coef_{i, j} as two aligned vec4 (the same
// address for the whole workgroup), then 8 FMAs; x is read N/8 times, from cache after the first.
override WG: u32 = 256;
override HAS_UPSTREAM: u32 = 0u;

struct Params { n: u32, np: u32, e: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> coef: array<vec4<f32>>;
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
  let i0 = gid.y * 8u;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  for (var j = 0u; j < n; j++) {
    let v = x[j * e + k];
    let c = (j * params.np + i0) / 4u;
    lo += coef[c] * v;
    hi += coef[c + 1u] * v;
  }
  var up = 1.0;
  if (HAS_UPSTREAM != 0u) {
    up = upstream[0];
  }
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r < n) {
      gx[(i0 + r) * e + k] = up * lo[r];
    }
    if (i0 + 4u + r < n) {
      gx[(i0 + 4u + r) * e + k] = up * hi[r];
    }
  }
}
