// Unary elementwise on f32: out[i] = f(x[i]).
// OP (override): 0 scale (alpha·x + beta), 1 relu, 2 sigmoid (stable for large |x|), 3 exp.
// Threads: one per element (elementwise/per-element.part.wgsl). In-place use (out aliasing x) is not
// allowed by WebGPU, so callers always write a fresh tensor.
override OP: u32 = 0;

struct Params { n: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
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
