// The walk of the partial-reduction passes (stats, backward-affine) through one channel segment. x is
// NCDHW (NCHW, NC) viewed as [N, C, S / LANES] loads, S = D·H·W; a channel's N·S / LANES loads, taken
// n-major, are cut into segments of `seg` loads, Q per channel, so one workgroup covers many whole
// planes of a channel when planes are small (no lane idles on a plane of 8 values) and part of one plane
// when they are big. Threads stride through their segment WG loads apart (coalesced): the host splits
// that stride into `step` (divmod(WG, plane) planes of the channel and stepS) and `planeStep` (to the
// channel's next plane when s wraps), so no load needs a division.
// Provides: struct Params (the passes' uniform), struct Walk and segmentStart/segmentNext. Expects from
// the includer: override WG, const LANES (lanes.part.wgsl) and the uniform binding `params: Params`.
struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32 }

// A thread's place: j, its load's position along the channel (n-major); i, the load's flat index; s,
// its offset within the plane. S (loads per plane) rides along unchanged, computed once before the loop.
struct Walk { j: u32, i: u32, s: u32, S: u32 }

// The thread's first load in segment q of channel c; walk while j < segmentEnd(q).
fn segmentStart(q: u32, c: u32, lid: u32) -> Walk {
  let S = params.S / LANES;
  let j = q * params.seg + lid;
  let n = j / S;
  let s = j - n * S;
  return Walk(j, (n * params.C + c) * S + s, s, S);
}

fn segmentEnd(q: u32) -> u32 {
  return min((q + 1u) * params.seg, params.N * (params.S / LANES));
}

// WG loads further along the channel; one more plane of the channel when s wraps.
fn segmentNext(w: Walk) -> Walk {
  let s = w.s + params.stepS;
  let wrap = s >= w.S;
  return Walk(w.j + WG, w.i + params.step + select(0u, params.planeStep, wrap), select(s, s - w.S, wrap), w.S);
}
