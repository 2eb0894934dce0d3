// The walk of the streaming passes (forward, backward-input): one load at a time over the flat index i
// of x (NCDHW, NCHW or NC, viewed as S / LANES loads per (n, c) plane, S = D·H·W) on a 2-D grid, so any
// plane size keeps every lane busy, grid-stride looped. The load's channel comes from one division at
// the thread's start, then advances by the host's (stepC, stepS) — the grid stride split into channels
// and a plane offset — so no load needs a division.
// The walk's state stays in the caller's own variables, updated through pointers, and the plane length
// is re-read from params: lavapipe compiled a by-value state struct, or S held in a register, to 1–2 %
// more instructions than the hand-inlined walk; this form compiles to the same count.
// Provides: struct Params (the passes' uniform), streamStart and streamNext. Expects from the
// includer: override WG, const LANES (lanes.part.wgsl) and the uniform binding `params: Params`.
struct Params { C: u32, S: u32, total: u32, stepC: u32, stepS: u32 }

// The thread's first load: returns its flat index i and sets its plane offset s and channel c.
fn streamStart(lid: u32, wid: vec3<u32>, nwg: vec3<u32>, s: ptr<function, u32>, c: ptr<function, u32>) -> u32 {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let plane = i / (params.S / LANES);
  *s = i - plane * (params.S / LANES);
  *c = plane % params.C;
  return i;
}

// s and c of the load a grid stride (nwg.x·nwg.y·WG) further on.
fn streamNext(s: ptr<function, u32>, c: ptr<function, u32>) {
  *s += params.stepS;
  *c += params.stepC;
  if (*s >= params.S / LANES) {
    *s -= params.S / LANES;
    *c += 1u;
  }
  if (*c >= params.C) {
    *c -= params.C;
  }
}
