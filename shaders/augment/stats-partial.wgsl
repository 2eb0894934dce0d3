// Whole-volume statistics, first stage: each workgroup reduces its share of one volume's n elements
// (x starts at src_base) to (min, max, Σx, Σx²). The intensity augmentations need min/max/mean of the
// whole volume (CLAHE's range, brightness's range, contrast's mean), the elastic field its RMS.
// Threads: WG per workgroup, `groups` workgroups on x; thread t of group g reads elements
// g·WG + t, then every groups·WG further on (grid stride, coalesced), then a tree in workgroup memory.
// partial[g] = (min, max, sum, sum of squares); augment/stats-final.wgsl reduces the partials.
override WG: u32 = 256;

struct Params { n: u32, src_base: u32, groups: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<vec4<f32>>;

var<workgroup> red: array<vec4<f32>, WG>;

fn combine(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(min(a.x, b.x), max(a.y, b.y), a.z + b.z, a.w + b.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let big = 3.402823466e38; // the largest f32: the neutral element of min (data are finite)
  var acc = vec4<f32>(big, -big, 0.0, 0.0);
  for (var i = wid.x * WG + li; i < params.n; i += params.groups * WG) {
    let v = x[params.src_base + i];
    acc = combine(acc, vec4<f32>(v, v, v, v * v));
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
    partial[wid.x] = red[0];
  }
}
