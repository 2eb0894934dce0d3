// Sums the split-K partial weight gradients: out[i] = Σ_s parts[s·n + i], parts [splits, n] (row-major).
// One thread per output element on a 2-D grid; the split count is small (bounded by the tuning).
override WG: u32 = 256;

struct Params { n: u32, parts: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  var s = 0.0;
  for (var p = 0u; p < params.parts; p++) {
    s += parts[p * params.n + i];
  }
  out[i] = s;
}
