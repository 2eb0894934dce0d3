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
