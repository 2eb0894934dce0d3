// Geometric augmentation, the ONE resampling pass: y[d, yo, xo] = bilinear(x[d], field(yo, xo)), the same
// H×W sampling field for every slice of the volume (reflect-101 borders, as src/data/image-ops.ts
// sampleBilinear). Layout: one volume [D, H, W] (NCDHW with the batch and channel folded into the bases:
// x starts at src_base, y at dst_base, elements). field [2, H, W]: [0] source row, [1] source column, in
// pixels with centres at integers (built by augment/field.wgsl).
// Threads: one per output voxel; a TX × TY workgroup tiles (x, y) of one slice, workgroup z = slice.
override TX: u32 = 16;
override TY: u32 = 16;

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> field: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// Reflect-101 of a continuous coordinate into [0, n - 1] (mirror without repeating the edge pixel).
fn reflect_coord(c: f32, n: u32) -> f32 {
  if (c >= 0.0 && c <= f32(n - 1u)) {
    return c;
  }
  if (n == 1u) {
    return 0.0;
  }
  let period = 2.0 * f32(n - 1u);
  var m = c % period;
  if (m < 0.0) {
    m += period;
  }
  return select(period - m, m, m <= f32(n - 1u));
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let D = params.size.x;
  let H = params.size.y;
  let W = params.size.z;
  let xo = gid.x;
  let yo = gid.y;
  let d = gid.z;
  if (xo >= W || yo >= H || d >= D) {
    return;
  }
  let p = yo * W + xo;
  let yy = reflect_coord(field[p], H);
  let xx = reflect_coord(field[H * W + p], W);
  let y0 = min(u32(floor(yy)), H - 1u);
  let x0 = min(u32(floor(xx)), W - 1u);
  let y1 = min(y0 + 1u, H - 1u);
  let x1 = min(x0 + 1u, W - 1u);
  let fy = yy - f32(y0);
  let fx = xx - f32(x0);
  let s = params.src_base + d * H * W;
  let a = x[s + y0 * W + x0];
  let b = x[s + y0 * W + x1];
  let c = x[s + y1 * W + x0];
  let e = x[s + y1 * W + x1];
  y[params.dst_base + d * H * W + p] = (a * (1.0 - fx) + b * fx) * (1.0 - fy) + (c * (1.0 - fx) + e * fx) * fy;
}
