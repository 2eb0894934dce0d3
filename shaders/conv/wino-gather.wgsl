// Depth-Winograd overlap-add gather (the output transform, and the input and weight gradients'):
//   dst[(o·dout + z)·inner + i] = Σ_t Σ_p mat[j·POINTS + p] · src[p·pStride + (o·tiles + t)·inner + i],
//   j = z + off − STEP·t, over the tiles t < tiles with 0 ≤ j < TAPS. mat is TAPS × POINTS, row-major;
//   src holds the points pStride elements apart, each [outer, tiles, inner]; dst is depth-major
//   [outer, dout, inner].
// One invocation per (o, q, i) writes the STEP outputs z + off = q·STEP .. q·STEP + STEP − 1 (those inside
// [0, dout)): they share the tiles q − ⌊(TAPS − 1)/STEP⌋ .. q, whose points it loads once each. Every
// output element is written by exactly one invocation. POINTS, TAPS, STEP are pipeline constants (≤ 8)
// so the loops unroll into registers.
// T is the element: f32 here; conv-winograd.ts also builds this file with T = vec4<f32> (src, dst,
// inner and pStride then count vec4s) for inner axes that are multiples of four.
alias T = f32;

override WG: u32 = 256;
override POINTS: u32 = 6;
override TAPS: u32 = 4;
override STEP: u32 = 4;

struct Params {
  outer: u32,
  dout: u32,
  inner: u32,
  tiles: u32,
  // Output blocks of STEP along depth: ⌈(dout + off) / STEP⌉.
  blocks: u32,
  off: u32,
  pStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mat: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<T>;
@group(0) @binding(3) var<storage, read_write> dst: array<T>;

// Earlier tiles whose windows reach into an output block.
override BACK: u32 = (TAPS - 1u) / STEP;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= params.outer * params.blocks * params.inner) {
    return;
  }
  let i = e % params.inner;
  let oq = e / params.inner;
  let q = oq % params.blocks;
  let o = oq / params.blocks;
  var acc: array<T, 8>;
  for (var b = 0u; b <= BACK; b++) {
    // Tile t = q − b; its window covers z + off = STEP·t + j, j < TAPS.
    // Neighbouring invocations share q, so this branch is coherent; it skips the loads of missing tiles.
    if ((q < b) | (q - b >= params.tiles)) {
      continue;
    }
    let at = (o * params.tiles + q - b) * params.inner + i;
    var v: array<T, 8>;
    for (var p = 0u; p < POINTS; p++) {
      v[p] = src[p * params.pStride + at];
    }
    for (var r = 0u; r < STEP; r++) {
      let j = b * STEP + r;
      if (j < TAPS) {
        var s = acc[r];
        for (var p = 0u; p < POINTS; p++) {
          s = fma(T(mat[j * POINTS + p]), v[p], s);
        }
        acc[r] = s;
      }
    }
  }
  for (var r = 0u; r < STEP; r++) {
    let zz = q * STEP + r;
    if ((zz >= params.off) & (zz < params.dout + params.off)) {
      dst[(o * params.dout + zz - params.off) * params.inner + i] = acc[r];
    }
  }
}
