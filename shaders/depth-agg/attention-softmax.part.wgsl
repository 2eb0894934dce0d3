// The depth attention's softmax over one row, shared by attention-forward and attention-backward (eq. 4–5:
// A_d = softmax_d(x_d), the features are their own logits). Expects x and params.depth (depth-agg/rows).
//   attentionSoftmax(o) = (m, s, g) for the row of x starting at o: m = max_d x_d, s = Σ_d exp(x_d − m),
//   g = Σ_d exp(x_d − m)·x_d / s = Σ_d A_d·x_d (the pooled feature).
// The row maximum is subtracted before exp, so large features cannot overflow.
fn attentionSoftmax(o: u32) -> vec3<f32> {
  var m = x[o];
  for (var d = 1u; d < params.depth; d++) {
    m = max(m, x[o + d]);
  }
  var s = 0.0;
  var g = 0.0;
  for (var d = 0u; d < params.depth; d++) {
    let v = x[o + d];
    let e = exp(v - m);
    s += e;
    g += e * v;
  }
  return vec3<f32>(m, s, g / s);
}
