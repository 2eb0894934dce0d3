// Motion blur: a small 2-D correlation of every slice with one odd ksize × ksize kernel (the anti-aliased
// line of src/data/augment-params.ts motionBlurKernel), reflect-101 borders, as image-ops convolve2d.
// Layout: `size` = (D, H, W) of one volume; x starts at src_base, y at dst_base; table holds the kernel
// row-major at w_off. Threads: one per output voxel; TX × TY workgroups tile (x, y), workgroup z = slice.
// Zero taps are skipped (most of a line kernel is zero) — a saving, and the CPU reference does the same.
override TX: u32 = 16;
override TY: u32 = 16;

struct Params { size: vec3<u32>, src_base: u32, dst_base: u32, ksize: u32, w_off: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn reflect_index(i: i32, n: i32) -> i32 {
  if (i >= 0 && i < n) {
    return i; // the common case: no integer division
  }
  if (n == 1) {
    return 0;
  }
  let period = 2 * (n - 1);
  var m = i % period;
  if (m < 0) {
    m += period;
  }
  return select(period - m, m, m < n);
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let D = params.size.x;
  let H = params.size.y;
  let W = params.size.z;
  if (gid.x >= W || gid.y >= H || gid.z >= D) {
    return;
  }
  let plane = params.src_base + gid.z * H * W;
  let n = i32(params.ksize);
  let r = (n - 1) / 2;
  var s = 0.0;
  for (var i = 0; i < n; i++) {
    let row = plane + u32(reflect_index(i32(gid.y) + i - r, i32(H))) * W;
    for (var j = 0; j < n; j++) {
      let w = table[params.w_off + u32(i * n + j)];
      if (w != 0.0) {
        s += w * x[row + u32(reflect_index(i32(gid.x) + j - r, i32(W)))];
      }
    }
  }
  y[params.dst_base + (gid.z * H + gid.y) * W + gid.x] = s;
}
