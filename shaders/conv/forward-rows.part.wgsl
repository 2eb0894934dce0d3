// Rows of the convolution forward's implicit GEMM, shared by conv/forward.wgsl (subgroup broadcast) and
// conv/forward-tiled.wgsl (no optional feature): the uniforms, the re-laid input xb, the packed weight
// wp (read through `panelLoad`) and the output y; how the reduction is walked (outer rows of an inner axis
// taken four at a time), where each output position's window starts, where a reduction row (ci, tap)
// starts for it, the vec4 load of four reduction elements, and the store of four output channels. See
// conv/forward.wgsl for the layouts (INNER_KW = 0: channels in fours; 1: sliding windows of four along W
// for the thin stem). Expects nothing from the includer.
override INNER_KW: u32 = 0;

struct Params {
  #include "conv/geometry.part.wgsl"
  cin: u32,
  cout: u32,
  m: u32,
  kp: u32,
  groups: u32,
  rowBase: u32,
  // Row length of the sliding windows (INNER_KW = 1).
  winLen: u32,
  // First batch entry held in xb (large batches are convolved in chunks that fit one binding).
  nBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xb: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn panelLoad(i: u32) -> vec4<f32> {
  return wp[i];
}

// The reduction's rows (o0, o1, o2) < outerRows(), each of groups k-groups of the inner axis: taps
// (kd, kh, kw) with channels inner (INNER_KW = 0), or (ci, kd, kh) with kw inner (INNER_KW = 1).
fn outerRows() -> vec3<u32> {
  let k = params.kernel;
  var outer = k;
  if (INNER_KW != 0u) {
    outer = vec3<u32>(params.cin, k.x, k.y);
  }
  return outer;
}

// vec4s of xb between consecutive k-groups of a reduction row (load4's `step`).
fn groupStep() -> u32 {
  let i3 = params.inSize;
  return select(i3.x * i3.y * i3.z, 4u * params.dilation.z, INNER_KW != 0u);
}

// Reduction row (o0, o1, o2): its tap's offset from the window origin (tap·dilation) and its channel.
struct ReductionRow {
  off: vec3<i32>,
  ci: u32,
}

fn reductionRow(o0: u32, o1: u32, o2: u32) -> ReductionRow {
  var tap = vec3<u32>(o0, o1, o2);
  var ci = 0u;
  if (INNER_KW != 0u) {
    tap = vec3<u32>(o1, o2, 0u);
    ci = o0;
  }
  return ReductionRow(vec3<i32>(tap * params.dilation), ci);
}

struct Pos {
  // Input coordinate of the window origin (may be negative: padding), and the batch offset into x.
  origin: vec3<i32>,
  nOff: u32,
}

struct Row {
  base: i32,
  u0: i32,
}

fn position(m: u32) -> Pos {
  let o = params.outSize;
  let plane = o.x * o.y * o.z;
  let mm = min(m, params.m - 1u);
  let n = mm / plane;
  let r = mm - n * plane;
  let zo = r / (o.y * o.z);
  let r2 = r - zo * o.y * o.z;
  let yo = r2 / o.z;
  let xo = r2 - yo * o.z;
  let i = params.inSize;
  // Batch offset in xb, in vec4s: window rows of winLen (thin path) or channel quads of D·H·W voxels.
  let nb = n - params.nBase;
  let off = select(nb * params.groups * i.x * i.y * i.z, nb * params.cin * i.x * i.y * params.winLen, INNER_KW != 0u);
  return Pos(vec3<i32>(vec3<u32>(zo, yo, xo) * params.stride) - vec3<i32>(params.pad), off);
}

// Where reduction row rr = (ci, tap) starts for one output position.
fn row(p: Pos, rr: ReductionRow) -> Row {
  let c = p.origin + rr.off;
  let s = vec3<i32>(params.inSize);
  let okZY = all((c.xy >= vec2<i32>(0)) & (c.xy < s.xy));
  if (INNER_KW != 0u) {
    // Inner axis kw: group g at xb[row·winLen + (c.z + pW) + 4g·dW] (c.z + pW = xo·sW ≥ 0: the windows are padded).
    let rowStart = i32(p.nOff + ((rr.ci * params.inSize.x) * params.inSize.y) * params.winLen) + (c.x * s.y + c.y) * i32(params.winLen);
    return Row(rowStart + c.z + i32(params.pad.z), select(-1073741824, 0, okZY));
  }
  // Inner axis ci: group g of channels at xb[base + g·D·H·W].
  let ok = okZY & (c.z >= 0) & (c.z < s.z);
  return Row(i32(p.nOff) + (c.x * s.y + c.y) * s.z + c.z, select(-1073741824, 0, ok));
}

// Reduction elements 4g..4g+3 of a row: channels 4g..4g+3 (INNER_KW = 0, stride D·H·W between groups)
// or kernel columns 4g..4g+3 (INNER_KW = 1, stride 4·dW); zero outside the volume. No short-circuit
// logic anywhere on this path: branches make the CPU drivers' compile times explode.
fn load4(r: Row, g: u32, step: u32) -> vec4<f32> {
  let ok = r.u0 >= 0;
  return select(vec4<f32>(), xb[u32(select(0, r.base + i32(g * step), ok))], ok);
}

fn store(m: u32, col0: u32, v: vec4<f32>) {
  if (m >= params.m) {
    return;
  }
  let o = params.outSize;
  let plane = o.x * o.y * o.z;
  let n = m / plane;
  let r = m - n * plane;
  for (var j = 0u; j < 4u; j++) {
    let co = col0 + j;
    if (co < params.cout) {
      y[(n * params.cout + co) * plane + r] = v[j];
    }
  }
}
