// Triplet loss: sums the column-workgroup partials of triplet-dist into the symmetric [N, N] matrices
// dist (squared distances, exactly 0 on the diagonal) and gram (f_i·f_j; only used when normalising;
// its diagonal is ‖x_i‖² / n_i² from the norms).
// Bindings: partial [G, N, N] vec2 (valid for i < j); norms [N] vec2 (NORMALIZE = 1; else any read
// tensor); dist [N, N]; gram [N, N].
// Mapping: thread p = i·N + j (2-D grid); threads with i < j sum their pair over the G partials (coalesced
// across p) and write both (i, j) and (j, i); threads with i = j write the diagonal.
override WG: u32 = 256;
override NORMALIZE: u32 = 0u;

struct Params { n: u32, groups: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> norms: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> dist: array<f32>;
@group(0) @binding(4) var<storage, read_write> gram: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = gid.x + gid.y * nwg.x * WG;
  let n = params.n;
  if (p >= n * n) {
    return;
  }
  let i = p / n;
  let j = p - i * n;
  if (i < j) {
    var s = vec2<f32>(0.0, 0.0);
    for (var g = 0u; g < params.groups; g++) {
      s += partial[g * n * n + p];
    }
    dist[p] = s.x;
    dist[j * n + i] = s.x;
    gram[p] = s.y;
    gram[j * n + i] = s.y;
  } else if (i == j) {
    dist[p] = 0.0;
    var g = 0.0;
    if (NORMALIZE != 0u) {
      let nm = norms[i];
      g = nm.x / (nm.y * nm.y);
    }
    gram[p] = g;
  }
}
