// SGD with momentum and weight decay (torch.optim.SGD semantics) — ONE dispatch for all parameters:
//   d = g + wd·p;  buf = d (first step) or μ·buf + (1 − dampening)·d;  d = d + μ·buf (Nesterov) or buf;
//   p = p − lr·d      (MOMENTUM = 0: no buffer, d unchanged)
// Every parameter tensor of the model lives in one flat arena (param, grad, momentum buffers of the same
// layout), each tensor starting on a 1,024-float block boundary, so a workgroup never straddles two tensors.
// Bindings: blockSeg [blocks] u32 — tensor index of each 1,024-float block; segments [S] vec2 — per tensor
// (lr multiplier, weight decay), PyTorch's param groups; grad, param, mom: the flat arenas as vec4
// (mom is any spare buffer when MOMENTUM = 0). Padding between tensors holds zeros and stays zero.
// Mapping: workgroup b (2-D grid, linearised) updates block b; thread t the vec4 b·WG + t (coalesced).
override WG: u32 = 256;
override MOMENTUM: u32 = 1u;
override NESTEROV: u32 = 0u;

struct Params { blocks: u32, lr: f32, momentum: f32, dampening: f32, first: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> blockSeg: array<u32>;
@group(0) @binding(2) var<storage, read> segments: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> mom: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= params.blocks) {
    return;
  }
  let seg = segments[blockSeg[b]];
  let lr = params.lr * seg.x;
  let i = b * WG + li;
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
