// Batch-norm eval mode: invStd[c] = 1 / sqrt(runningVar[c] + eps), the per-channel factor the forward
// and backward kernels share with training mode. Bindings: params; runningVar [C]; invStd [C] output.
// Threads: one per channel.
override WG: u32 = 64;

struct Params { C: u32, eps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> runningVar: array<f32>;
@group(0) @binding(2) var<storage, read_write> invStd: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < params.C) {
    invStd[gid.x] = 1.0 / sqrt(runningVar[gid.x] + params.eps);
  }
}
