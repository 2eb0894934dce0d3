// Adam / AdamW (torch.optim.Adam and AdamW semantics, PyTorch 1.13) — ONE dispatch for all parameters:
//   DECOUPLED = 0 (Adam):  g = g + wd·p                     DECOUPLED = 1 (AdamW): p = p·(1 − lr·wd)
//   m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
//   p = p − (lr / bc1)·m / (√v / √bc2 + ε)     with bc1 = 1 − β1^t, bc2 = 1 − β2^t (t = step, from 1)
// The bias corrections change per step, so the host computes lr / bc1 and √bc2 and passes them as
// uniforms; the per-tensor lr multiplier and weight decay (PyTorch's param groups) come from a table.
// Layout as shaders/sgd/step.wgsl: every parameter tensor lives in one flat arena (param, grad and both
// moment buffers with the same layout), each tensor starting on a 1,024-float block boundary.
// Bindings: blockSeg [blocks] u32 — tensor index of each block; segments [S] vec2 — per tensor (lr
// multiplier, weight decay); grad, param, m, v: the flat arenas as vec4. Padding holds zeros and stays
// zero (g = 0, p = 0 ⇒ m = v = 0 and p stays 0).
// Mapping: workgroup b (2-D grid, linearised) updates block b; thread t the vec4 b·WG + t (coalesced).
override WG: u32 = 256;
override DECOUPLED: u32 = 1u;

struct Params { blocks: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> blockSeg: array<u32>;
@group(0) @binding(2) var<storage, read> segments: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> v: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= params.blocks) {
    return;
  }
  let seg = segments[blockSeg[b]];
  let i = b * WG + li;
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
