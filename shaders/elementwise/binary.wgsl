// Binary elementwise on f32 tensors of equal size: out[i] = a[i] OP b[i].
// OP (override, compiled away): 0 add, 1 mul, 2 sub, 3 relu-backward (a = upstream grad, b = relu input).
// `alpha` scales b for add/sub (out = a + alpha·b), which gives axpy and accumulate-into for free.
// One thread per element on a 2-D grid.
override WG: u32 = 256;
override OP: u32 = 0;

struct Params { n: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let x = a[i];
  let y = b[i];
  var r: f32;
  switch OP {
    case 0u: { r = x + params.alpha * y; }
    case 1u: { r = x * y; }
    case 2u: { r = x - params.alpha * y; }
    default: { r = select(0.0, x, y > 0.0); }
  }
  out[i] = r;
}
