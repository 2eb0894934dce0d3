// Adam / AdamW (torch.optim.Adam and AdamW semantics, PyTorch 1.13) — ONE dispatch for all parameters:
//   DECOUPLED = 0 (Adam):  g = g + wd·p                     DECOUPLED = 1 (AdamW): p = p·(1 − lr·wd)
//   m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
//   p = p − (lr / bc1)·m / (√v / √bc2 + ε)     with bc1 = 1 − β1^t, bc2 = 1 − β2^t (t = step, from 1)
// The bias corrections change per step, so the host computes lr / bc1 and √bc2 and passes them as
// uniforms; the per-tensor lr multiplier and weight decay (PyTorch's param groups) come from a table.
// Layout, bindings 1–4 and the thread mapping: the fused SGD's arena walk, sgd/arena.part.wgsl (Adam is
// the same one-dispatch step with two state arenas instead of one). m, v: the moment arenas. Padding
// stays zero (g = 0, p = 0 ⇒ m = v = 0 and p stays 0).
override DECOUPLED: u32 = 1u;

struct Params { blocks: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> v: array<vec4<f32>>;

#include "sgd/arena.part.wgsl"

fn update(i: u32, seg: vec2<f32>) {
  var p = param[i];
  var g = grad[i];
  if (DECOUPLED != 0u) {
    p = p * (1.0 - params.lr * seg.x * seg.y);
  } else {
    g = g + seg.y * p;
  }
  let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = p - (params.stepSize * seg.x) * mi / (sqrt(vi) / params.bc2Sqrt + params.eps);
}
