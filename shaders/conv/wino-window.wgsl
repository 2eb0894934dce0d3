// Depth-Winograd windowed transform (the data and weight transforms, and the output gradient's):
//   dst[p·pStride + (o·tiles + t)·inner + i] = Σ_j mat[p·TAPS + j] · src[(o·din + z)·inner + i],
//   z = step·t − off + j, zero where z falls outside [0, din), for every point p < POINTS.
// src is depth-major [outer, din, inner] (NCDHW: outer = N·C, inner = H·W; a weight: outer = Cout·Cin,
// inner = kH·kW); dst holds the points one after another, pStride elements apart (a multiple of 64, so
// each point can be bound alone as the input of a 1×kH×kW convolution). mat is POINTS × TAPS, row-major.
// One invocation per (o, t, i) loads its window once and writes every point. POINTS and TAPS are
// pipeline constants (≤ 8) so the loops unroll and the window stays in registers — on the CPU drivers
// every storage load is a per-lane loop, so loading each input once is what makes this cheap.
// T is the element: f32 here; conv-winograd.ts also builds this file with T = vec4<f32> (src, dst,
// inner and pStride then count vec4s) for inner axes that are multiples of four — the packed GEMM
// operands, and plain tensors whose planes are — a quarter of the loads.
alias T = f32;

override WG: u32 = 256;
override POINTS: u32 = 6;
override TAPS: u32 = 6;

struct Params {
  outer: u32,
  din: u32,
  inner: u32,
  tiles: u32,
  step: u32,
  off: i32,
  pStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mat: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<T>;
@group(0) @binding(3) var<storage, read_write> dst: array<T>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= params.outer * params.tiles * params.inner) {
    return;
  }
  let i = e % params.inner;
  let ot = e / params.inner;
  let t = ot % params.tiles;
  let o = ot / params.tiles;
  let z0 = i32(t * params.step) - params.off;
  let base = o * params.din * params.inner + i;
  var d: array<T, 8>;
  for (var j = 0u; j < TAPS; j++) {
    let z = z0 + i32(j);
    let ok = (z >= 0) & (z < i32(params.din));
    d[j] = select(T(), src[select(0u, base + u32(z) * params.inner, ok)], ok);
  }
  for (var p = 0u; p < POINTS; p++) {
    var s = T();
    for (var j = 0u; j < TAPS; j++) {
      s = fma(T(mat[p * TAPS + j]), d[j], s);
    }
    dst[p * params.pStride + e] = s;
  }
}
