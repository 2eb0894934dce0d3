// The walk of the partial-reduction passes (stats, backward-affine) through one channel segment. x is
// NCDHW (NCHW, NC) viewed as [N, C, S / LANES] loads, S = D·H·W; a channel's N·S / LANES loads, taken
// n-major, are cut into segments of `seg` loads, Q per channel, so one workgroup covers many whole
// planes of a channel when planes are small (no lane idles on a plane of 8 values) and part of one plane
// when they are big. Threads stride through their segment WG loads apart (coalesced): the host splits
// that stride into `step` (divmod(WG, plane) planes of the channel and stepS) and `planeStep` (to the
// channel's next plane when s wraps), so no load needs a division.
// The walk's state stays in the caller's own variables, updated through pointers, and the plane length
// is re-read from params: lavapipe compiled a by-value state struct, or S held in a register, to 1–2 %
// more instructions than the hand-inlined walk; this form compiles to the same count.
// A tensor larger than one storage binding is bound a few batch entries at a time: N is then the chunk's
// entries, and the chunk's partials go to slots Q0 .. Q0 + (its segments) − 1 of the channel's Q.
// Provides: struct Params (the passes' uniform), segmentStart, segmentEnd and segmentNext. Expects from
// the includer: override WG, const LANES (lanes.part.wgsl) and the uniform binding `params: Params`.
struct Params { C: u32, S: u32, N: u32, Q: u32, seg: u32, stepS: u32, step: u32, planeStep: u32, Q0: u32 }

// The thread's first load in segment q of channel c: returns its position j along the channel
// (n-major; walk while j < segmentEnd(q), WG at a time) and sets the load's flat index i and its offset s
// within the plane.
fn segmentStart(q: u32, c: u32, lid: u32, i: ptr<function, u32>, s: ptr<function, u32>) -> u32 {
  let j = q * params.seg + lid;
  let n = j / (params.S / LANES);
  *s = j - n * (params.S / LANES);
  *i = (n * params.C + c) * (params.S / LANES) + *s;
  return j;
}

fn segmentEnd(q: u32) -> u32 {
  return min((q + 1u) * params.seg, params.N * (params.S / LANES));
}

// i and s of the load WG further along the channel; one more plane of the channel when s wraps.
fn segmentNext(i: ptr<function, u32>, s: ptr<function, u32>) {
  *s += params.stepS;
  let wrap = *s >= params.S / LANES;
  *s = select(*s, *s - params.S / LANES, wrap);
  *i += params.step + select(0u, params.planeStep, wrap);
}
