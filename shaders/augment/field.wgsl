// Geometric augmentation: composes the 8 geometric ops into ONE sampling field for an H×W slice,
// field[0][yo][xo] = source row, field[1][yo][xo] = source column (pixels, centres at integers), exactly
// the chain of src/data/augment-params.ts buildDisplacementField: each output pixel is pushed through
// hflip → crop → rotate → scale → shift → grid → optical → elastic (the reverse of the paper's order,
// because each op's map says where its output samples its input). `flags` bits say which ops are on:
// 1 hflip, 2 crop, 4 rotate, 8 scale, 16 shift, 32 grid, 64 optical, 128 elastic.
// Bindings: table (grid maps: the steps + 1 pinned cell edges of rows at grid_off, then of columns);
// elastic [2, H, W] smoothed noise (dy, dx) from augment/conv2d.wgsl (AXIS 0, 1), scaled here by
// elastic_mag / RMS with the RMS from stats[elastic_slot] (mean of squares over both components);
// field [2, H, W] output. Threads: one per output pixel, TX × TY tiles of the plane.
override TX: u32 = 16;
override TY: u32 = 16;

struct Params {
  plane: vec2<u32>,
  flags: u32,
  crop: vec3<f32>,
  rot: vec2<f32>,
  zoom: f32,
  shift: vec2<f32>,
  grid_off: u32,
  grid_steps: u32,
  optic: vec3<f32>,
  elastic_mag: f32,
  elastic_slot: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> elastic: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> field: array<f32>;

#include "augment/bilinear.part.wgsl"

fn sample_elastic(base: u32, yc: f32, xc: f32) -> f32 {
  let t = bilinear_taps(yc, xc, params.plane.x, params.plane.y);
  return bilinear_blend(t, elastic[base + t.o00], elastic[base + t.o01], elastic[base + t.o10], elastic[base + t.o11]);
}

// Piecewise-linear grid-distortion map of one axis in edge coordinates u ∈ [0, n].
fn grid_map(u: f32, n: u32, off: u32) -> f32 {
  let steps = params.grid_steps;
  let step = f32(n) / f32(steps);
  let i = u32(clamp(floor(u / step), 0.0, f32(steps - 1u)));
  let q0 = table[off + i];
  let q1 = table[off + i + 1u];
  return q0 + ((u - f32(i) * step) / step) * (q1 - q0);
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let H = params.plane.x;
  let W = params.plane.y;
  if (gid.x >= W || gid.y >= H) {
    return;
  }
  let f = params.flags;
  let cy = f32(H - 1u) * 0.5;
  let cx = f32(W - 1u) * 0.5;
  var y = f32(gid.y);
  var x = f32(gid.x);
  if ((f & 1u) != 0u) {
    x = f32(W - 1u) - x;
  }
  if ((f & 2u) != 0u) {
    y = params.crop.y + (y + 0.5) * params.crop.x - 0.5;
    x = params.crop.z + (x + 0.5) * params.crop.x - 0.5;
  }
  if ((f & 4u) != 0u) {
    // Content turned by +θ: sample the input at the point turned by −θ.
    let ry = y - cy;
    let rx = x - cx;
    x = cx + params.rot.x * rx + params.rot.y * ry;
    y = cy - params.rot.y * rx + params.rot.x * ry;
  }
  if ((f & 8u) != 0u) {
    y = cy + (y - cy) / params.zoom;
    x = cx + (x - cx) / params.zoom;
  }
  if ((f & 16u) != 0u) {
    y -= params.shift.x;
    x -= params.shift.y;
  }
  if ((f & 32u) != 0u) {
    y = grid_map(y + 0.5, H, params.grid_off) - 0.5;
    x = grid_map(x + 0.5, W, params.grid_off + params.grid_steps + 1u) - 0.5;
  }
  if ((f & 64u) != 0u) {
    let k = params.optic.x;
    let ny = (y - params.optic.y) / f32(H);
    let nx = (x - params.optic.z) / f32(W);
    let r2 = nx * nx + ny * ny;
    let g = 1.0 + k * r2 + k * r2 * r2;
    y = params.optic.y + ny * g * f32(H);
    x = params.optic.z + nx * g * f32(W);
  }
  if ((f & 128u) != 0u) {
    let rms = sqrt(2.0 * stats[params.elastic_slot].w);
    let gain = select(0.0, params.elastic_mag / rms, rms > 0.0);
    let ddy = sample_elastic(0u, y, x) * gain;
    let ddx = sample_elastic(H * W, y, x) * gain;
    y += ddy;
    x += ddx;
  }
  let p = gid.y * W + gid.x;
  field[p] = y;
  field[H * W + p] = x;
}
