// Broadcast along the middle axis, the adjoint of `sum-mid.wgsl`: out[o, m, i] = alpha · y[o, i] for a
// contiguous [outer, mid, inner] output (e.g. the backward of a mean over H·W: y [N·C·D], out
// [N·C·D, H·W, 1], alpha = 1 / (H·W)). Bindings: params; y [outer, inner]; out [outer, mid, inner].
// Threads: a TX × TY × TO workgroup, tx over inner columns (coalesced), ty over rows, to over TO outer
// indices (so short rows, as an 8×8 plane, still fill a workgroup); grid x = column blocks, y = row
// blocks, z = blocks of TO outer indices (y and z looped with the grid's stride past the per-dimension
// limit). No index needs a division.
override TX: u32 = 64;
override TY: u32 = 4;
override TO: u32 = 1;

struct Params { outer: u32, mid: u32, inner: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(TX, TY, TO)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = wid.x * TX + lid.x;
  if (col >= params.inner) {
    return;
  }
  for (var o = wid.z * TO + lid.z; o < params.outer; o += nwg.z * TO) {
    let v = params.alpha * y[o * params.inner + col];
    for (var r = wid.y * TY + lid.y; r < params.mid; r += nwg.y * TY) {
      out[(o * params.mid + r) * params.inner + col] = v;
    }
  }
}
