// Unary elementwise on f32: out[i] = f(x[i]).
// OP (override): 0 scale (alpha·x + beta), 1 relu, 2 sigmoid (stable for large |x|), 3 exp.
// One thread per element on a 2-D grid; in-place use (out aliasing x) is not allowed by WebGPU, so
// callers always write a fresh tensor.
override WG: u32 = 256;
override OP: u32 = 0;

struct Params { n: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let v = x[i];
  var r: f32;
  switch OP {
    case 0u: { r = params.alpha * v + params.beta; }
    case 1u: { r = max(v, 0.0); }
    case 2u: {
      // exp of a non-positive argument only, so neither branch overflows.
      let e = exp(-abs(v));
      r = select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
    }
    default: { r = exp(v); }
  }
  out[i] = r;
}
