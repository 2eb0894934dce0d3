// Triplet loss, eq. (3), with online batch-hard mining (FaceNet's online mining, per batch as Hermans et al.):
//   p(a) = argmax_{j ≠ a, y_j = y_a} D_aj,  n(a) = argmin_{y_j ≠ y_a} D_aj  (ties → smallest index)
//   l_a = max(0, D_ap − D_an + m),  loss = (1/V) Σ_{valid a} l_a  (V anchors with a positive and a negative;
//   V = 0 → loss 0 and an all-zero coefficient matrix, never NaN)
// and the backward as one N×N matrix: ∂loss/∂x = coef · x. With mined indices held fixed,
//   ∂loss/∂f = M f, M accumulating ±2/V per active anchor (hinge > 0) in rows a, p(a), n(a);
// with NORMALIZE (f_i = x_i / n_i) the normalisation's backward gx_i = (gf_i − f_i (f_i·gf_i)) / n_i folds in:
//   coef_ij = M_ij / (n_i n_j) − δ_ij c_i / n_i²,  c_i = f_i·gf_i = Σ_j M_ij gram_ij.
// Bindings: labels [N] i32; dist, gram [N, N]; norms [N] vec2 (NORMALIZE = 1; else any read tensor);
// loss [1]; mined [2N] i32 (hardest positive per anchor, then hardest negative; −1 if invalid);
// perAnchor [N] l_a; coef [N, NP] stored TRANSPOSED, coef[j·NP + i] = coef_ij, NP = N rounded up to 8
// with zero columns, so the backward loads 8 rows' coefficients for one j as two aligned vec4.
// Mapping: ONE workgroup (N is a batch). Thread t mines anchors t, t + WG, …; a tree reduction gives V and
// Σ l (common/workgroup-reduce); after a storage barrier thread t builds coefficient rows t, t + WG, … from every anchor's choice.
override WG: u32 = 256;
override NORMALIZE: u32 = 0u;
alias WgValue = vec2<f32>;
#include "common/workgroup-reduce.part.wgsl"

struct Params { n: u32, np: u32, margin: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read> dist: array<f32>;
@group(0) @binding(3) var<storage, read> gram: array<f32>;
@group(0) @binding(4) var<storage, read> norms: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> mined: array<i32>;
@group(0) @binding(7) var<storage, read_write> perAnchor: array<f32>;
@group(0) @binding(8) var<storage, read_write> coef: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = params.n;
  var acc = vec2<f32>(0.0, 0.0);
  for (var a = li; a < n; a += WG) {
    var p = -1;
    var q = -1;
    var dp = 0.0;
    var dq = 0.0;
    let ya = labels[a];
    for (var j = 0u; j < n; j++) {
      let d = dist[a * n + j];
      if (labels[j] == ya) {
        // strict comparisons keep the first index on ties
        if (j != a && (p < 0 || d > dp)) {
          p = i32(j);
          dp = d;
        }
      } else if (q < 0 || d < dq) {
        q = i32(j);
        dq = d;
      }
    }
    var l = 0.0;
    if (p >= 0 && q >= 0) {
      l = max(0.0, dp - dq + params.margin);
      acc += vec2<f32>(l, 1.0);
    } else {
      p = -1;
      q = -1;
    }
    mined[a] = p;
    mined[n + a] = q;
    perAnchor[a] = l;
  }
  let total = workgroupSum(li, acc);
  let valid = total.y;
  let s = select(0.0, 1.0 / valid, valid > 0.0);
  if (li == 0u) {
    loss[0] = total.x * s;
  }
  storageBarrier();
  let w = 2.0 * s;
  let np = params.np;
  for (var i = li; i < np; i += WG) {
    for (var j = 0u; j < n; j++) {
      coef[j * np + i] = 0.0;
    }
    if (i >= n) {
      continue;
    }
    for (var a = 0u; a < n; a++) {
      if (!(perAnchor[a] > 0.0)) {
        continue;
      }
      let p = u32(mined[a]);
      let q = u32(mined[n + a]);
      // ∂/∂f of D_ap − D_an: anchor 2(f_q − f_p), positive −2(f_a − f_p), negative 2(f_a − f_q)
      if (a == i) {
        coef[q * np + i] += w;
        coef[p * np + i] -= w;
      }
      if (p == i) {
        coef[a * np + i] -= w;
        coef[p * np + i] += w;
      }
      if (q == i) {
        coef[a * np + i] += w;
        coef[q * np + i] -= w;
      }
    }
    if (NORMALIZE != 0u) {
      var c = 0.0;
      for (var j = 0u; j < n; j++) {
        c += coef[j * np + i] * gram[i * n + j];
      }
      let ni = norms[i].y;
      for (var j = 0u; j < n; j++) {
        coef[j * np + i] = coef[j * np + i] / (ni * norms[j].y);
      }
      coef[i * np + i] -= c / (ni * ni);
    }
  }
}
