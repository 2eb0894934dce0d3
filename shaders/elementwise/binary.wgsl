// Binary elementwise on f32 tensors of equal size: out[i] = a[i] OP b[i].
// OP (override, compiled away): 0 add, 1 mul, 2 sub, 3 relu-backward (a = upstream grad, b = relu input).
// `alpha` scales b for add/sub (out = a + alpha·b), which gives axpy and accumulate-into for free.
// Threads: one per element (elementwise/per-element.part.wgsl).
override OP: u32 = 0;

struct Params { n: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
  let x = a[i];
  let y = b[i];
  var r: f32;
  switch OP {
    case 0u: { r = x + params.alpha * y; }
    case 1u: { r = x * y; }
    case 2u: { r = x - params.alpha * y; }
    default: { r = select(0.0, x, y > 0.0); }
  }
  out[i] = r;
}
