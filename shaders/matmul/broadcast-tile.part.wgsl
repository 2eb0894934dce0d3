// The launch shape of the broadcast GEMM kernels (matmul/matmul.wgsl, conv/forward.wgsl,
// conv/backward-input.wgsl, conv/backward-weight.wgsl; one k-group of their loop is
// matmul/broadcast-k4.part.wgsl): WG invocations, each owning TM rows (1, 2 or 4) × the TN columns of its
// workgroup's panel, held in 4·TM vec4 accumulators. The host sets WG, TM and SG8 per adapter
// (src/kernels/tuning.ts). Expects nothing from the includer.
override WG: u32 = 64;
override TM: u32 = 2;
// 1 when subgroups have at least 8 lanes: each lane of an 8-lane group then loads two of a k-group's 16
// panel entries instead of four (the CPU drivers' loads are per-lane loops, so this halves their cost).
override SG8: u32 = 0;
// Columns per panel of the packed operand (matmul/pack.wgsl), set by the kernel definitions from PANEL
// in src/kernels/tuning.ts; the four column quads these kernels hold (w0..w3, c·0..c·3) make it 16.
override TN: u32;

// The invocation's share of one k-group's panel entries (matmul/pack.wgsl: slot s — columns 4s..4s+3 —
// at k = 4kp + e in vec4 4s + e), from vec4 wi = the k-group's first + the lane's index in its group: lane
// e of a 4-lane quad loads slots 0..3 at k = 4kp + e (w0..w3), or with SG8 lane 4h + e of an 8-lane group
// slots h and h + 2 (w0, w1). Read through the includer's panelLoad(i).
struct PanelQuads {
  w0: vec4<f32>,
  w1: vec4<f32>,
  w2: vec4<f32>,
  w3: vec4<f32>,
}

fn panelQuads(wi: u32) -> PanelQuads {
  var w: PanelQuads;
  w.w0 = panelLoad(wi);
  if (SG8 != 0u) {
    w.w1 = panelLoad(wi + 8u);
  } else {
    w.w1 = panelLoad(wi + 4u);
    w.w2 = panelLoad(wi + 8u);
    w.w3 = panelLoad(wi + 12u);
  }
  return w;
}
