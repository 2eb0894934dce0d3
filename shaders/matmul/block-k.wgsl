// Re-lays the per-invocation operand of the GEMM kernels out in blocks of four reduction elements:
//   out[(b·K4 + k4)·rows + r] = vec4(src[srcBase + b·srcBatch + r·sRow + (4·k4 + e)·sK], e = 0..3), zero for k ≥ K.
// matmul's A (rows m, k along a row or, transposed, down a column) and the convolutions' x / dy (rows =
// voxels of one batch entry, k = channel, so NC/4DHW4 — channels in fours) then arrive as one vec4 per
// row and k-group, and neighbouring rows — neighbouring invocations of the GEMM — are adjacent in memory.
// One thread per output vec4 on a 2-D grid; the batch entry is gid.z.
override WG: u32 = 256;

struct Params {
  rows: u32,
  k: u32,
  k4: u32,
  sRow: u32,
  sK: u32,
  srcBatch: u32,
  srcBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let total = params.k4 * params.rows;
  if (idx >= total) {
    return;
  }
  let r = idx % params.rows;
  let k0 = (idx / params.rows) * 4u;
  let base = params.srcBase + gid.z * params.srcBatch + r * params.sRow;
  var v = vec4<f32>();
  for (var e = 0u; e < 4u; e++) {
    if (k0 + e < params.k) {
      v[e] = src[base + (k0 + e) * params.sK];
    }
  }
  out[gid.z * total + idx] = v;
}
