// Rows of the convolution input gradient's implicit GEMM, shared by conv/backward-input.wgsl (subgroup
// broadcast) and conv/backward-input-tiled.wgsl (no optional feature): the uniforms, the blocked dy (dyb),
// the packed weight wp (read through `panelLoad`) and dx, the dx position of a row of one stride phase,
// where dy is read for it and one tap, the vec4 load of four output channels, the store of four input
// channels, and which taps reach a phase. See conv/backward-input.wgsl for the layouts. Expects nothing
// from the includer.
struct Params {
  #include "conv/geometry.part.wgsl"
  cin: u32,
  cout: u32,
  n: u32,
  kp: u32,
  groups: u32,
  rowBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dyb: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn panelLoad(i: u32) -> vec4<f32> {
  return wp[i];
}

struct Pos {
  // dx coordinate (z, y, x), the batch offset into dyb (in vec4s), and the flat dx offset of (n, 0, z, y, x).
  coord: vec3<i32>,
  dyOff: u32,
  dxOff: u32,
}

struct Row {
  base: i32,
  u0: i32,
}

fn position(m: u32, mPhase: u32, rem: vec3<u32>, count: vec3<u32>) -> Pos {
  let mm = min(m, mPhase - 1u);
  let plane = count.x * count.y * count.z;
  let n = mm / plane;
  let r = mm - n * plane;
  let jz = r / (count.y * count.z);
  let r2 = r - jz * count.y * count.z;
  let jy = r2 / count.z;
  let jx = r2 - jy * count.z;
  let c = rem + vec3<u32>(jz, jy, jx) * params.stride;
  let s = params.inSize;
  let o = params.outSize;
  return Pos(vec3<i32>(c), n * params.groups * o.x * o.y * o.z, n * params.cin * s.x * s.y * s.z + (c.x * s.y + c.y) * s.z + c.z);
}

// Where dy is read for one dx position and tap (the phase guarantees exact division); u0 < 0 marks a
// tap that lands outside dy.
fn row(p: Pos, tap: vec3<u32>) -> Row {
  let num = p.coord + vec3<i32>(params.pad) - vec3<i32>(tap * params.dilation);
  let o = num / vec3<i32>(params.stride);
  let os = vec3<i32>(params.outSize);
  let ok = all(num >= vec3<i32>(0)) & all(o < os);
  return Row(i32(p.dyOff) + (o.x * os.y + o.y) * os.z + o.z, select(-1073741824, 0, ok));
}

// Channels 4g..4g+3 of dy at a row (zero outside dy; padded channels are zero in dyb).
fn load4(r: Row, g: u32, plane: u32) -> vec4<f32> {
  let ok = r.u0 >= 0;
  return select(vec4<f32>(), dyb[u32(select(0, r.base + i32(g * plane), ok))], ok);
}

fn store(p: Pos, m: u32, mPhase: u32, col0: u32, v: vec4<f32>) {
  if (m >= mPhase) {
    return;
  }
  let s = params.inSize;
  for (var j = 0u; j < 4u; j++) {
    let ci = col0 + j;
    if (ci < params.cin) {
      dx[p.dxOff + ci * s.x * s.y * s.z] = v[j];
    }
  }
}

// Whether tap index a along an axis reaches positions with remainder `rem` (numerator divisible by s).
fn reaches(rem: u32, pad: u32, a: u32, dil: u32, s: u32) -> bool {
  let num = i32(rem + pad) - i32(a * dil);
  return ((num % i32(s)) + i32(s)) % i32(s) == 0;
}
