// Whole-volume statistics, second stage: ONE workgroup reduces the `groups` partials of
// augment/stats-partial.wgsl and stores stats[slot] = (min, max, mean, mean of squares) with
// mean = Σx · inv_n. Later kernels read the slot directly, so nothing is read back to the host.
// Threads: WG; thread t folds partials t, t + WG, … in a fixed order, then a workgroup-memory tree.
override WG: u32 = 256;

struct Params { groups: u32, inv_n: f32, slot: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> stats: array<vec4<f32>>;

var<workgroup> red: array<vec4<f32>, WG>;

fn combine(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(min(a.x, b.x), max(a.y, b.y), a.z + b.z, a.w + b.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let big = 3.402823466e38; // the largest f32: the neutral element of min (data are finite)
  var acc = vec4<f32>(big, -big, 0.0, 0.0);
  for (var i = li; i < params.groups; i += WG) {
    acc = combine(acc, partial[i]);
  }
  red[li] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      red[li] = combine(red[li], red[li + h]);
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    let r = red[0];
    stats[params.slot] = vec4<f32>(r.x, r.y, r.z * params.inv_n, r.w * params.inv_n);
  }
}
