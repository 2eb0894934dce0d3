// copy: out[dst_base + i] = src[src_base + i] for i < n, over 32-bit words (dtype-agnostic); the bases
// let one volume of a batch be copied in place of a sub-range view (views bind only at 256-byte offsets).
// Threads: one per word (elementwise/per-element.part.wgsl).

struct Params { n: u32, src_base: u32, dst_base: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

#include "elementwise/per-element.part.wgsl"

fn element(i: u32) {
  out[params.dst_base + i] = src[params.src_base + i];
}
