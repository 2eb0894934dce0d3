// Lane helpers for the batch-norm passes built from one file at two widths: V, the value one thread
// loads, is f32 in the file, and batchnorm.ts builds each pass's *-vec4 kernel from the same file with
// V = vec4<f32> (planes of a multiple of 4 values start 16-byte aligned: a quarter of the loads). WGSL
// cannot overload a function on its argument type, so these take a V and read its width from the type
// itself, not from a second knob that could disagree with the alias: LANES = |V(1)|² (1 for f32, 4 for
// vec4<f32>) is a compile-time constant, vec4<f32>(v) is v itself for a vec4 and v splatted for a
// scalar, so each select(…, LANES == 4u) folds to one side (the vec4 kernel keeps dot() on vectors, the
// scalar one a plain product) and a branch on LANES compiles to one of its arms.
// Provides: const LANES; hdot(a, b) (dot product), hsum(v) (sum of the lanes), lane0(v) (first lane).
// Expects from the includer: `alias V = f32;`.
const LANES: u32 = u32(length(V(1.0)) * length(V(1.0)));

fn hdot(a: V, b: V) -> f32 {
  let p = vec4<f32>(a);
  let q = vec4<f32>(b);
  return select(p.x * q.x, dot(p, q), LANES == 4u);
}

fn hsum(v: V) -> f32 {
  return hdot(v, V(1.0));
}

fn lane0(v: V) -> f32 {
  return vec4<f32>(v).x;
}
