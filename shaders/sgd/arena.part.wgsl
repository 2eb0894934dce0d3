// The walk over the flat parameter arena of the fused optimizers (sgd/step.wgsl, adam/step.wgsl; the
// layout is src/kernels/sgd.ts planParamArena): every parameter tensor of the model lives in one arena,
// each tensor starting on a block boundary of WG vec4s (1,024 floats), so a workgroup never straddles
// two tensors. Workgroup b (2-D grid, linearised) updates block b, thread t the vec4 i = b·WG + t
// (coalesced), by calling update(i, seg) with seg = that tensor's (lr multiplier, weight decay) —
// PyTorch's param groups. Padding between tensors holds zeros and every update keeps it zero.
// Bindings 1–4: blockSeg [blocks] u32 — tensor index of each block; segments [S] vec2; grad and param:
// the flat arenas as vec4.
// Needs from the includer: a uniform `params` at binding 0 with `blocks: u32`, its state arenas (same
// layout) from binding 5 on, and `fn update(i: u32, seg: vec2<f32>)`.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> blockSeg: array<u32>;
@group(0) @binding(2) var<storage, read> segments: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> param: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= params.blocks) {
    return;
  }
  update(b * WG + li, segments[blockSeg[b]]);
}
