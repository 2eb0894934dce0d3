// Packs the broadcast operand of the register-blocked GEMMs (matmul B, convolution weights) into
// panels of TN columns: out[(nb·KP + kp)·TN + 4·s + e] = vec4(src[col = nb·TN + 4s + c, k = 4·kp + e], c = 0..3),
// i.e. for each packed k-group of four, lane e of a 4-lane quad finds the four columns of slot s at
// k = 4·kp + e in one vec4 — what the GEMM kernels broadcast across the subgroup.
// The reduction index k is split as k = r·innerPad + i (rows r of an inner axis i padded to a multiple of
// four); element (col, r, i) lives at src[col·sCol + r·sRow + i·sInner] and is zero when col ≥ cols,
// r ≥ rows or i ≥ inner. Examples: matmul B [K, N]: rows 1, inner K, sCol 1, sInner N (Bᵀ: sCol K, sInner 1);
// conv weight [Cout, Cin, kD, kH, kW] with ci innermost: rows = taps, inner = Cin, sRow 1, sInner taps.
// One thread per output vec4, 2-D grid; `batch` source matrices of `srcBatchStride` elements along gid.z,
// the first one `srcBase` elements into src.
override WG: u32 = 256;
// Columns per panel, set by the kernel definition from PANEL in src/kernels/tuning.ts.
override TN: u32;

struct Params {
  cols: u32,
  rows: u32,
  inner: u32,
  innerPad: u32,
  sCol: u32,
  sRow: u32,
  sInner: u32,
  kp: u32,
  total: u32,
  srcBatchStride: u32,
  srcBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

fn element(base: u32, col: u32, k: u32) -> f32 {
  let r = k / params.innerPad;
  let i = k - r * params.innerPad;
  if (col >= params.cols || r >= params.rows || i >= params.inner) {
    return 0.0;
  }
  return src[base + col * params.sCol + r * params.sRow + i * params.sInner];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.total) {
    return;
  }
  // idx = (nb·KP + kp)·TN + 4s + e
  let e = idx & 3u;
  let s = (idx >> 2u) % (TN / 4u);
  let panel = idx / TN;
  let kp = panel % params.kp;
  let nb = panel / params.kp;
  let k = kp * 4u + e;
  let col = nb * TN + s * 4u;
  let base = params.srcBase + gid.z * params.srcBatchStride;
  out[gid.z * params.total + idx] = vec4<f32>(element(base, col, k), element(base, col + 1u, k), element(base, col + 2u, k), element(base, col + 3u, k));
}
