// The statistics passes' summary of a set of values (stats, stats-reduce): Acc = (count, mean, M2),
// M2 the sum of squared deviations from the mean, and combine, Chan et al.'s pairwise merge of two
// summaries (exact when either side is empty) — what tree.part.wgsl expects. Merging summaries, never
// sums of squares, keeps every quantity on the scale of the standard deviation (no E[x²] − E[x]²).
alias Acc = vec3<f32>;

fn combine(a: Acc, b: Acc) -> Acc {
  let n = a.x + b.x;
  let wb = select(0.0, b.x / n, n > 0.0);
  let delta = b.y - a.y;
  return vec3<f32>(n, a.y + delta * wb, a.z + b.z + delta * delta * a.x * wb);
}
