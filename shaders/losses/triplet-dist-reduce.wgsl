// Triplet loss: sums the column-workgroup partials of triplet-dist into the symmetric [N, N] matrices
// dist (squared distances, exactly 0 on the diagonal) and gram (f_i·f_j; only used when normalising;
// its diagonal is ‖x_i‖² / n_i² from the norms).
// Bindings: partial [G, numPairs] vec2; pairs [numPairs] u32 (i << 16 | j); norms [N] vec2 (NORMALIZE = 1;
// else any read tensor); dist [N, N]; gram [N, N].
// Mapping: thread p (2-D grid) sums pair p over the G partials (coalesced across p); threads p < N also
// write the diagonal entries (p, p).
override WG: u32 = 256;
override NORMALIZE: u32 = 0u;

struct Params { n: u32, numPairs: u32, groups: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> pairs: array<u32>;
@group(0) @binding(3) var<storage, read> norms: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> dist: array<f32>;
@group(0) @binding(5) var<storage, read_write> gram: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = gid.x + gid.y * nwg.x * WG;
  let n = params.n;
  if (p < params.numPairs) {
    var s = vec2<f32>(0.0, 0.0);
    for (var g = 0u; g < params.groups; g++) {
      s += partial[g * params.numPairs + p];
    }
    let pr = pairs[p];
    let i = pr >> 16u;
    let j = pr & 0xffffu;
    dist[i * n + j] = s.x;
    dist[j * n + i] = s.x;
    gram[i * n + j] = s.y;
    gram[j * n + i] = s.y;
  }
  if (p < n) {
    dist[p * n + p] = 0.0;
    var g = 0.0;
    if (NORMALIZE != 0u) {
      let nm = norms[p];
      g = nm.x / (nm.y * nm.y);
    }
    gram[p * n + p] = g;
  }
}
