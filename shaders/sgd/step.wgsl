// SGD with momentum and weight decay (torch.optim.SGD semantics) — ONE dispatch for all parameters:
//   d = g + wd·p;  buf = d (first step) or μ·buf + (1 − dampening)·d;  d = d + μ·buf (Nesterov) or buf;
//   p = p − lr·d      (MOMENTUM = 0: no buffer, d unchanged)
// Layout, bindings 1–4 and the thread mapping: sgd/arena.part.wgsl. mom: the momentum arena (any spare
// buffer when MOMENTUM = 0).
override MOMENTUM: u32 = 1u;
override NESTEROV: u32 = 0u;

struct Params { blocks: u32, lr: f32, momentum: f32, dampening: f32, first: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read_write> mom: array<vec4<f32>>;

#include "sgd/arena.part.wgsl"

fn update(i: u32, seg: vec2<f32>) {
  let lr = params.lr * seg.x;
  let p = param[i];
  var d = grad[i] + seg.y * p;
  if (MOMENTUM != 0u) {
    var buf = d;
    if (params.first == 0u) {
      buf = params.momentum * mom[i] + (1.0 - params.dampening) * d;
    }
    mom[i] = buf;
    if (NESTEROV != 0u) {
      d = d + params.momentum * buf;
    } else {
      d = buf;
    }
  }
  param[i] = p - lr * d;
}
