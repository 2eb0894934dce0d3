// The (min, max, Σx, Σx²) statistics of augment/stats-partial.wgsl and augment/stats-final.wgsl:
// STATS_EMPTY (nothing seen yet), combine (two partial results), and workgroup_combine, the tree over
// the workgroup's WG partials in workgroup memory.
// Needs from the includer: override WG (threads per workgroup, a power of two).

// The largest f32 is the neutral element of min (the data are finite).
const STATS_EMPTY = vec4<f32>(3.402823466e38, -3.402823466e38, 0.0, 0.0);

var<workgroup> red: array<vec4<f32>, WG>;

fn combine(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(min(a.x, b.x), max(a.y, b.y), a.z + b.z, a.w + b.w);
}

// Combines the `acc` of every thread li of the workgroup; every thread gets the result. Has barriers:
// call it from uniform control flow.
fn workgroup_combine(li: u32, acc: vec4<f32>) -> vec4<f32> {
  red[li] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      red[li] = combine(red[li], red[li + h]);
    }
    workgroupBarrier();
  }
  return red[0];
}
