// Rows of the convolution weight gradient's implicit GEMM, shared by conv/backward-weight.wgsl (subgroup
// broadcast) and conv/backward-weight-tiled.wgsl (no optional feature): the uniforms, x, the packed dy
// (dyp, read through `panelLoad`) and dw, the tap and channel of a weight row (Pos), the walk over the
// reduction rows (n, zo, yo), where x is read along one of them, the gather of four positions xo along
// it, and the store of four output channels. See conv/backward-weight.wgsl for the layouts and the
// split-K scheme. Expects nothing from the includer.
struct Params {
  #include "conv/geometry.part.wgsl"
  cin: u32,
  cout: u32,
  n: u32,
  m: u32,
  groups: u32,
  kpPerBatch: u32,
  panelsPerBatch: u32,
  rowsPerSplit: u32,
  rowBase: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dyp: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;

fn panelLoad(i: u32) -> vec4<f32> {
  return dyp[i];
}

// A weight row (ci, tap): the tap's offset from the strided output position (tap·dilation − pad), and
// ci's offset in x (or, with channel-quad rows, the quad's offset in the blocked input).
struct Pos {
  off: vec3<i32>,
  ciOff: u32,
}

struct Row {
  base: i32,
  u0: i32,
}

// How inner elements t = 0, 1, … of a row are addressed: coordinate u = u0 + t·du, valid for
// 0 ≤ u < ulim and t < count, at x[base + u·ostride]. A row outside the volume gets u0 far below 0.
struct Inner {
  du: i32,
  ulim: i32,
  count: u32,
  ostride: i32,
}

// Channel (or channel quad) c at tap t (flat over kD × kH × kW): the tap's offset and c's, c·D·H·W.
fn tapPos(c: u32, t: u32) -> Pos {
  let k = params.kernel;
  let a = t / (k.y * k.z);
  let t2 = t - a * k.y * k.z;
  let b = t2 / k.z;
  let cc = t2 - b * k.z;
  let s = params.inSize;
  return Pos(vec3<i32>(vec3<u32>(a, b, cc) * params.dilation) - vec3<i32>(params.pad), c * s.x * s.y * s.z);
}

// Weight row r = ci·taps + tap, the flat index of dw within one output channel (rows past the end clamped).
fn weightRow(r: u32) -> Pos {
  let k = params.kernel;
  let taps = k.x * k.y * k.z;
  let rr = min(r, params.m - 1u);
  let ci = rr / taps;
  return tapPos(ci, rr - ci * taps);
}

// A reduction row: the output row (n, zo, yo) of dy, walked in order from a split's first row.
struct DyRow {
  n: u32,
  zo: u32,
  yo: u32,
}

// Reduction row i of the N·Do·Ho rows.
fn dyRow(i: u32) -> DyRow {
  let o = params.outSize;
  return DyRow(i / (o.x * o.y), (i / o.y) % o.x, i % o.y);
}

// The reduction row after r, by counting (no division in the loop).
fn nextDyRow(r: DyRow) -> DyRow {
  let o = params.outSize;
  var q = r;
  q.yo += 1u;
  if (q.yo == o.y) {
    q.yo = 0u;
    q.zo += 1u;
    if (q.zo == o.x) {
      q.zo = 0u;
      q.n += 1u;
    }
  }
  return q;
}

// Where x is read along the output row (n, zo, yo) for one weight row; the inner axis is xo, read at
// xi = xo·sW + (c·dW − pW).
fn row(p: Pos, nOff: u32, zo: u32, yo: u32) -> Row {
  let s = vec3<i32>(params.inSize);
  let zi = i32(zo * params.stride.x) + p.off.x;
  let yi = i32(yo * params.stride.y) + p.off.y;
  let ok = (zi >= 0) & (zi < s.x) & (yi >= 0) & (yi < s.y);
  return Row(i32(nOff + p.ciOff) + (zi * s.y + yi) * s.z, select(-1073741824, p.off.z, ok));
}

// Four consecutive inner elements t0..t0+3 of a row, zero outside the volume or past the inner extent.
// Vector form without short-circuit logic: branches here make CPU drivers' compile times explode.
fn gather4(r: Row, t0: u32, inner: Inner) -> vec4<f32> {
  let t = vec4<u32>(t0) + vec4<u32>(0u, 1u, 2u, 3u);
  let u = vec4<i32>(r.u0) + vec4<i32>(t) * inner.du;
  let valid = (t < vec4<u32>(inner.count)) & (u >= vec4<i32>(0)) & (u < vec4<i32>(inner.ulim));
  let idx = vec4<u32>(select(vec4<i32>(0), vec4<i32>(r.base) + u * inner.ostride, valid));
  return select(vec4<f32>(), vec4<f32>(x[idx.x], x[idx.y], x[idx.z], x[idx.w]), valid);
}

fn store(r: u32, col0: u32, v: vec4<f32>, base: u32) {
  if (r >= params.m) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let co = col0 + j;
    if (co < params.cout) {
      dw[base + co * params.m + r] = v[j];
    }
  }
}
