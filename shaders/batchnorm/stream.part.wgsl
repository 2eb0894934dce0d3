// The walk of the streaming passes (forward, backward-input): one load at a time over the flat index i
// of x (NCDHW, NCHW or NC, viewed as S / LANES loads per (n, c) plane, S = D·H·W) on a 2-D grid, so any
// plane size keeps every lane busy, grid-stride looped. The load's channel comes from one division at
// the thread's start, then advances by the host's (stepC, stepS) — the grid stride split into channels
// and a plane offset — so no load needs a division.
// Provides: struct Params (the passes' uniform), struct Walk and streamStart/streamNext. Expects from the
// includer: override WG, const LANES (lanes.part.wgsl) and the uniform binding `params: Params`.
struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

// A thread's place: i, the flat load index; s, its offset within the plane; c, its channel. S (loads per
// plane) and stride (the grid's threads) ride along unchanged, computed once before the loop.
struct Walk { i: u32, s: u32, c: u32, S: u32, stride: u32 }

fn streamStart(lid: u32, wid: vec3<u32>, nwg: vec3<u32>) -> Walk {
  let S = params.S / LANES;
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i / S;
  return Walk(i, i - plane * S, plane % params.C, S, nwg.x * nwg.y * WG);
}

fn streamNext(w: Walk) -> Walk {
  var s = w.s + params.stepS;
  var c = w.c + params.stepC;
  if (s >= w.S) {
    s -= w.S;
    c += 1u;
  }
  if (c >= params.C) {
    c -= params.C;
  }
  return Walk(w.i + w.stride, s, c, w.S, w.stride);
}
