// Max pooling over depth: x [N, C, D] → y [N, C] and argmax [N, C] (i32 index d of the maximum).
// Ties go to the first (smallest) d; a NaN counts as the maximum (as torch.max) and stops the scan,
// so it propagates. NaN is detected on the bit pattern because compilers may fold `v != v` away.
// One thread per row r = n·C + c on a 2-D grid; serial loop over the D slices.
override WG: u32 = 256;

struct Params { rows: u32, depth: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<i32>;

fn isNan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= params.rows) {
    return;
  }
  let o = r * params.depth;
  var best = x[o];
  var bi = 0u;
  for (var d = 1u; d < params.depth && !isNan(best); d++) {
    let v = x[o + d];
    if (v > best || isNan(v)) {
      best = v;
      bi = d;
    }
  }
  y[r] = best;
  argmax[r] = i32(bi);
}
