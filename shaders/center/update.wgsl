// Wen et al.'s center update (their eq. 4 / Algorithm 1), in place:
//   c_j ← c_j − α · Σ_{i: y_i = j} (c_j − x_i) / (1 + n_j),   n_j = #{i : y_i = j}
// Classes absent from the batch (n_j = 0) are unchanged; labels outside [0, K) are ignored here (the
// loss kernel already poisons the loss with NaN for them).
// Bindings: x [N, E] features; labels [N] i32; centers [K, E] updated in place.
// Mapping: one thread per center element (j, f) on a 2-D grid; it loops over the N labels (a batch),
// reading x[i, f] — coalesced across neighbouring threads f.
override WG: u32 = 256;

struct Params { n: u32, e: u32, k: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> centers: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.k * params.e) {
    return;
  }
  let j = i32(idx / params.e);
  let f = idx % params.e;
  let c = centers[idx];
  var count = 0.0;
  var delta = 0.0;
  for (var i = 0u; i < params.n; i++) {
    if (labels[i] == j) {
      count += 1.0;
      delta += c - x[i * params.e + f];
    }
  }
  centers[idx] = c - params.alpha * delta / (1.0 + count);
}
